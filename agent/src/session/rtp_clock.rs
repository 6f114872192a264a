//! RTP timestamps that follow the wall clock although frames come at uneven
//! intervals (only when the screen changes).
//!
//! webrtc-rs advances a track's timestamp by each sample's duration *after*
//! packetising it, and the gap before a frame is only known when that frame
//! exists. So before each frame the sender writes an empty sample (no
//! packets) whose duration carries the time since the previous frame, and
//! the frame itself with duration zero. Receivers then see timestamps that
//! match arrival times and do not mistake idle gaps for network jitter.

use std::time::{Duration, Instant};

/// Video RTP clock rate.
pub const CLOCK_RATE: u64 = 90_000;

/// Tracks how far the packetiser's timestamp has been advanced.
#[derive(Debug, Default, Clone)]
pub struct RtpClock {
    origin: Option<Instant>,
    ticks: u64,
}

impl RtpClock {
    /// The duration to advance the track by so that a frame captured `at`
    /// carries the timestamp of its capture time (zero for the first one).
    pub fn advance(&mut self, at: Instant) -> Duration {
        let origin = *self.origin.get_or_insert(at);
        let elapsed = at.saturating_duration_since(origin);
        let target = u64::try_from(elapsed.as_nanos() * u128::from(CLOCK_RATE) / 1_000_000_000).unwrap_or(u64::MAX);
        let delta = target.saturating_sub(self.ticks);
        self.ticks += delta;
        duration_for_ticks(delta)
    }
}

/// A duration in whole microseconds that webrtc-rs turns into exactly
/// `ticks` at 90 kHz (it computes `(secs_f64 * 90000) as u32`, truncating).
/// One microsecond is 0.09 ticks, so rounding the microseconds up keeps the
/// product 0.01–0.09 ticks above `ticks`: never truncated below it, never
/// reaching the next.
pub fn duration_for_ticks(ticks: u64) -> Duration {
    if ticks == 0 {
        return Duration::ZERO;
    }
    Duration::from_micros(ticks * 1_000_000 / CLOCK_RATE + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What webrtc-rs's `TrackLocalStaticSample::write_sample` computes.
    fn packetiser_ticks(duration: Duration) -> u64 {
        (duration.as_secs_f64() * CLOCK_RATE as f64) as u32 as u64
    }

    #[test]
    fn durations_become_exact_tick_counts() {
        for ticks in (0..200_000).chain([3000, 90_000, 900_000, 9_000_000]) {
            assert_eq!(packetiser_ticks(duration_for_ticks(ticks)), ticks, "{ticks} ticks");
        }
        assert_eq!(duration_for_ticks(3000), Duration::from_micros(33_334));
    }

    #[test]
    fn timestamps_follow_capture_times_without_drift() {
        let start = Instant::now();
        let mut clock = RtpClock::default();
        assert_eq!(clock.advance(start), Duration::ZERO);
        let mut total = 0;
        // Uneven gaps: bursts at 30 fps, then idle seconds, then odd intervals.
        let mut at = start;
        for gap_us in [33_333, 33_333, 33_334, 1_000_000, 7, 16_667, 2_500_001, 33_333] {
            at += Duration::from_micros(gap_us);
            total += packetiser_ticks(clock.advance(at));
            let expected = (at - start).as_nanos() as u64 * CLOCK_RATE / 1_000_000_000;
            assert_eq!(total, expected);
        }
    }

    #[test]
    fn a_frame_captured_out_of_order_does_not_go_back() {
        let start = Instant::now();
        let mut clock = RtpClock::default();
        clock.advance(start + Duration::from_secs(1));
        assert_eq!(clock.advance(start), Duration::ZERO);
    }
}
