//! The agent's logs away from a terminal: no colour codes, and the filter
//! set by `TETHER_LOG`. The real binary, its standard error piped.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

/// Runs `tether-agent configure` against a server that is not there, with
/// `TETHER_LOG` set to `filter` (or unset); returns stdout and stderr.
fn configure_nowhere(name: &str, filter: Option<&str>) -> (String, String) {
    let dir = std::env::temp_dir().join(format!("tether-agent-logs-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tether-agent"));
    command
        .arg("--config")
        .arg(dir.join("agent.json"))
        // Port 9 on loopback: nothing listens, the refusal is immediate.
        .args(["configure", "--server", "http://127.0.0.1:9"])
        .env_remove("TETHER_LOG")
        .stdin(Stdio::null());
    if let Some(filter) = filter {
        command.env("TETHER_LOG", filter);
    }
    let output = command.output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.status.success(), "{output:?}");
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let (_, logs) = configure_nowhere("debug", Some("debug"));
    assert!(logs.contains("DEBUG"), "the command logged something: {logs}");
    assert!(!logs.contains('\u{1b}'), "colour codes in piped logs: {logs:?}");
}

#[test]
fn the_person_reads_sentences_and_the_libraries_keep_quiet() {
    let (said, logs) = configure_nowhere("quiet", None);
    assert!(said.contains("server set to http://127.0.0.1:9"), "{said}");
    assert!(said.contains("could not fetch the broker list yet"), "{said}");
    // Away from a terminal the agent logs its own info, libraries only warnings.
    assert!(!logs.contains("DEBUG") && !logs.contains("TRACE"), "{logs}");
    assert!(logs.lines().all(|line| !line.contains(" INFO ") || line.contains("tether_")), "{logs}");
}
