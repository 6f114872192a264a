//! The agent's watcher of the person's own keyboard and mouse
//! (`platform::x11_physical`) on its own, for the tests that run it on a
//! computer with physical devices (the test VM): prints what it reports as
//! JSON lines — `{"report":"activity"}` (at most one a second),
//! `{"report":"locked","devices":N}`, `{"report":"lock_failed","reason":…}`,
//! `{"report":"escaped"}`, `{"report":"covered","monitors":N}`,
//! `{"report":"cover_failed","reason":…}` — and with `--lock` locks them at
//! once, with `--privacy` puts the privacy screen up over the lock too
//! (`platform::x11_privacy`, saying the technician is "Tess Technician").
//! Runs on `$DISPLAY` until killed.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tether_agent::platform::x11_physical::{PhysicalInput, Report};
use tether_agent::platform::x11_privacy::Cover;
use tether_shared::privacy::screen_lines;

fn main() -> anyhow::Result<()> {
    let privacy = std::env::args().any(|arg| arg == "--privacy");
    let lock = privacy || std::env::args().any(|arg| arg == "--lock");
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
            Report::Covered { monitors } => serde_json::json!({ "report": "covered", "monitors": monitors }),
            Report::CoverFailed(reason) => serde_json::json!({ "report": "cover_failed", "reason": reason }),
        };
        println!("{line}");
    };
    let physical = PhysicalInput::open(None, print, Cover::default())?;
    println!("{}", serde_json::json!({ "report": "watching" }));
    if lock {
        physical.lock();
    }
    if privacy {
        physical.cover(Some(screen_lines("Tess Technician")));
    }
    // Until killed: the watcher's thread does the work.
    loop {
        std::thread::park();
    }
}
