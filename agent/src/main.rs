//! The Tether agent's entry point. Capture, encoding, WebRTC and consent
//! arrive with the live-screen and broker-session work; for now it reports
//! its version so packaging and the workspace layout are in place.

use clap::Parser;

/// Tether agent: lets a technician assist this computer, with your consent.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    println!("tether-agent {}", env!("CARGO_PKG_VERSION"));
}
