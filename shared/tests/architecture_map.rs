//! ARCHITECTURE.md's code map names only files and folders that exist: each
//! path in backticks under a `### `crate/`` heading is looked up inside
//! that heading's folders (a bare `api.rs` matches any `…/api.rs` there),
//! so a renamed or deleted module cannot leave the map behind.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// Folders no map entry points into.
const SKIPPED: &[&str] = &[".git", "target", "node_modules", "dist", "artifacts"];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// Every file and folder under `root`, as `/`-separated paths relative to
/// the repository, folders with a trailing `/`.
fn walk(repository: &Path, root: &Path, into: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = path.strip_prefix(repository).unwrap().to_string_lossy().replace('\\', "/");
        if path.is_dir() {
            if !SKIPPED.contains(&name.as_str()) {
                into.push(format!("{relative}/"));
                walk(repository, &path, into);
            }
        } else {
            into.push(relative);
        }
    }
}

/// Whether a backticked word is meant as a path in this repository.
fn is_path(word: &str) -> bool {
    let extensions = [".rs", ".sql", ".mjs", ".sh", ".toml", ".md", ".json"];
    word.len() > 1
        && !word.starts_with("../")
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
        && (word.ends_with('/') || extensions.iter().any(|extension| word.ends_with(extension)))
}

/// The words in backticks on `line`.
fn backticked(line: &str) -> impl Iterator<Item = &str> {
    line.split('`').skip(1).step_by(2)
}

#[test]
fn every_path_in_the_code_map_exists() {
    let repository = repository();
    let text = std::fs::read_to_string(repository.join("ARCHITECTURE.md")).unwrap();
    let map = text.split("\n## Code map").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut all = Vec::new();
    walk(&repository, &repository, &mut all);

    let mut roots: Vec<String> = Vec::new();
    let mut missing = Vec::new();
    let mut checked = 0;
    for line in map.lines() {
        if let Some(heading) = line.strip_prefix("### ") {
            roots =
                backticked(heading).filter(|word| is_path(word) || word.starts_with('.')).map(str::to_owned).collect();
            continue;
        }
        for word in backticked(line).filter(|word| is_path(word)) {
            checked += 1;
            let found = all.iter().any(|path| {
                path == word
                    || roots.iter().any(|root| {
                        path.strip_prefix(root.as_str())
                            .is_some_and(|inside| inside == word || inside.ends_with(&format!("/{word}")))
                    })
            });
            if !found {
                missing.push(format!("`{word}` (under {roots:?})"));
            }
        }
    }
    assert!(checked > 100, "the code map names only {checked} paths: is the heading still `## Code map`?");
    assert!(missing.is_empty(), "ARCHITECTURE.md's code map names paths that do not exist:\n{}", missing.join("\n"));
}
