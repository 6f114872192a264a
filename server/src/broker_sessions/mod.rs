//! Broker sessions (seed: bigfix-broker-session.txt): a technician's
//! connection code, its server-enforced life, its redemption by a target
//! that is not an enrolled agent, and that target's one live session.
//!
//! - `key.rs`: the HMAC key codes are stored under.
//! - `record.rs`: the row, its `CodeLifecycle`, audited saves.
//! - `technician.rs`: create, read, Request New, Extend, Cancel.
//! - `redeem.rs`: the agent's redemption, wrong guesses and near misses.
//! - `throttle.rs`: per-source and global limits, aggregated auditing.
//! - `sweeper.rs`: expires codes promptly by the server's clock.
//!
//! A redeemed session is an ordinary session row (`agent_id` NULL,
//! `broker_session_id` set) whose route in the relay and whose outbox in
//! the hub are keyed by [`hub_id`], so all signalling code is shared with
//! enrolled agents.

pub mod key;
pub mod record;
pub mod redeem;
pub mod sweeper;
pub mod technician;
pub mod throttle;

use crate::store::WriteTx;
pub use key::CodeKey;
use std::time::Duration;
use tether_shared::connection_code::{CodePolicy, Event};
pub use throttle::{RedeemLimits, RedeemThrottle};

/// What the server needs for broker sessions. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BrokerSessions {
    pub key: CodeKey,
    /// The policy for new codes. There is no policy store yet, so this comes
    /// from `--connection-code-lifetime-secs`.
    pub policy: CodePolicy,
    pub throttle: RedeemThrottle,
}

impl Default for BrokerSessions {
    fn default() -> Self {
        Self::new(CodeKey::ephemeral(), CodePolicy::default(), RedeemLimits::default())
    }
}

impl BrokerSessions {
    pub fn new(key: CodeKey, policy: CodePolicy, limits: RedeemLimits) -> Self {
        Self { key, policy, throttle: RedeemThrottle::new(limits) }
    }

    /// The default policy with this code lifetime.
    pub fn policy_with_lifetime(lifetime: Duration) -> CodePolicy {
        CodePolicy { lifetime, ..CodePolicy::default() }
    }
}

/// The id a broker session's target has in the hub and relay: never an
/// agent id (those are UUIDs).
pub fn hub_id(session_id: &str) -> String {
    format!("broker:{session_id}")
}

/// Inside the transaction that activates `session_id`: a broker session's
/// code moves to `Active` (`Event::SessionStarted`), audited. Nothing for
/// other sessions.
pub async fn session_started(tx: &mut WriteTx, session_id: &str, now: i64) -> Result<(), sqlx::Error> {
    let Some(mut record) = record::load_by(tx, record::Key::Session, session_id).await? else {
        return Ok(());
    };
    let actor = crate::audit::Actor { id: None, name: format!("agent:{}", hub_id(session_id)) };
    if let Err(refusal) =
        record::apply(tx, &mut record, Event::SessionStarted, "broker_session.started", actor, now).await?
    {
        tracing::warn!(%session_id, %refusal, "broker session started after its code's life ended");
    }
    Ok(())
}
