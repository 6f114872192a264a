//! The live screen: a capture thread grabs the display at the quality
//! preset's frame rate (only when something was drawn, where the platform
//! can tell: [`should_grab`]), scales it to the preset's size and encodes only
//! what [`should_send`] allows; an async task writes each access unit to the
//! video track as one sample; another turns the viewer's key-frame requests
//! into the next frame's kind. Quality changes reach the capture thread
//! through [`StreamControls`] and apply from the next frame (a key frame).
//! Dropping [`Stream`] stops all three.

use super::keyframe::is_keyframe_request;
use super::pacing::{DAMAGE_POLL, FrameKind, frame_period, should_grab, should_send};
use super::rtp_clock::RtpClock;
use crate::encode::H264Encoder;
use crate::frame::{Frame, Scaler, changed};
use crate::platform::x11_privacy::Cover;
use crate::platform::{self, Layout, ScreenCapture};
use anyhow::Context;
use bytes::Bytes;
use rtc::media::Sample;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tether_shared::control::QualityPreset;
use tether_shared::input::ScreenSize;
use tether_shared::monitor::{Area, Monitor, View, shown, tidy};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};

/// The part of the screen being streamed (a monitor, or all of it), once
/// known; shared with the input decoder, which checks coordinates against
/// its size and places them on the screen by its corner.
#[derive(Debug, Clone, Default)]
pub struct ShownArea(Arc<Mutex<Option<Area>>>);

impl ShownArea {
    pub fn get(&self) -> Option<Area> {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set(&self, area: Area) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(area);
    }
}

/// The monitors capture last saw and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Showing {
    pub monitors: Vec<Monitor>,
    pub view: View,
}

/// What the stream runs with now: the preset and the real screen size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub preset: QualityPreset,
    pub screen: ScreenSize,
}

/// What the session's parts share about its stream, cheap to clone: the
/// screen size (for the input decoder), the preset the controller asked for
/// (for the capture thread) and what capture applied (for the control
/// channel), and which window the privacy screen covers the display with
/// (for capture to look beneath). Lives as long as the session, before and
/// after streaming.
#[derive(Debug, Clone)]
pub struct StreamControls {
    area: ShownArea,
    cover: Cover,
    requested: Arc<watch::Sender<QualityPreset>>,
    applied: Arc<watch::Sender<Option<Applied>>>,
    view: Arc<watch::Sender<View>>,
    showing: Arc<watch::Sender<Option<Showing>>>,
}

impl StreamControls {
    /// Controls that start with `preset`, capture looking beneath `cover`.
    pub fn new(preset: QualityPreset, cover: Cover) -> Self {
        Self {
            area: ShownArea::default(),
            cover,
            requested: Arc::new(watch::Sender::new(preset)),
            applied: Arc::new(watch::Sender::new(None)),
            view: Arc::new(watch::Sender::new(View::All)),
            showing: Arc::new(watch::Sender::new(None)),
        }
    }

    /// The streamed part of the screen, once capture has seen it.
    pub fn area(&self) -> &ShownArea {
        &self.area
    }

    /// Asks to show `view` from the next frame on; `false` if it was
    /// already the one asked for.
    pub fn show(&self, view: View) -> bool {
        self.view.send_if_modified(|current| {
            let changed = *current != view;
            *current = view;
            changed
        })
    }

    /// The monitors and what is shown, as they change (`None` before
    /// capture starts).
    pub fn showing(&self) -> watch::Receiver<Option<Showing>> {
        self.showing.subscribe()
    }

    fn publish_showing(&self, showing: Showing) {
        self.showing.send_if_modified(|current| {
            let changed = current.as_ref() != Some(&showing);
            *current = Some(showing);
            changed
        });
    }

    /// Asks for `preset` from the next frame on; `false` if it was already
    /// the one asked for.
    pub fn request(&self, preset: QualityPreset) -> bool {
        self.requested.send_if_modified(|current| {
            let changed = *current != preset;
            *current = preset;
            changed
        })
    }

    /// What capture applies, as it changes (`None` before it starts).
    pub fn applied(&self) -> watch::Receiver<Option<Applied>> {
        self.applied.subscribe()
    }

