//! Login throttling, per account and per source address, with the GCRA
//! limiters of the `governor` crate.

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Keys kept before old ones are swept, bounding memory under attack.
const SWEEP_ABOVE_KEYS: usize = 10_000;

/// The limits on login attempts.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    /// Attempts one account may take in a burst, then one per `account_period`.
    pub account_burst: u32,
    pub account_period: Duration,
    /// Attempts one source address may take in a burst, then one per `source_period`.
    pub source_burst: u32,
    pub source_period: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            account_burst: 5,
            account_period: Duration::from_secs(12),
            source_burst: 20,
            source_period: Duration::from_secs(3),
        }
    }
}

/// Both limiters. Cheap to clone.
#[derive(Clone)]
pub struct LoginThrottle {
    accounts: Arc<DefaultKeyedRateLimiter<String>>,
    sources: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginThrottle { .. }")
    }
}

fn quota(burst: u32, period: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN)).allow_burst(burst)
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            accounts: Arc::new(RateLimiter::keyed(quota(limits.account_burst, limits.account_period))),
            sources: Arc::new(RateLimiter::keyed(quota(limits.source_burst, limits.source_period))),
        }
    }

    /// Takes one attempt for `username` from `source`; `Err(seconds)` says
    /// how long to wait when either limit is exhausted.
    pub fn attempt(&self, username: &str, source: Option<IpAddr>) -> Result<(), u64> {
        let clock = DefaultClock::default();
        if self.sources.len() > SWEEP_ABOVE_KEYS {
            self.sources.retain_recent();
        }
        if self.accounts.len() > SWEEP_ABOVE_KEYS {
            self.accounts.retain_recent();
        }
        if let Some(ip) = source
            && let Err(not_until) = self.sources.check_key(&ip)
        {
            return Err(round_up_secs(not_until.wait_time_from(clock.now())));
        }
        self.accounts
            .check_key(&username.to_lowercase())
            .map_err(|not_until| round_up_secs(not_until.wait_time_from(clock.now())))
    }
}

fn round_up_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_limit_applies_across_sources() {
        let throttle = LoginThrottle::new(LoginLimits::default());
        for i in 0..5 {
            let ip = IpAddr::from([10, 0, 0, i]);
            assert!(throttle.attempt("alice", Some(ip)).is_ok());
        }
        let wait = throttle.attempt("Alice", Some(IpAddr::from([10, 0, 0, 9]))).expect_err("limited");
        assert!((1..=12).contains(&wait));
        assert!(throttle.attempt("bob", Some(IpAddr::from([10, 0, 0, 9]))).is_ok());
    }

    #[test]
    fn source_limit_applies_across_accounts() {
        let throttle = LoginThrottle::new(LoginLimits::default());
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        for i in 0..20 {
            assert!(throttle.attempt(&format!("user{i}"), ip).is_ok());
        }
        assert!(throttle.attempt("another", ip).is_err());
    }
}
