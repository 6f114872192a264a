//! The operating system behind small interfaces: which displays there are,
//! screen capture ([`ScreenCapture`]: X11 MIT-SHM, or scap with the `scap`
//! feature) and the pointer. Linux/X11 first; other platforms plug in
//! here, not in the logic that uses them.

mod big_text;
#[cfg(feature = "scap")]
pub mod scap_capture;
pub mod x11;
pub mod x11_bar;
mod x11_beneath;
pub mod x11_capture;
pub mod x11_cursor;
pub mod x11_damage;
pub mod x11_overlay;
pub mod x11_physical;
pub mod x11_privacy;

use crate::frame::Frame;

use tether_shared::agent::DisplayInfo;
use tether_shared::input::ScreenSize;
use tether_shared::monitor::{Area, Monitor};

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

/// What a capturer knows about the screen since its last grab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// It cannot tell: grab and compare.
    Unknown,
    /// Nothing was drawn.
    Still,
    /// Something was drawn (it may still look the same).
    Drawn,
}

/// The screen's size and its monitors, as the platform reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub screen: ScreenSize,
    pub monitors: Vec<Monitor>,
}

/// A source of screen frames, polled by the capture loop.
pub trait ScreenCapture {
    /// Captures `area` of the screen as it is now (the whole screen when
    /// `None`) into `frame`, reusing its buffer.
    fn grab_into(&mut self, frame: &mut Frame, area: Option<Area>) -> anyhow::Result<()>;

    /// Whether anything was drawn since the last grab; never blocks.
    fn damage(&mut self) -> anyhow::Result<Damage> {
        Ok(Damage::Unknown)
    }

    /// The screen's size and monitors, where the platform can tell (a
    /// capturer that cannot only ever shows the whole screen).
    fn layout(&mut self) -> anyhow::Result<Option<Layout>> {
        Ok(None)
    }
}

/// The capturer for `display` (or the session's own display): X11, or scap
/// where it is built in and the desktop is not X11 (Wayland, macOS, Windows).
/// X11 capture looks beneath the privacy screen `cover` tells of.
pub fn open_capture(
    display: Option<&str>,
    max_fps: u32,
    cover: x11_privacy::Cover,
) -> anyhow::Result<Box<dyn ScreenCapture>> {
    #[cfg(feature = "scap")]
    if scap_capture::preferred(display) {
        return Ok(Box::new(scap_capture::ScapCapturer::open(max_fps)?));
    }
    let _ = max_fps; // X11 capture is polled: it has no rate of its own.
    Ok(Box::new(x11_capture::X11Capturer::open(display)?.beneath(cover)))
}
