//! Heartbeats on a signalling socket: a WebSocket ping every interval, and
//! the verdict that the peer is gone once nothing at all (a pong, a
//! message) came from it for [`HEARTBEATS_MISSED`] intervals. A server that
//! was itself not running (suspended, its clock jumped) does not blame its
//! peers for the gap.

use std::time::Duration;
use tether_shared::signal::HEARTBEATS_MISSED;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// What to do at a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Send a ping.
    Ping,
    /// The peer has been silent too long: drop it.
    Silent(Duration),
}

/// One socket's heartbeat.
#[derive(Debug)]
pub struct Heartbeat {
    interval: Interval,
    limit: Duration,
    last_heard: Instant,
    last_tick: Instant,
}

impl Heartbeat {
    /// Pings every `period`.
    pub fn new(period: Duration) -> Self {
        let now = Instant::now();
        let mut interval = tokio::time::interval_at(now + period, period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self { interval, limit: period * HEARTBEATS_MISSED, last_heard: now, last_tick: now }
    }

    /// Something came from the peer.
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// Waits for the next beat.
    pub async fn tick(&mut self) -> Beat {
        self.interval.tick().await;
        let now = Instant::now();
        if now.duration_since(self.last_tick) > self.limit {
            // This task did not run for a whole limit: the silence is ours.
            self.last_heard = now;
        }
        self.last_tick = now;
        match now.duration_since(self.last_heard) {
            silent if silent > self.limit => Beat::Silent(silent),
            _ => Beat::Ping,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_answers_stays_and_a_silent_one_is_dropped() {
        let period = Duration::from_secs(5);
        let mut beat = Heartbeat::new(period);
        for _ in 0..10 {
            assert_eq!(beat.tick().await, Beat::Ping);
            beat.heard();
        }
        assert_eq!(beat.tick().await, Beat::Ping);
        assert_eq!(beat.tick().await, Beat::Ping);
        assert_eq!(beat.tick().await, Beat::Ping, "three beats of silence are the limit, not past it");
        assert!(matches!(beat.tick().await, Beat::Silent(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_did_not_run_does_not_blame_its_peer() {
        let period = Duration::from_secs(5);
        let mut beat = Heartbeat::new(period);
        assert_eq!(beat.tick().await, Beat::Ping);
        // Suspended for a minute: the next beat comes late.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(beat.tick().await, Beat::Ping);
    }
}
