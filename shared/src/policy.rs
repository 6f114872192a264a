//! Session policies (seed: bigfix-broker-session.txt): what an administrator
//! decides about sessions before any starts — how long a connection code
//! lives, whether the target's user must accept an incoming session and how
//! long they have to answer. A broker session takes a copy of the policy in
//! force when its code is issued and keeps it for its whole life; the agent
//! receives that copy with its session and enforces it itself.
//!
//! Stored by the server as a JSON document, so a field added later reads
//! from older rows with its default.

use crate::connection_code::CodePolicy;
use core::ops::RangeInclusive;
use core::time::Duration;
use serde::{Deserialize, Serialize};

/// The session policy (`GET`/`PUT /api/policies/session`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionPolicy {
    /// How long a connection code stays redeemable after it is issued,
    /// renewed or extended, in seconds. Default 900 (15 min).
    pub code_lifetime_secs: u32,
    /// Wrong tries aimed at a code (one slip away from it) that void it.
    pub max_wrong_guesses: u32,
    /// "Enable user acceptance for incoming connections": the target's user
    /// accepts or rejects each session before anything is shown.
    pub user_acceptance: bool,
    /// How long the target may take from redeeming a code to a live
    /// session — set-up plus the user's answer — in seconds; an unanswered
    /// prompt counts as a refusal.
    pub acceptance_timeout_secs: u32,
    /// How long an agent that hears nothing from the server (not even a
    /// heartbeat) keeps a session going before it ends the session itself,
    /// in seconds: a frozen or unreachable server must not leave a
    /// computer controllable and unaudited.
    pub server_loss_timeout_secs: u32,
}

impl SessionPolicy {
    /// Allowed code lifetimes: 10 seconds to 24 hours.
    pub const CODE_LIFETIME_SECS: RangeInclusive<u32> = 10..=24 * 60 * 60;
    /// Allowed wrong tries per code.
    pub const MAX_WRONG_GUESSES: RangeInclusive<u32> = 1..=20;
    /// Allowed acceptance timeouts: 10 seconds to 10 minutes.
    pub const ACCEPTANCE_TIMEOUT_SECS: RangeInclusive<u32> = 10..=10 * 60;
    /// Allowed server-loss limits: two heartbeats (10 seconds) to 5 minutes.
    /// The agent counts silence from the last thing it heard, so a limit of
    /// one heartbeat would end healthy sessions whenever a beat came late.
    pub const SERVER_LOSS_TIMEOUT_SECS: RangeInclusive<u32> =
        2 * crate::signal::HEARTBEAT_INTERVAL_SECS as u32..=5 * 60;

    /// Checks every field against its range; the message names the field
    /// and the range, for the admin form and the API's 422.
    pub fn validate(&self) -> Result<(), InvalidPolicy> {
        check("code_lifetime_secs", self.code_lifetime_secs, Self::CODE_LIFETIME_SECS)?;
        check("max_wrong_guesses", self.max_wrong_guesses, Self::MAX_WRONG_GUESSES)?;
        check("acceptance_timeout_secs", self.acceptance_timeout_secs, Self::ACCEPTANCE_TIMEOUT_SECS)?;
        check("server_loss_timeout_secs", self.server_loss_timeout_secs, Self::SERVER_LOSS_TIMEOUT_SECS)
    }

    /// The part of the policy a connection code's lifecycle obeys.
    pub fn code_policy(&self) -> CodePolicy {
        CodePolicy {
            lifetime: Duration::from_secs(u64::from(self.code_lifetime_secs)),
            max_wrong_guesses: self.max_wrong_guesses,
            acceptance_timeout: Duration::from_secs(u64::from(self.acceptance_timeout_secs)),
        }
    }
}

impl Default for SessionPolicy {
    fn default() -> Self {
        let code = CodePolicy::default();
        SessionPolicy {
            code_lifetime_secs: secs(code.lifetime),
            max_wrong_guesses: code.max_wrong_guesses,
            user_acceptance: true,
            acceptance_timeout_secs: secs(code.acceptance_timeout),
            server_loss_timeout_secs: 15,
        }
    }
}

/// A policy field out of its range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be between {min} and {max}")]
pub struct InvalidPolicy {
    /// The field's JSON name.
    pub field: &'static str,
    pub min: u32,
    pub max: u32,
}

fn check(field: &'static str, value: u32, range: RangeInclusive<u32>) -> Result<(), InvalidPolicy> {
    if range.contains(&value) { Ok(()) } else { Err(InvalidPolicy { field, min: *range.start(), max: *range.end() }) }
}

fn secs(duration: Duration) -> u32 {
    u32::try_from(duration.as_secs()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid_and_matches_the_code_defaults() {
        let policy = SessionPolicy::default();
        assert_eq!(policy.validate(), Ok(()));
        assert_eq!(policy.code_lifetime_secs, 900);
        assert!(policy.user_acceptance);
        assert_eq!(policy.code_policy(), CodePolicy::default());
    }

    #[test]
    fn out_of_range_fields_are_named() {
        let short = SessionPolicy { code_lifetime_secs: 9, ..SessionPolicy::default() };
        assert_eq!(short.validate().map_err(|err| err.field), Err("code_lifetime_secs"));
        let none = SessionPolicy { max_wrong_guesses: 0, ..SessionPolicy::default() };
        assert_eq!(none.validate().map_err(|err| err.field), Err("max_wrong_guesses"));
        let long = SessionPolicy { acceptance_timeout_secs: 601, ..SessionPolicy::default() };
        assert_eq!(
            long.validate().map_err(|err| err.to_string()),
            Err("acceptance_timeout_secs must be between 10 and 600".to_owned())
        );
    }

    #[test]
    fn missing_fields_read_as_defaults_and_unknown_ones_are_refused() {
        let old: SessionPolicy = serde_json::from_str(r#"{"code_lifetime_secs":60}"#).expect("parse");
        assert_eq!(old, SessionPolicy { code_lifetime_secs: 60, ..SessionPolicy::default() });
        assert!(serde_json::from_str::<SessionPolicy>(r#"{"unlock":true}"#).is_err());
    }
}
