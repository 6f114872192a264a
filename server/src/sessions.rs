//! The `sessions` table and the one way a session ends: recorded in the
//! audit log and the table, its route closed, both ends told.

use crate::audit::{self, Actor, Event};
use crate::state::AppState;
use crate::store::{WriteTx, now_ms};
use serde_json::json;
use tether_shared::signal::{ServerToAgent, Signal};

/// A session's agent and technician, if it is still open.
pub async fn insert(
    tx: &mut WriteTx,
    id: &str,
    technician_id: &str,
    agent_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, technician_id, agent_id, state, created_at) VALUES ($1, $2, $3, 'requested', $4)",
    )
    .bind(id)
    .bind(technician_id)
    .bind(agent_id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Why session `session_id` of technician `technician_id` ended, if it
/// has: a controller that connects after the agent already left (or
/// declined) is told the real reason.
pub async fn end_reason(
    state: &AppState,
    session_id: &str,
    technician_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT end_reason FROM sessions WHERE id = $1 AND technician_id = $2 AND ended_at IS NOT NULL")
            .bind(session_id)
            .bind(technician_id)
            .fetch_optional(state.store.pool())
            .await?;
    Ok(row.map(|(reason,)| reason.unwrap_or_else(|| "the session has ended".to_owned())))
}

/// Ends `session_id` for `reason`, once: later calls do nothing.
/// `notify_agent` sends the agent a `bye` (not needed when the agent left).
pub async fn end(
    state: &AppState,
    session_id: &str,
    actor: Actor,
    reason: &str,
    notify_agent: bool,
) -> anyhow::Result<()> {
    let agent_id: Option<(String,)> =
        sqlx::query_as("SELECT agent_id FROM sessions WHERE id = $1 AND ended_at IS NULL")
            .bind(session_id)
            .fetch_optional(state.store.pool())
            .await?;
    let Some((agent_id,)) = agent_id else {
        return Ok(());
    };
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(actor, "session.end").target(session_id.to_owned()).details(json!({ "reason": reason }));
    audit::record(&mut tx, &event, now).await?;
    sqlx::query(
        "UPDATE sessions SET state = 'ended', ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(session_id)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    state.relay.close(session_id, reason);
    if notify_agent {
        let bye = Signal::Bye { reason: reason.to_owned() };
        state.hub.send(&agent_id, ServerToAgent::Signal { session_id: session_id.to_owned(), signal: bye });
    }
    Ok(())
}
