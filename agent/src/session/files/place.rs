//! Where the files tool reads and writes on this computer: incoming files
//! go to one folder (`TETHER_FILES_DIR`, else `XDG_DOWNLOAD_DIR`, else
//! `~/Downloads`); the technician browses and takes files below one root
//! (`TETHER_BROWSE_ROOT`, else the home folder), never outside it, not
//! even through a symbolic link.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;
use tether_shared::files::name::check_path_component;
use tether_shared::files::wire::{Entry, MAX_LISTED_ENTRIES};

/// The folders the files tool uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesConfig {
    /// Where incoming files are saved (created when first needed).
    pub incoming: PathBuf,
    /// What the technician may browse and take files from; `None`: nothing.
    pub browse_root: Option<PathBuf>,
}

impl FilesConfig {
    /// The folders from the environment, as the module says.
    pub fn from_environment() -> Self {
        let var = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty()).map(PathBuf::from);
        let home = var("HOME");
        let incoming = var("TETHER_FILES_DIR")
            .or_else(|| var("XDG_DOWNLOAD_DIR"))
            .or_else(|| home.as_ref().map(|home| home.join("Downloads")))
            .unwrap_or_else(|| PathBuf::from("Downloads"));
        Self { incoming, browse_root: var("TETHER_BROWSE_ROOT").or(home) }
    }
}

/// The file or folder at `path` below `root`: each component checked, the
/// result resolved (symbolic links followed) and still below `root`.
pub fn resolve(root: Option<&Path>, path: &[String]) -> Result<PathBuf, String> {
    let Some(root) = root else {
        return Err("this computer shares no folder to browse".into());
    };
    let root = std::fs::canonicalize(root).map_err(|err| format!("the shared folder cannot be read: {err}"))?;
    let mut joined = root.clone();
    for component in path {
        let safe = check_path_component(component).map_err(|bad| format!("{bad}"))?;
        joined.push(safe.as_str());
    }
    let resolved = std::fs::canonicalize(&joined).map_err(|err| format!("{}: {err}", shown(path)))?;
    if !resolved.starts_with(&root) {
        return Err(format!("{} leads outside the shared folder", shown(path)));
    }
    Ok(resolved)
}

/// `path` as the technician reads it: "~/Documents/report.pdf".
pub fn shown(path: &[String]) -> String {
    std::iter::once("~").chain(path.iter().map(String::as_str)).collect::<Vec<_>>().join("/")
}

/// The folder at `path`: folders first, then files, each by name (names
/// that are not UTF-8, and entries that cannot be read, are left out);
/// the entries beyond [`MAX_LISTED_ENTRIES`] are counted. Blocking.
pub fn list(root: Option<&Path>, path: &[String]) -> Result<(Vec<Entry>, u64), String> {
    let folder = resolve(root, path)?;
    let reader = std::fs::read_dir(&folder).map_err(|err| format!("{}: {err}", shown(path)))?;
    let mut entries: Vec<Entry> = reader
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let metadata = std::fs::metadata(entry.path()).ok()?;
            let modified = metadata
                .modified()
                .ok()
                .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
                .and_then(|since| i64::try_from(since.as_millis()).ok());
            let folder = metadata.is_dir();
            Some(Entry { name, folder, size: if folder { 0 } else { metadata.len() }, modified })
        })
        .collect();
    entries.sort_by(|a, b| b.folder.cmp(&a.folder).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase())));
    let more = entries.len().saturating_sub(MAX_LISTED_ENTRIES) as u64;
    entries.truncate(MAX_LISTED_ENTRIES);
    Ok((entries, more))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn folder() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tether-place-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(dir.join("Documents")).unwrap();
        std::fs::write(dir.join("b.txt"), b"bee").unwrap();
        std::fs::write(dir.join("A.txt"), b"a").unwrap();
        dir
    }

    #[test]
    fn a_listing_puts_folders_first_then_names_in_order() {
        let root = folder();
        let (entries, more) = list(Some(&root), &[]).unwrap();
        let names: Vec<_> = entries.iter().map(|entry| (entry.name.as_str(), entry.folder, entry.size)).collect();
        assert_eq!(names, vec![("Documents", true, 0), ("A.txt", false, 1), ("b.txt", false, 3)]);
        assert_eq!(more, 0);
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn nothing_outside_the_root_is_reached() {
        let root = folder();
        let outside = root.with_extension("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
        for path in
            [vec!["..".to_owned()], vec!["/etc".to_owned()], vec!["escape".to_owned()], vec!["a/../..".to_owned()]]
        {
            assert!(resolve(Some(&root), &path).is_err(), "{path:?} was resolved");
        }
        assert!(resolve(None, &[]).is_err());
        assert_eq!(
            resolve(Some(&root), &["Documents".to_owned()]).unwrap(),
            root.canonicalize().unwrap().join("Documents")
        );
        assert_eq!(shown(&["Documents".to_owned(), "a.txt".to_owned()]), "~/Documents/a.txt");
        std::fs::remove_dir_all(root).unwrap();
        std::fs::remove_dir_all(outside).unwrap();
    }
}
