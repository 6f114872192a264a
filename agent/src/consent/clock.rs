//! [`Clock`]: `now` for the pure machines, as Unix milliseconds that move
//! with the monotonic clock (a wall-clock jump neither fires nor delays a
//! deadline), and the instant to sleep until for one of their deadlines.

use tether_shared::connection_code::UnixMillis;
use tokio::time::Instant;

/// A monotonic clock that reads as Unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    started: Instant,
    started_unix: UnixMillis,
}

impl Clock {
    /// A clock reading the wall clock's time now.
    pub fn start() -> Self {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Self { started: Instant::now(), started_unix: millis(since_epoch) }
    }

    /// Now.
    pub fn now(&self) -> UnixMillis {
        self.started_unix.saturating_add(millis(self.started.elapsed()))
    }

    /// The instant `moment` falls on (now, if it has passed).
    pub fn instant_at(&self, moment: UnixMillis) -> Instant {
        let ahead = u64::try_from(moment.saturating_sub(self.now())).unwrap_or(0);
        Instant::now() + std::time::Duration::from_millis(ahead)
    }

    /// Sleeps until a machine's deadline `moment`, or forever without one.
    pub async fn sleep_until(self, moment: Option<UnixMillis>) {
        match moment {
            Some(moment) => tokio::time::sleep_until(self.instant_at(moment)).await,
            None => std::future::pending().await,
        }
    }
}

fn millis(duration: std::time::Duration) -> UnixMillis {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn deadlines_follow_the_monotonic_clock() {
        let clock = Clock::start();
        let start = clock.now();
        let deadline = clock.instant_at(start + 1500);
        tokio::time::sleep_until(deadline).await;
        assert_eq!(clock.now() - start, 1500);
        assert!(clock.instant_at(start) <= Instant::now(), "a past moment is now");
    }
}
