//! How fast a transfer goes and how long it has left, from the byte counts
//! seen over the last few seconds (time passed in).

use std::collections::VecDeque;

/// How far back the rate looks.
const WINDOW_MS: i64 = 5_000;

/// Recent (time, bytes so far) samples of one transfer.
#[derive(Debug, Clone, Default)]
pub struct RateMeter {
    samples: VecDeque<(i64, u64)>,
}

impl RateMeter {
    /// At `now` (ms), `bytes` had moved in all.
    pub fn record(&mut self, now: i64, bytes: u64) {
        self.samples.push_back((now, bytes));
        while self.samples.len() > 2 && self.samples.front().is_some_and(|(at, _)| now - at > WINDOW_MS) {
            self.samples.pop_front();
        }
    }

    /// Bytes a second over the window; `None` before two samples apart in time.
    pub fn bytes_per_second(&self) -> Option<f64> {
        let (&(first_at, first), &(last_at, last)) = (self.samples.front()?, self.samples.back()?);
        if last_at <= first_at {
            return None;
        }
        // Precision loss is irrelevant to a displayed rate.
        #[allow(clippy::cast_precision_loss)]
        Some(last.saturating_sub(first) as f64 * 1000.0 / (last_at - first_at) as f64)
    }

    /// Seconds until `remaining` more bytes have moved at the current rate.
    pub fn seconds_left(&self, remaining: u64) -> Option<u64> {
        let rate = self.bytes_per_second().filter(|rate| *rate > 0.0)?;
        // Rounded up, and far from u64's limits for any real file.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some((remaining as f64 / rate).ceil() as u64)
    }

    /// "2.1 MiB/s, 12 s left" — what the progress bar says beside it.
    pub fn describe(&self, remaining: u64) -> String {
        let Some(rate) = self.bytes_per_second() else { return "starting…".into() };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let speed = format!("{}/s", super::human_size(rate as u64));
        match self.seconds_left(remaining) {
            Some(0) | None if remaining == 0 => speed,
            Some(secs) => format!("{speed}, {} left", duration(secs)),
            None => format!("{speed}, stalled"),
        }
    }
}

/// "12 s", "3 min 5 s", "2 h 10 min".
fn duration(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3_600 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3_600, secs % 3_600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_follows_the_last_seconds_and_predicts_the_rest() {
        let mut meter = RateMeter::default();
        assert_eq!(meter.describe(100), "starting…");
        meter.record(0, 0);
        meter.record(1_000, 2 * 1024 * 1024);
        assert_eq!(meter.bytes_per_second(), Some(2.0 * 1024.0 * 1024.0));
        assert_eq!(meter.seconds_left(10 * 1024 * 1024), Some(5));
        assert_eq!(meter.describe(10 * 1024 * 1024), "2.0 MiB/s, 5 s left");
        // Ten seconds later it ran at half the speed: the old samples are forgotten.
        for second in 2..=11 {
            meter.record(second * 1_000, 2 * 1024 * 1024 + (second as u64 - 1) * 1024 * 1024);
        }
        assert_eq!(meter.bytes_per_second(), Some(1024.0 * 1024.0));
        assert_eq!(meter.describe(200 * 1024 * 1024), "1.0 MiB/s, 3 min 20 s left");
        assert_eq!(meter.describe(0), "1.0 MiB/s");
    }

    #[test]
    fn a_transfer_that_stops_moving_says_so() {
        let mut meter = RateMeter::default();
        meter.record(0, 5);
        meter.record(6_000, 5);
        meter.record(12_000, 5);
        assert_eq!(meter.describe(10), "0 B/s, stalled");
    }
}
