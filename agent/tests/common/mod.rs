//! Test helpers: a real X server (Xvfb) on a display number it picks itself,
//! and a known scene to draw on it.

#![allow(dead_code, clippy::unwrap_used)]

pub mod controller;
pub mod freeze;
pub mod grants;
pub mod session_harness;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ChangeWindowAttributesAux, ConnectionExt, CreateWindowAux, WindowClass};
use x11rb::rust_connection::RustConnection;

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

pub const RED: u32 = 0x00_d0_20_20;
pub const BLUE: u32 = 0x00_20_40_e0;

/// Paints the root red and puts a blue 100×80 window at (40, 30).
pub fn draw_scene(display: &str) -> (RustConnection, u32) {
    let (conn, screen_index) = x11rb::connect(Some(display)).unwrap();
    let screen = &conn.setup().roots[screen_index];
    let root = screen.root;
    conn.change_window_attributes(root, &ChangeWindowAttributesAux::new().background_pixel(RED)).unwrap();
    conn.clear_area(false, root, 0, 0, 0, 0).unwrap();
    let window = conn.generate_id().unwrap();
    conn.create_window(
        screen.root_depth,
        window,
        root,
        40,
        30,
        100,
        80,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &CreateWindowAux::new().background_pixel(BLUE).override_redirect(1),
    )
    .unwrap();
    conn.map_window(window).unwrap();
    conn.get_input_focus().unwrap().reply().unwrap(); // round trip: drawn before we capture
    (conn, window)
}

pub fn bgr(pixel: u32) -> [u8; 3] {
    [(pixel & 0xff) as u8, ((pixel >> 8) & 0xff) as u8, ((pixel >> 16) & 0xff) as u8]
}
