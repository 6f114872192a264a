//! Throttling of code redemptions, per source address and for the whole
//! server (GCRA limiters from `governor`, as for logins), and the
//! aggregation that keeps throttled requests from flooding the audit log:
//! at most one `broker_session.redeem_throttled` entry per source (or for
//! the global limit) per window, carrying how many requests the previous
//! window refused.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Keys kept before old ones are swept, bounding memory under attack.
const SWEEP_ABOVE_KEYS: usize = 10_000;

/// How redemptions are limited.
#[derive(Debug, Clone, Copy)]
pub struct RedeemLimits {
    /// Tries one source address may take in a burst, then one per `source_period`.
    pub source_burst: u32,
    pub source_period: Duration,
    /// Tries the whole server takes in a burst, then one per `global_period`.
    pub global_burst: u32,
    pub global_period: Duration,
    /// One audit entry per throttled source per this long.
    pub audit_window: Duration,
}

impl Default for RedeemLimits {
    fn default() -> Self {
        Self {
            source_burst: 10,
            source_period: Duration::from_secs(6),
            global_burst: 200,
            global_period: Duration::from_millis(50),
            audit_window: Duration::from_secs(60),
        }
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limited {
    /// This source address's.
    Source(IpAddr),
    /// The server-wide one (or a request without a known source).
    Global,
}

impl Limited {
    /// The audit entry's source label.
    pub fn label(self) -> String {
        match self {
            Limited::Source(ip) => ip.to_string(),
            Limited::Global => "global".to_owned(),
        }
    }
}

/// A refusal, and whether it opens a new audit window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub limit: Limited,
    pub retry_after_secs: u64,
    /// `Some(n)`: audit this one, noting `n` refusals in the previous window.
    pub audit: Option<u64>,
}

/// Both limiters and the audit windows. Cheap to clone.
#[derive(Clone)]
pub struct RedeemThrottle {
    limits: RedeemLimits,
    sources: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    global: Arc<DefaultDirectRateLimiter>,
    windows: Arc<Mutex<HashMap<Limited, Window>>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    refused: u64,
}

impl std::fmt::Debug for RedeemThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedeemThrottle { .. }")
    }
}

fn quota(burst: u32, period: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst)
}

impl RedeemThrottle {
    pub fn new(limits: RedeemLimits) -> Self {
        Self {
            limits,
            sources: Arc::new(RateLimiter::keyed(quota(limits.source_burst, limits.source_period))),
            global: Arc::new(RateLimiter::direct(quota(limits.global_burst, limits.global_period))),
            windows: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one try from `source`: the source's limit first, so one noisy
    /// address cannot spend the global budget on its own beyond its burst.
    pub fn attempt(&self, source: Option<IpAddr>) -> Result<(), Throttled> {
        let clock = DefaultClock::default();
        if self.sources.len() > SWEEP_ABOVE_KEYS {
            self.sources.retain_recent();
        }
        let refused = match source {
            Some(ip) => self.sources.check_key(&ip).err().map(|until| (Limited::Source(ip), until)),
            None => None,
        };
        let refused = refused.or_else(|| self.global.check().err().map(|until| (Limited::Global, until)));
        let Some((limit, until)) = refused else {
            return Ok(());
        };
        let wait = until.wait_time_from(clock.now());
        let retry_after_secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        Err(Throttled { limit, retry_after_secs, audit: self.count(limit) })
    }

    /// Counts a refusal in `limit`'s window; `Some(previous)` when this one
    /// opens a new window and should be audited.
    fn count(&self, limit: Limited) -> Option<u64> {
        // A std Mutex: held for a map update only, never across an await.
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if windows.len() > SWEEP_ABOVE_KEYS {
            let window = self.limits.audit_window;
            windows.retain(|_, open| now.duration_since(open.started) < window);
        }
        match windows.get_mut(&limit) {
            Some(open) if now.duration_since(open.started) < self.limits.audit_window => {
                open.refused += 1;
                None
            }
            other => {
                let previous = other.map_or(0, |open| open.refused);
                windows.insert(limit, Window { started: now, refused: 1 });
                Some(previous)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_limited_and_audited_once_per_window() {
        let throttle = RedeemThrottle::new(RedeemLimits::default());
        let ip = Some(IpAddr::from([192, 0, 2, 7]));
        for _ in 0..10 {
            assert!(throttle.attempt(ip).is_ok());
        }
        let first = throttle.attempt(ip).expect_err("limited");
        assert_eq!(first.limit, Limited::Source(IpAddr::from([192, 0, 2, 7])));
        assert_eq!(first.audit, Some(0));
        assert!(first.retry_after_secs >= 1);
        for _ in 0..100 {
            assert_eq!(throttle.attempt(ip).expect_err("limited").audit, None);
        }
        assert!(throttle.attempt(Some(IpAddr::from([192, 0, 2, 8]))).is_ok(), "other sources unaffected");
    }
}