    /// Says what capture runs with; wakes watchers only on a change.
    fn publish(&self, applied: Applied) {
        self.applied.send_if_modified(|current| {
            let changed = *current != Some(applied);
            *current = Some(applied);
            changed
        });
    }
}

/// Where and how to stream.
#[derive(Clone)]
pub struct StreamTarget {
    pub track: Arc<TrackLocalStaticSample>,
    pub ssrc: u32,
    pub payload_type: u8,
}

impl std::fmt::Debug for StreamTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTarget").field("ssrc", &self.ssrc).field("payload_type", &self.payload_type).finish()
    }
}

/// One encoded access unit and when its picture was captured.
struct AccessUnit {
    data: Vec<u8>,
    captured_at: Instant,
}

/// A running stream; dropping it stops capture and both tasks.
#[derive(Debug)]
pub struct Stream {
    writer: JoinHandle<()>,
    key_requests: JoinHandle<()>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        // The capture thread notices the writer's channel closing within a frame.
        self.writer.abort();
        self.key_requests.abort();
    }
}

/// Starts streaming `display` (or `$DISPLAY`) to `target`. When streaming
/// fails, `stopped` receives the reason.
pub fn start(
    target: StreamTarget,
    display: Option<String>,
    controls: StreamControls,
    stopped: oneshot::Sender<String>,
) -> anyhow::Result<Stream> {
    let key_requested = Arc::new(AtomicBool::new(false));
    let (frames, received) = mpsc::channel(2);
    let (finished, capture_result) = oneshot::channel();
    let capture = Capture { display, controls, key_requested: Arc::clone(&key_requested) };
    std::thread::Builder::new()
        .name("tether-capture".into())
        .spawn(move || {
            // The receiver is gone only if the stream was dropped; nobody to tell then.
            let _ = finished.send(capture.run(&frames));
        })
        .context("cannot start the capture thread")?;
    let writer = tokio::spawn(write_frames(target.clone(), received, capture_result, stopped));
    let key_requests = tokio::spawn(watch_key_requests(target.track, key_requested));
    Ok(Stream { writer, key_requests })
}

/// The capture thread's state.
struct Capture {
    display: Option<String>,
    controls: StreamControls,
    key_requested: Arc<AtomicBool>,
}

