//! Screen capture through scap, for desktops X11 capture cannot reach: the
//! xdg-desktop-portal ScreenCast API over PipeWire on Wayland,
//! ScreenCaptureKit on macOS, Windows Graphics Capture. Built only with the
//! `scap` cargo feature (Linux builds then need the PipeWire and D-Bus
//! development files and libclang).
//!
//! scap pushes frames when the screen changes; a thread of ours keeps the
//! latest, and [`ScapCapturer::grab_into`] hands out a copy of it, so the
//! capture loop paces itself exactly as with X11. The pointer is drawn into
//! the picture here (there is no XFixes to report it separately).

use super::ScreenCapture;
use crate::frame::Frame;
use anyhow::Context;
use scap::capturer::{Capturer, Options};
use scap::frame::{Frame as ScapFrame, FrameType};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use tether_shared::monitor::Area;

/// How long the portal (and the user's consent dialog) may take to deliver
/// the first frame.
const FIRST_FRAME_TIMEOUT: Duration = Duration::from_secs(60);

/// The latest frame, shared with the thread that receives them.
#[derive(Default)]
struct Latest {
    frame: Mutex<Option<Frame>>,
    arrived: Condvar,
}

/// Captures the main display through scap.
pub struct ScapCapturer {
    latest: Arc<Latest>,
    stop: Arc<AtomicBool>,
    current: Frame,
}

impl std::fmt::Debug for ScapCapturer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScapCapturer").finish_non_exhaustive()
    }
}

/// Whether scap rather than X11 should capture: always off Linux; on Linux
/// in a Wayland session unless an X display was named.
pub fn preferred(display: Option<&str>) -> bool {
    !cfg!(target_os = "linux") || (display.is_none() && std::env::var_os("WAYLAND_DISPLAY").is_some())
}

impl ScapCapturer {
    /// Starts capturing at up to `fps` frames a second; waits for the first frame.
    pub fn open(fps: u32) -> anyhow::Result<Self> {
        if !scap::is_supported() {
            anyhow::bail!("scap cannot capture the screen on this system");
        }
        if !scap::has_permission() && !scap::request_permission() {
            anyhow::bail!("permission to capture the screen was refused");
        }
        let options = Options {
            fps,
            show_cursor: true,
            show_highlight: false,
            output_type: FrameType::BGRAFrame,
            ..Options::default()
        };
        let latest = Arc::new(Latest::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_latest, thread_stop) = (Arc::clone(&latest), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("tether-scap".into())
            .spawn(move || receive(options, &thread_latest, &thread_stop))
            .context("cannot start the scap thread")?;
        let guard = latest.frame.lock().map_err(|_| anyhow::anyhow!("the scap thread failed"))?;
        let (mut guard, timeout) = latest
            .arrived
            .wait_timeout_while(guard, FIRST_FRAME_TIMEOUT, |frame| frame.is_none())
            .map_err(|_| anyhow::anyhow!("the scap thread failed"))?;
        if timeout.timed_out() {
            stop.store(true, Ordering::Release);
            anyhow::bail!("no frame from the screen-capture portal within {FIRST_FRAME_TIMEOUT:?}");
        }
        let current = guard.take().unwrap_or_default();
        drop(guard);
        Ok(Self { latest, stop, current })
    }
}

impl ScreenCapture for ScapCapturer {
    fn grab_into(&mut self, frame: &mut Frame, area: Option<Area>) -> anyhow::Result<()> {
        let newer = self.latest.frame.lock().map_err(|_| anyhow::anyhow!("the scap thread failed"))?.take();
        if let Some(newer) = newer {
            self.current = newer;
        }
        match area {
            None => frame.clone_from(&self.current),
            Some(area) => self.current.copy_area(area, frame),
        }
        Ok(())
    }
}

impl Drop for ScapCapturer {
    fn drop(&mut self) {
        // The thread stops after its next frame.
        self.stop.store(true, Ordering::Release);
    }
}

fn receive(options: Options, latest: &Latest, stop: &AtomicBool) {
    let mut capturer = match Capturer::build(options) {
        Ok(capturer) => capturer,
        Err(err) => {
            tracing::error!(error = %err, "scap cannot capture");
            return;
        }
    };
    capturer.start_capture();
    while !stop.load(Ordering::Acquire) {
        let Ok(frame) = capturer.get_next_frame() else { break };
        let Some(frame) = to_bgrx(frame) else { continue };
        let Ok(mut slot) = latest.frame.lock() else { break };
        *slot = Some(frame);
        latest.arrived.notify_all();
    }
    capturer.stop_capture();
}

/// A scap frame as our BGRX; `None` for formats we do not take (YUV).
fn to_bgrx(frame: ScapFrame) -> Option<Frame> {
    let (width, height, data, order): (i32, i32, Vec<u8>, [usize; 3]) = match frame {
        ScapFrame::BGRA(f) => (f.width, f.height, f.data, [0, 1, 2]),
        ScapFrame::BGRx(f) => (f.width, f.height, f.data, [0, 1, 2]),
        ScapFrame::BGR0(f) => (f.width, f.height, f.data, [0, 1, 2]),
        ScapFrame::RGBx(f) => (f.width, f.height, f.data, [2, 1, 0]),
        ScapFrame::XBGR(f) => (f.width, f.height, f.data, [3, 2, 1]),
        ScapFrame::RGB(_) | ScapFrame::YUVFrame(_) => return None,
    };
    let (width, height) = (usize::try_from(width).ok()?, usize::try_from(height).ok()?);
    // Rows are taken as tightly packed (scap passes no stride).
    let pixels = data.get(..width * height * 4)?;
    let mut bgrx = Vec::with_capacity(pixels.len());
    for pixel in pixels.chunks_exact(4) {
        bgrx.extend_from_slice(&[pixel[order[0]], pixel[order[1]], pixel[order[2]], 255]);
    }
    Some(Frame { width, height, data: bgrx })
}
