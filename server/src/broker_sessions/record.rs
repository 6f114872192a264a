//! One broker session's row: loading it, its [`CodeLifecycle`], and saving
//! a changed lifecycle with the audit entry that describes the change
//! (written first, in the same transaction).

use crate::audit::{self, Actor, Event as AuditEvent};
use crate::store::WriteTx;
use serde_json::json;
use std::time::Duration;
use tether_shared::agent::AgentInfo;
use tether_shared::connection_code::{CodeLifecycle, CodePolicy, CodeState, Event};
use tether_shared::policy::SessionPolicy;

/// The columns every caller reads.
pub const COLUMNS: &str = "id, owner_id, status, deadline, wrong_guesses, lifetime_secs, max_wrong_guesses, \
     acceptance_timeout_secs, user_acceptance, session_id, target_info, broker, broker_address";

type RowTuple = (
    String,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A broker session as stored.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    pub owner_id: String,
    pub lifecycle: CodeLifecycle,
    /// The policy's "ask the user to accept", kept from when the code was
    /// issued (the rest of the policy is in `lifecycle`).
    pub user_acceptance: bool,
    pub session_id: Option<String>,
    pub target: Option<AgentInfo>,
    pub broker: Option<String>,
    pub broker_address: Option<String>,
}

impl Record {
    pub fn from_row(row: RowTuple) -> Self {
        let (
            id,
            owner_id,
            status,
            deadline,
            wrong,
            lifetime,
            max_wrong,
            acceptance,
            user_acceptance,
            session_id,
            target,
            broker,
            address,
        ) = row;
        let policy = CodePolicy {
            lifetime: Duration::from_secs(u64::try_from(lifetime).unwrap_or(0)),
            max_wrong_guesses: u32::try_from(max_wrong).unwrap_or(u32::MAX),
            acceptance_timeout: Duration::from_secs(u64::try_from(acceptance).unwrap_or(0)),
        };
        let state = state_from(&status, deadline);
        Record {
            id,
            owner_id,
            lifecycle: CodeLifecycle::restore(policy, state, u32::try_from(wrong).unwrap_or(u32::MAX)),
            user_acceptance: user_acceptance != 0,
            session_id,
            target: target.and_then(|text| serde_json::from_str(&text).ok()),
            broker,
            broker_address: address,
        }
    }
}

impl Record {
    /// The session policy the code was issued under, as the agent gets it.
    pub fn session_policy(&self) -> SessionPolicy {
        let code = self.lifecycle.policy();
        let secs = |duration: Duration| u32::try_from(duration.as_secs()).unwrap_or(u32::MAX);
        SessionPolicy {
            code_lifetime_secs: secs(code.lifetime),
            max_wrong_guesses: code.max_wrong_guesses,
            user_acceptance: self.user_acceptance,
            acceptance_timeout_secs: secs(code.acceptance_timeout),
            // Not kept per code: the agent hears the limit in force in
            // its `welcome`.
            ..SessionPolicy::default()
        }
    }
}

/// The stored status and deadline back into a state. An unknown status
/// (a newer server wrote it) reads as expired: never redeemable.
fn state_from(status: &str, deadline: Option<i64>) -> CodeState {
    let at = deadline.unwrap_or(0);
    match status {
        "waiting" => CodeState::Waiting { expires_at: at },
        "target_connected" => CodeState::TargetConnected { deadline: at },
        "awaiting_acceptance" => CodeState::AwaitingAcceptance { deadline: at },
        "active" => CodeState::Active,
        "rejected" => CodeState::Rejected,
        "cancelled" => CodeState::Cancelled,
        "replaced" => CodeState::Replaced,
        "voided" => CodeState::Voided,
        "ended" => CodeState::Ended,
        _ => CodeState::Expired,
    }
}

/// Loads one record by a column that identifies it (`id`, `session_id`).
pub async fn load_by(tx: &mut WriteTx, column: Key, value: &str) -> Result<Option<Record>, sqlx::Error> {
    let sql = match column {
        Key::Id => "SELECT {COLUMNS} FROM broker_sessions WHERE id = $1",
        Key::Session => "SELECT {COLUMNS} FROM broker_sessions WHERE session_id = $1",
        Key::NewestWithCode => {
            "SELECT {COLUMNS} FROM broker_sessions WHERE code_hash = $1 ORDER BY updated_at DESC, created_at DESC LIMIT 1"
        }
    };
    let sql = sql.replace("{COLUMNS}", COLUMNS);
    let row: Option<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(value).fetch_optional(tx.conn()).await?;
    Ok(row.map(Record::from_row))
}

/// Loads one record by id outside a transaction (reads that change nothing).
pub async fn load_id(pool: &sqlx::AnyPool, id: &str) -> Result<Option<Record>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM broker_sessions WHERE id = $1");
    let row: Option<RowTuple> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await?;
    Ok(row.map(Record::from_row))
}

/// What [`load_by`] looks a record up by.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    Id,
    Session,
    /// The code's keyed hash; the newest record that had it.
    NewestWithCode,
}

/// Saves the lifecycle's state and wrong-guess count.
pub async fn save(tx: &mut WriteTx, id: &str, lifecycle: &CodeLifecycle, now: i64) -> Result<(), sqlx::Error> {
    let state = lifecycle.state();
    sqlx::query(
        "UPDATE broker_sessions SET status = $1, deadline = $2, wrong_guesses = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(state.as_str())
    .bind(state.deadline())
    .bind(i64::from(lifecycle.wrong_guesses()))
    .bind(now)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Applies `event` to `record` at `now`; when the state moved, audits it
/// (`action`, or `broker_session.expired` when the deadline did it) and
/// saves. Returns the lifecycle's answer.
pub async fn apply(
    tx: &mut WriteTx,
    record: &mut Record,
    event: Event,
    action: &'static str,
    actor: Actor,
    now: i64,
) -> Result<Result<(), tether_shared::connection_code::Refusal>, sqlx::Error> {
    let before = record.lifecycle.clone();
    let outcome = record.lifecycle.handle(event, now);
    let after = record.lifecycle.state();
    let expired = after == CodeState::Expired && before.state() != CodeState::Expired;
    if expired {
        let entry = AuditEvent::new(Actor::system(), "broker_session.expired")
            .target(record.id.clone())
            .details(json!({ "was": before.state().as_str() }));
        audit::record(tx, &entry, now).await?;
    }
    if outcome.is_ok()
        && (before.state() != after || before.wrong_guesses() != record.lifecycle.wrong_guesses())
        && !expired
    {
        let action = if after == CodeState::Voided { "broker_session.voided" } else { action };
        let entry = AuditEvent::new(actor, action)
            .target(record.id.clone())
            .details(json!({ "from": before.state().as_str(), "to": after.as_str() }));
        audit::record(tx, &entry, now).await?;
    }
    if before != record.lifecycle {
        save(tx, &record.id, &record.lifecycle, now).await?;
    }
    Ok(outcome.map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_survives_the_table() {
        for state in [
            CodeState::Waiting { expires_at: 5 },
            CodeState::TargetConnected { deadline: 6 },
            CodeState::AwaitingAcceptance { deadline: 7 },
            CodeState::Active,
            CodeState::Rejected,
            CodeState::Expired,
            CodeState::Cancelled,
            CodeState::Replaced,
            CodeState::Voided,
            CodeState::Ended,
        ] {
            assert_eq!(state_from(state.as_str(), state.deadline()), state);
        }
        assert_eq!(state_from("from-the-future", Some(1)), CodeState::Expired, "unknown reads as dead");
    }
}
