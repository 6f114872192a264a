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

use crate::secret;
use crate::store::WriteTx;
pub use key::CodeKey;
use sqlx::AnyPool;
use tether_shared::connection_code::Event;
pub use throttle::{RedeemLimits, RedeemThrottle};

/// What the server needs for broker sessions. Cheap to clone. A code's
/// policy (lifetime, wrong tries, user acceptance) is the session policy in
/// force when it is issued (`crate::policies`), kept on its row.
#[derive(Debug, Clone)]
pub struct BrokerSessions {
    pub key: CodeKey,
    pub throttle: RedeemThrottle,
}

impl Default for BrokerSessions {
    fn default() -> Self {
        Self::new(CodeKey::ephemeral(), RedeemLimits::default())
    }
}

impl BrokerSessions {
    pub fn new(key: CodeKey, limits: RedeemLimits) -> Self {
        Self { key, throttle: RedeemThrottle::new(limits) }
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
    code_event(tx, session_id, Event::SessionStarted, "broker_session.started", now).await
}

/// Inside the caller's transaction: feeds `event` to the code of the broker
/// session `session_id`, audited as `action` when it moves the code. Nothing
/// for sessions of enrolled agents; a refusal (the code's life ended first)
/// is logged.
pub async fn code_event(
    tx: &mut WriteTx,
    session_id: &str,
    event: Event,
    action: &'static str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let Some(mut record) = record::load_by(tx, record::Key::Session, session_id).await? else {
        return Ok(());
    };
    let actor = crate::agents::actor(&hub_id(session_id));
    if let Err(refusal) = record::apply(tx, &mut record, event, action, actor, now).await? {
        tracing::warn!(%session_id, %event, %refusal, "a broker session's code refused an event");
    }
    Ok(())
}

/// The live session a broker session token opens.
pub async fn live_by_token(pool: &AnyPool, token: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT s.id FROM broker_sessions b JOIN sessions s ON s.id = b.session_id \
         WHERE b.session_token_hash = $1 AND s.ended_at IS NULL",
    )
    .bind(secret::digest(token))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id,)| id))
}
