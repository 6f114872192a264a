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
use crate::platform;
use anyhow::Context;
use bytes::Bytes;
use rtc::media::Sample;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tether_shared::control::QualityPreset;
use tether_shared::input::ScreenSize;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};

/// The size of the display being streamed, once known; shared with the
/// input decoder, which checks coordinates against it.
#[derive(Debug, Clone, Default)]
pub struct ScreenSizeCell(Arc<AtomicU64>);

impl ScreenSizeCell {
    pub fn get(&self) -> Option<ScreenSize> {
        let packed = self.0.load(Ordering::Acquire);
        (packed != 0).then_some(ScreenSize { width: (packed >> 32) as u32, height: packed as u32 })
    }

    fn set(&self, size: ScreenSize) {
        self.0.store((u64::from(size.width) << 32) | u64::from(size.height), Ordering::Release);
    }
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
/// channel). Lives as long as the session, before and after streaming.
#[derive(Debug, Clone)]
pub struct StreamControls {
    screen: ScreenSizeCell,
    requested: Arc<watch::Sender<QualityPreset>>,
    applied: Arc<watch::Sender<Option<Applied>>>,
}

impl StreamControls {
    /// Controls that start with `preset`.
    pub fn new(preset: QualityPreset) -> Self {
        Self {
            screen: ScreenSizeCell::default(),
            requested: Arc::new(watch::Sender::new(preset)),
            applied: Arc::new(watch::Sender::new(None)),
        }
    }

    /// The streamed display's size, once capture has seen it.
    pub fn screen(&self) -> &ScreenSizeCell {
        &self.screen
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
        let mut capturer = platform::open_capture(self.display.as_deref(), preset.settings().max_fps)?;
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
            capturer.grab_into(&mut grabbed)?;
            let screen = ScreenSize { width: u32::try_from(grabbed.width)?, height: u32::try_from(grabbed.height)? };
            self.controls.screen.set(screen);
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
        let controls = StreamControls::new(QualityPreset::Balanced);
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
    fn screen_size_cell_starts_unknown_and_keeps_the_last_size() {
        let cell = ScreenSizeCell::default();
        assert_eq!(cell.get(), None);
        cell.set(ScreenSize { width: 1280, height: 720 });
        cell.clone().set(ScreenSize { width: 70_000, height: 3 });
        assert_eq!(cell.get(), Some(ScreenSize { width: 70_000, height: 3 }));
    }
}
