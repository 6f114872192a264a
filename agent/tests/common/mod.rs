//! Test helpers: a real X server (Xvfb) on a display number it picks itself.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An Xvfb process, stopped (by its PID) when dropped.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb with one screen of `width`×`height`×24 and waits until it
    /// reports its display number (`-displayfd`), with a deadline.
    pub fn start(width: u32, height: u32) -> Self {
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0", &format!("{width}x{height}x24")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is needed for these tests (Debian package xvfb; scripts/test.sh installs it)");
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let line = receiver.recv_timeout(deadline - Instant::now()).expect("Xvfb reported no display in time");
        let number: u32 = line.trim().parse().expect("Xvfb display number");
        Self { child, display: format!(":{number}") }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
