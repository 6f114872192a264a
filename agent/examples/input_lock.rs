//! The agent's watcher of the person's own keyboard and mouse
//! (`platform::x11_physical`) on its own, for the tests that run it on a
//! computer with physical devices (the test VM): prints what it reports as
//! JSON lines — `{"report":"activity"}` (at most one a second),
//! `{"report":"locked","devices":N}`, `{"report":"lock_failed","reason":…}`,
//! `{"report":"escaped"}` — and with `--lock` locks them at once. Runs on
//! `$DISPLAY` until killed.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tether_agent::platform::x11_physical::{PhysicalInput, Report};

fn main() -> anyhow::Result<()> {
    let lock = std::env::args().any(|arg| arg == "--lock");
    let last_activity = Mutex::new(None::<Instant>);
    let print = move |report: Report| {
        let line = match report {
            Report::Activity => {
                let mut last = last_activity.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if last.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
                    return;
                }
                *last = Some(Instant::now());
                serde_json::json!({ "report": "activity" })
            }
            Report::Locked { devices } => serde_json::json!({ "report": "locked", "devices": devices }),
            Report::LockFailed(reason) => serde_json::json!({ "report": "lock_failed", "reason": reason }),
            Report::Escaped => serde_json::json!({ "report": "escaped" }),
        };
        println!("{line}");
    };
    let physical = PhysicalInput::open(None, print)?;
    println!("{}", serde_json::json!({ "report": "watching" }));
    if lock {
        physical.lock();
    }
    // Until killed: the watcher's thread does the work.
    loop {
        std::thread::park();
    }
}