impl Capture {
    /// Captures until `frames` closes; returns early only on failure.
    fn run(self, frames: &mpsc::Sender<AccessUnit>) -> anyhow::Result<()> {
        let mut requested = self.controls.requested.subscribe();
        let mut preset = *requested.borrow_and_update();
        let mut view = self.controls.view.subscribe();
        let mut layout = LayoutWatch::default();
        let max_fps = preset.settings().max_fps;
        let mut capturer = platform::open_capture(self.display.as_deref(), max_fps, self.controls.cover.clone())?;
        let mut encoder = H264Encoder::new(preset.settings().into())?;
        let mut scaler = Scaler::default();
        let mut grabbed = Frame::default();
        let mut last_sent: Option<Frame> = None;
        let mut last_sent_at: Option<Instant> = None;
        let mut next_tick = Instant::now();
        // A grabbed change the encoder did not send: grab again next tick
        // even if nothing new is drawn.
        let mut unsent_change = false;
        while !frames.is_closed() {
            // Err only once the controls are gone, which they are not while we run.
            if requested.has_changed().unwrap_or(false) {
                preset = *requested.borrow_and_update();
                encoder.reconfigure(preset.settings().into())?;
                // The next frame is a key frame, at the new size.
                last_sent_at = None;
                tracing::info!(?preset, "stream quality changed");
            }
            let now = Instant::now();
            if next_tick > now {
                // Pacing the capture rate, not waiting for a condition.
                std::thread::sleep(next_tick - now);
            }
            if layout.check(capturer.as_mut(), &mut view)? {
                if layout.take_fell_back() {
                    self.controls.show(View::All);
                    view.borrow_and_update();
                }
                if let Some(area) = layout.area() {
                    self.controls.area.set(area);
                }
                self.controls.publish_showing(layout.showing());
                // Another part of the screen: start it with a key frame.
                last_sent_at = None;
                last_sent = None;
            }
            let since_last = last_sent_at.map(|at| at.elapsed());
            let key_pending = self.key_requested.load(Ordering::Acquire);
            if !should_grab(capturer.damage()?, key_pending, unsent_change, since_last) {
                // Nothing drawn: look again shortly; the next grab may then
                // come at once (the last one was over a frame period ago).
                std::thread::sleep(DAMAGE_POLL);
                continue;
            }
            let captured_at = Instant::now();
            let period = frame_period(preset.settings().max_fps);
            // Keep the cadence; after a pause or an overrun, start it afresh.
            next_tick = if next_tick + period > captured_at { next_tick + period } else { captured_at + period };
            capturer.grab_into(&mut grabbed, layout.area())?;
            let screen = ScreenSize { width: u32::try_from(grabbed.width)?, height: u32::try_from(grabbed.height)? };
            if layout.area().is_none() {
                self.controls.area.set(Area::whole(screen));
            }
            self.controls.publish(Applied { preset, screen });
            let screen_changed = changed(last_sent.as_ref(), &grabbed);
            let key_requested = self.key_requested.swap(false, Ordering::AcqRel);
            let since_last = last_sent_at.map(|at| captured_at.saturating_duration_since(at));
            unsent_change = false;
            let Some(kind) = should_send(screen_changed, key_requested, since_last) else {
                continue;
            };
            let stream = preset.settings().stream_size(screen);
            let picture = if (stream.width, stream.height) == (screen.width & !1, screen.height & !1) {
                // Full size: the encoder drops an odd last column or row itself.
                &grabbed
            } else {
                scaler.scale(&grabbed, usize::try_from(stream.width)?, usize::try_from(stream.height)?)?
            };
            match encoder.encode(picture, kind == FrameKind::Key)? {
                Some(encoded) => {
                    if frames.blocking_send(AccessUnit { data: encoded.data, captured_at }).is_err() {
                        break;
                    }
                    let previous = last_sent.replace(std::mem::take(&mut grabbed));
                    grabbed = previous.unwrap_or_default();
                    last_sent_at = Some(captured_at);
                }
                // Rate control skipped the frame: the change (and any key
                // frame request) stays pending for the next tick.
                None => {
                    unsent_change = screen_changed;
                    if key_requested {
                        self.key_requested.store(true, Ordering::Release);
                    }
                }
            }
        }
        Ok(())
    }
}

/// How often the monitors are looked at again (for monitors plugged in
/// or out, and screen size changes).
const LAYOUT_EVERY: Duration = Duration::from_secs(1);

/// The capture thread's record of the monitors and the part shown.
#[derive(Debug, Default)]
struct LayoutWatch {
    checked_at: Option<Instant>,
    layout: Option<Layout>,
    /// The area shown (`None`: the whole screen, where the capturer cannot
    /// list monitors) and the view in force.
    shown: Option<Area>,
    view: View,
    /// The monitor asked for is not there: the whole screen shows instead.
    fell_back: bool,
}

impl LayoutWatch {
    /// Looks at the monitors again when it is time or the technician asked
    /// for another view; whether what is shown (or the list) changed.
    fn check(&mut self, capturer: &mut dyn ScreenCapture, view: &mut watch::Receiver<View>) -> anyhow::Result<bool> {
        let asked = view.has_changed().unwrap_or(false);
        if !asked && self.checked_at.is_some_and(|at| at.elapsed() < LAYOUT_EVERY) {
            return Ok(false);
        }
        let wanted = view.borrow_and_update().clone();
        let first = self.checked_at.is_none();
        self.checked_at = Some(Instant::now());
        let layout = capturer.layout()?;
        let (area, in_force) = match &layout {
            Some(layout) => {
                let (area, in_force) = shown(&wanted, &layout.monitors, layout.screen);
                (Some(area), in_force)
            }
            None => (None, View::All),
        };
        let changed = first || area != self.shown || in_force != self.view || layout != self.layout;
        if in_force != wanted {
            tracing::info!(?wanted, "that monitor is not there; showing the whole screen");
            self.fell_back = true;
        }
        (self.layout, self.shown, self.view) = (layout, area, in_force);
        Ok(changed)
    }

