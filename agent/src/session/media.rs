//! The live screen: a capture thread grabs the display at up to the
//! encoder's frame rate and encodes only what [`should_send`] allows; an
//! async task writes each access unit to the video track as one sample;
//! another turns the viewer's key-frame requests into the next frame's kind.
//! Dropping [`Stream`] stops all three.

use super::keyframe::is_keyframe_request;
use super::pacing::{FrameKind, should_send};
use super::rtp_clock::RtpClock;
use crate::encode::{EncoderSettings, H264Encoder};
use crate::frame::{Frame, changed_tiles};
use crate::platform::x11_capture::X11Capturer;
use anyhow::Context;
use bytes::Bytes;
use rtc::media::Sample;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tether_shared::input::ScreenSize;
use tokio::sync::{mpsc, oneshot};
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
    settings: EncoderSettings,
    screen: ScreenSizeCell,
    stopped: oneshot::Sender<String>,
) -> anyhow::Result<Stream> {
    let key_requested = Arc::new(AtomicBool::new(false));
    let (frames, received) = mpsc::channel(2);
    let (finished, capture_result) = oneshot::channel();
    let capture = Capture { display, settings, screen, key_requested: Arc::clone(&key_requested) };
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
    settings: EncoderSettings,
    screen: ScreenSizeCell,
    key_requested: Arc<AtomicBool>,
}

impl Capture {
    /// Captures until `frames` closes; returns early only on failure.
    fn run(self, frames: &mpsc::Sender<AccessUnit>) -> anyhow::Result<()> {
        let mut capturer = X11Capturer::open(self.display.as_deref())?;
        let mut encoder = H264Encoder::new(self.settings)?;
        let period = Duration::from_secs_f32(1.0 / self.settings.max_fps.max(1.0));
        let mut grabbed = Frame { width: 0, height: 0, data: Vec::new() };
        let mut last_sent: Option<Frame> = None;
        let mut last_sent_at: Option<Instant> = None;
        let mut next_tick = Instant::now();
        while !frames.is_closed() {
            let now = Instant::now();
            if next_tick > now {
                // Pacing the capture rate, not waiting for a condition.
                std::thread::sleep(next_tick - now);
            }
            next_tick = (next_tick + period).max(Instant::now());
            let captured_at = Instant::now();
            capturer.grab_into(&mut grabbed)?;
            self.screen
                .set(ScreenSize { width: u32::try_from(grabbed.width)?, height: u32::try_from(grabbed.height)? });
            let changed = !changed_tiles(last_sent.as_ref(), &grabbed).is_empty();
            let key_requested = self.key_requested.swap(false, Ordering::AcqRel);
            let since_last = last_sent_at.map(|at| captured_at.saturating_duration_since(at));
            let Some(kind) = should_send(changed, key_requested, since_last) else {
                continue;
            };
            match encoder.encode(&grabbed, kind == FrameKind::Key)? {
                Some(encoded) => {
                    if frames.blocking_send(AccessUnit { data: encoded.data, captured_at }).is_err() {
                        break;
                    }
                    let previous = last_sent.replace(grabbed);
                    grabbed = previous.unwrap_or(Frame { width: 0, height: 0, data: Vec::new() });
                    last_sent_at = Some(captured_at);
                }
                // Rate control skipped the frame: the change (and any key
                // frame request) stays pending for the next tick.
                None if key_requested => self.key_requested.store(true, Ordering::Release),
                None => {}
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
    fn screen_size_cell_starts_unknown_and_keeps_the_last_size() {
        let cell = ScreenSizeCell::default();
        assert_eq!(cell.get(), None);
        cell.set(ScreenSize { width: 1280, height: 720 });
        cell.clone().set(ScreenSize { width: 70_000, height: 3 });
        assert_eq!(cell.get(), Some(ScreenSize { width: 70_000, height: 3 }));
    }
}
