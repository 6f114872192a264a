//! The `sessions` table and the one way a session ends: recorded in the
//! audit log and the table, its route closed, both ends told. Also the
//! timers that end sessions whose ends never came (or never came back),
//! and the start-up sweep of sessions a previous run left open.

use crate::audit::{self, Actor, Event};
use crate::relay::Phase;
use crate::state::AppState;
use crate::store::Store;
use crate::store::{WriteTx, now_ms};
use serde_json::json;
use std::time::Duration;
use tether_shared::signal::{ServerToAgent, Signal};

/// The end reason of sessions found open when the server starts.
pub const SERVER_RESTARTED: &str = "server restarted";

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
    let agent_id: Option<(Option<String>,)> =
        sqlx::query_as("SELECT agent_id FROM sessions WHERE id = $1 AND ended_at IS NULL")
            .bind(session_id)
            .fetch_optional(state.store.pool())
            .await?;
    let Some((agent_id,)) = agent_id else {
        return Ok(());
    };
    // A broker session's target has no agent row; the hub knows it by this.
    let agent_id = agent_id.unwrap_or_else(|| crate::broker_sessions::hub_id(session_id));
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
    // A broker session's code still setting up has nothing left to wait for.
    let code_event = tether_shared::connection_code::Event::SessionEnded;
    crate::broker_sessions::code_event(&mut tx, session_id, code_event, "broker_session.ended", now).await?;
    tx.commit().await?;
    state.relay.close(session_id, reason);
    state.brokers.release(session_id);
    if notify_agent {
        let bye = Signal::Bye { reason: reason.to_owned() };
        state.hub.send(&agent_id, ServerToAgent::Signal { session_id: session_id.to_owned(), signal: bye });
    }
    Ok(())
}

/// Marks `session_id` active once its target answered, audited.
pub async fn activate(state: &AppState, session_id: &str, agent_actor: Actor) -> anyhow::Result<()> {
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    audit::record(&mut tx, &Event::new(agent_actor, "session.start").target(session_id.to_owned()), now).await?;
    sqlx::query("UPDATE sessions SET state = 'active' WHERE id = $1 AND state = 'requested'")
        .bind(session_id)
        .execute(tx.conn())
        .await?;
    crate::broker_sessions::session_started(&mut tx, session_id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that the technician's controller attached again (a reload).
pub async fn record_reattach(
    state: &AppState,
    session_id: &str,
    actor: Actor,
    source: Option<String>,
) -> anyhow::Result<()> {
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(actor, "session.reattach").target(session_id.to_owned()).source(source);
    audit::record(&mut tx, &event, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session a previous run left requested or active (their
/// routes died with it), each audited; returns how many.
pub async fn end_interrupted(store: &Store) -> anyhow::Result<usize> {
    let mut tx = store.begin_write().await?;
    let open: Vec<(String,)> = sqlx::query_as("SELECT id FROM sessions WHERE ended_at IS NULL ORDER BY created_at")
        .fetch_all(tx.conn())
        .await?;
    let now = now_ms();
    for (id,) in &open {
        let event = Event::new(Actor::system(), "session.end")
            .target(id.clone())
            .details(json!({ "reason": SERVER_RESTARTED }));
        audit::record(&mut tx, &event, now).await?;
        sqlx::query(
            "UPDATE sessions SET state = 'ended', ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(SERVER_RESTARTED)
        .bind(id)
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(open.len())
}

/// Ends `session_id` if it is still `requested` after the request timeout.
pub fn watch_request(state: AppState, session_id: String) {
    tokio::spawn(async move {
        let timeout = state.timings.request_timeout;
        tokio::time::sleep(timeout).await;
        if state.relay.phase(&session_id) != Some(Phase::Requested) {
            return;
        }
        let reason = if state.relay.ever_attached(&session_id) {
            format!("the target did not answer within {}", seconds(timeout))
        } else {
            format!("the technician's controller did not connect within {}", seconds(timeout))
        };
        if let Err(err) = end(&state, &session_id, Actor::system(), &reason, true).await {
            tracing::error!(%session_id, error = format!("{err:#}"), "cannot end a session that timed out");
        }
    });
}

/// Ends `session_id` if no controller re-attached within the grace period
/// after `attachment` left without saying bye.
pub fn watch_reload_grace(state: AppState, session_id: String, attachment: u64) {
    tokio::spawn(async move {
        let grace = state.timings.reload_grace;
        tokio::time::sleep(grace).await;
        if !state.relay.abandoned_by(&session_id, attachment) {
            return;
        }
        let reason = format!("the technician's controller disconnected and did not return within {}", seconds(grace));
        if let Err(err) = end(&state, &session_id, Actor::system(), &reason, true).await {
            tracing::error!(%session_id, error = format!("{err:#}"), "cannot end an abandoned session");
        }
    });
}

/// "30 s", "0.2 s".
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}
