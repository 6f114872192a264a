//! Logs written anywhere but a terminal (a pipe, a file, a journal) carry
//! no colour codes: the real binary, its standard error piped.

#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

#[test]
fn logs_to_a_pipe_have_no_colour_codes() {
    let dir = std::env::temp_dir().join(format!("tether-plain-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}?mode=rwc", dir.join("tether.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_tether-server"))
        .args(["admin", "create", "--username", "root", "--database-url", &database_url, "--data-dir"])
        .arg(dir.join("data"))
        .env("TETHER_LOG", "debug")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{output:?}");
    assert!(logs.contains("DEBUG"), "the command logged something: {logs}");
    assert!(!logs.contains('\u{1b}'), "colour codes in piped logs: {logs:?}");
}
