//! The operating system behind small interfaces: which displays there are
//! (and, with the live-screen work, capture and input). Linux/X11 today;
//! other platforms plug in here, not in the logic that uses them.

pub mod x11;
pub mod x11_capture;

use tether_shared::agent::DisplayInfo;

/// The displays of the local desktop, or none when there is no desktop
/// session to reach (e.g. `DISPLAY` unset).
pub fn displays() -> Vec<DisplayInfo> {
    if std::env::var_os("DISPLAY").is_none() {
        return Vec::new();
    }
    match x11::displays() {
        Ok(displays) => displays,
        Err(err) => {
            tracing::warn!(error = %err, "cannot list X11 displays");
            Vec::new()
        }
    }
}