    /// Whether the monitor asked for went away (or never was) since last
    /// asked: the request is then dropped, so that plugging it in again
    /// does not switch the picture under the technician.
    fn take_fell_back(&mut self) -> bool {
        std::mem::take(&mut self.fell_back)
    }

    /// The area to grab (`None`: the whole screen).
    fn area(&self) -> Option<Area> {
        self.shown
    }

    fn showing(&self) -> Showing {
        let monitors = self.layout.as_ref().map(|layout| tidy(layout.monitors.clone())).unwrap_or_default();
        Showing { monitors, view: self.view.clone() }
    }
}

/// Writes access units to the track, one sample each, with RTP timestamps
/// that follow capture times (see [`RtpClock`]).
async fn write_frames(
    target: StreamTarget,
    mut frames: mpsc::Receiver<AccessUnit>,
    capture_result: oneshot::Receiver<anyhow::Result<()>>,
    stopped: oneshot::Sender<String>,
) {
    let mut clock = RtpClock::default();
    let mut failed_writes = 0_u64;
    while let Some(unit) = frames.recv().await {
        let gap = clock.advance(unit.captured_at);
        let samples = [
            (!gap.is_zero()).then(|| Sample { data: Bytes::new(), duration: gap, ..Sample::new(unit.captured_at) }),
            Some(Sample { data: Bytes::from(unit.data), duration: Duration::ZERO, ..Sample::new(unit.captured_at) }),
        ];
        for sample in samples.iter().flatten() {
            if let Err(err) = target.track.write_sample(target.ssrc, target.payload_type, sample, &[]).await {
                // A dropped frame heals with the next key frame request;
                // the session ends through the connection state if the
                // peer is gone.
                failed_writes += 1;
                if failed_writes.is_power_of_two() {
                    tracing::warn!(error = %err, failed_writes, "cannot send a video frame");
                }
            }
        }
    }
    let reason = match capture_result.await {
        Ok(Ok(())) => return,
        Ok(Err(err)) => format!("screen capture failed: {err:#}"),
        Err(_) => "the screen capture thread stopped unexpectedly".to_owned(),
    };
    tracing::warn!(%reason, "streaming stopped");
    // Nobody listens only when the session is already ending.
    let _ = stopped.send(reason);
}

/// Turns the viewer's PLI and FIR into a key frame on the next tick.
async fn watch_key_requests(track: Arc<TrackLocalStaticSample>, key_requested: Arc<AtomicBool>) {
    while let Some(event) = track.poll().await {
        if let TrackLocalEvent::OnRtcpPacket(packets) = event
            && packets.iter().any(|packet| is_keyframe_request(packet.as_ref()))
        {
            tracing::debug!("the viewer asked for a key frame");
            key_requested.store(true, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_say_what_changed() {
        let controls = StreamControls::new(QualityPreset::Balanced, Cover::default());
        let mut applied = controls.applied();
        assert_eq!(*applied.borrow_and_update(), None);
        assert!(!controls.request(QualityPreset::Balanced), "already asked for");
        assert!(controls.request(QualityPreset::Speed));
        assert_eq!(*controls.requested.subscribe().borrow(), QualityPreset::Speed);
        let hd = Applied { preset: QualityPreset::Speed, screen: ScreenSize { width: 1280, height: 720 } };
        controls.clone().publish(hd);
        assert!(applied.has_changed().expect("open"));
        assert_eq!(*applied.borrow_and_update(), Some(hd));
        controls.publish(hd);
        assert!(!applied.has_changed().expect("open"), "the same again wakes nobody");
    }

    #[test]
    fn the_shown_area_starts_unknown_and_keeps_the_last_one() {
        let cell = ShownArea::default();
        assert_eq!(cell.get(), None);
        cell.set(Area { x: 1280, y: 0, width: 1280, height: 720 });
        cell.clone().set(Area { x: 0, y: 0, width: 70_000, height: 3 });
        assert_eq!(cell.get(), Some(Area { x: 0, y: 0, width: 70_000, height: 3 }));
    }
}
