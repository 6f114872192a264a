//! The `sessions` table: a session's row, each recorded step written with
//! its audit entry (and a broker session's code event) in one transaction,
//! the reason a finished session ended, and the start-up sweep of sessions
//! a previous run left open.

use crate::audit::{self, Actor, Event as AuditEvent};
use crate::store::{Store, WriteTx, now_ms};
use serde_json::json;
use tether_shared::agent::AgentInfo;
use tether_shared::api::SessionSummary;
use tether_shared::mode::SessionMode;
use tether_shared::session_lifecycle::Step;
use tether_shared::signal::ModeStep;

/// The end reason of sessions found open when the server starts.
pub const SERVER_RESTARTED: &str = "server restarted";

/// A new session's row for enrolled agent `agent_id`, `requested` (a
/// broker session's row is written by its redemption).
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
pub async fn end_reason(store: &Store, session_id: &str, technician_id: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT end_reason FROM sessions WHERE id = $1 AND technician_id = $2 AND ended_at IS NOT NULL")
            .bind(session_id)
            .bind(technician_id)
            .fetch_optional(store.pool())
            .await?;
    Ok(row.map(|(reason,)| reason.unwrap_or_else(|| "the session has ended".to_owned())))
}

/// Records `step` of session `session_id` by `actor` at `now`: the audit
/// entry, the row's state, a broker session's code event, in one
/// transaction. An end is recorded once: if the row has ended already (a
/// concurrent end, another server process) nothing is written and `false`
/// comes back. The row is locked while checked (`FOR UPDATE` on
/// PostgreSQL; SQLite has one writer at a time).
pub async fn record(store: &Store, session_id: &str, step: &Step, actor: Actor, now: i64) -> anyhow::Result<bool> {
    let mut tx = store.begin_write().await?;
    let lock = if tx.conn().backend_name() == "PostgreSQL" { " FOR UPDATE" } else { "" };
    let open: Option<(Option<i64>,)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT ended_at FROM sessions WHERE id = $1{lock}")))
            .bind(session_id)
            .fetch_optional(tx.conn())
            .await?;
    if !matches!(open, Some((None,))) {
        tracing::warn!(%session_id, step = step.action(), "not recording a step of a session that has ended");
        return Ok(false);
    }
    let mut entry = AuditEvent::new(actor.clone(), step.action()).target(session_id.to_owned());
    match step {
        Step::UserAsked { timeout_secs } => entry = entry.details(json!({ "timeout_secs": timeout_secs })),
        Step::Ended { reason, at: None, .. } => entry = entry.details(json!({ "reason": reason })),
        Step::Ended { reason, at: Some(at), .. } => {
            entry = entry.details(json!({ "reason": reason, "ended_at_target": at }));
        }
        Step::Reattached { source } => entry = entry.source(source.clone()),
        Step::UserAccepted { mode: Some(mode) } => entry = entry.details(json!({ "mode": mode })),
        Step::ModeRequested { requested, granted } => {
            entry = entry.details(json!({ "mode": requested, "granted": granted }));
        }
        Step::Mode(change) => entry = entry.details(json!(change)),
        Step::PolicyNarrowed { from, to, .. } => entry = entry.details(json!({ "from": from, "to": to })),
        Step::Chat { from, text } => entry = entry.details(json!({ "from": from, "text": text })),
        Step::UserAccepted { mode: None } | Step::UserRejected | Step::UserNoAnswer | Step::Started => {}
    }
    audit::record(&mut tx, &entry, now).await?;
    match step {
        Step::Ended { reason, at, .. } => {
            sqlx::query(
                "UPDATE sessions SET state = 'ended', ended_at = $1, end_reason = $2, ended_by = $3 \
                 WHERE id = $4 AND ended_at IS NULL",
            )
            .bind(at.unwrap_or(now))
            .bind(reason)
            .bind(&actor.name)
            .bind(session_id)
            .execute(tx.conn())
            .await?;
        }
        Step::UserAccepted { mode } => {
            sqlx::query("UPDATE sessions SET state = 'accepted', mode = $1 WHERE id = $2 AND ended_at IS NULL")
                .bind(mode.map(SessionMode::key))
                .bind(session_id)
                .execute(tx.conn())
                .await?;
        }
        Step::UserAsked { .. } | Step::Started => {
            let state = if matches!(step, Step::UserAsked { .. }) { "asking" } else { "active" };
            sqlx::query("UPDATE sessions SET state = $1 WHERE id = $2 AND ended_at IS NULL")
                .bind(state)
                .bind(session_id)
                .execute(tx.conn())
                .await?;
        }
        Step::Mode(ModeStep::InForce { mode, .. }) => {
            sqlx::query("UPDATE sessions SET mode = $1 WHERE id = $2 AND ended_at IS NULL")
                .bind(mode.key())
                .bind(session_id)
                .execute(tx.conn())
                .await?;
        }
        Step::UserRejected
        | Step::UserNoAnswer
        | Step::Reattached { .. }
        | Step::ModeRequested { .. }
        | Step::PolicyNarrowed { .. }
        | Step::Chat { .. }
        | Step::Mode(ModeStep::Asking { .. } | ModeStep::Refused { .. }) => {}
    }
    if let Some((event, action)) = step.code_event() {
        crate::broker_sessions::code_event(&mut tx, session_id, event, action, now).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Ends every session a previous run left open (their routes died with
/// it), each audited; returns how many.
pub async fn end_interrupted(store: &Store) -> anyhow::Result<usize> {
    let open: Vec<(String,)> = sqlx::query_as("SELECT id FROM sessions WHERE ended_at IS NULL ORDER BY created_at")
        .fetch_all(store.pool())
        .await?;
    let step = Step::Ended {
        reason: SERVER_RESTARTED.to_owned(),
        by: tether_shared::session_lifecycle::Party::System,
        at: None,
    };
    let mut ended = 0;
    for (id,) in &open {
        if record(store, id, &step, Actor::system(), now_ms()).await? {
            ended += 1;
        }
    }
    Ok(ended)
}

/// Which sessions a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed<'a> {
    /// Every session (administrators, auditors).
    All,
    /// One technician's.
    OfTechnician(&'a str),
}

/// Most sessions one list returns, newest first.
const LIST_LIMIT: i64 = 500;

type SummaryRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The columns and joins of a [`SummaryRow`] (a macro so queries stay
/// `&'static str`).
macro_rules! summary_from {
    () => {
        "SELECT s.id, u.display_name, a.info, b.target_info, s.state, s.created_at, s.ended_at, s.end_reason, \
         s.ended_by, s.mode FROM sessions s JOIN users u ON u.id = s.technician_id \
         LEFT JOIN agents a ON a.id = s.agent_id LEFT JOIN broker_sessions b ON b.session_id = s.id "
    };
}

/// Sessions, newest first, as lists show them (without the live-only
/// fields, which the caller fills from the relay).
pub async fn list(store: &Store, listed: Listed<'_>, live_only: bool) -> Result<Vec<SessionSummary>, sqlx::Error> {
    let technician = match listed {
        Listed::All => None,
        Listed::OfTechnician(id) => Some(id),
    };
    let rows: Vec<SummaryRow> = sqlx::query_as(concat!(
        summary_from!(),
        "WHERE ($1 IS NULL OR s.technician_id = $1) AND ($2 = 0 OR s.ended_at IS NULL) \
         ORDER BY s.created_at DESC LIMIT $3"
    ))
    .bind(technician)
    .bind(i64::from(live_only))
    .bind(LIST_LIMIT)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(summary).collect())
}

/// One session as lists show it, if it exists.
pub async fn get(store: &Store, session_id: &str) -> Result<Option<SessionSummary>, sqlx::Error> {
    let row: Option<SummaryRow> = sqlx::query_as(concat!(summary_from!(), "WHERE s.id = $1"))
        .bind(session_id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(summary))
}

fn summary(row: SummaryRow) -> SessionSummary {
    let (id, technician, agent_info, target_info, state, created_at, ended_at, end_reason, ended_by, mode) = row;
    let kind = if agent_info.is_some() { "enrolled" } else { "code" };
    // Both columns hold an `AgentInfo` as JSON, checked when it was stored.
    let info = agent_info.or(target_info).and_then(|text| serde_json::from_str::<AgentInfo>(&text).ok());
    SessionSummary {
        id,
        technician,
        computer: info.as_ref().map_or_else(|| "(unknown)".to_owned(), |info| info.hostname.clone()),
        person: info.map(|info| info.os_user).filter(|user| !user.is_empty()),
        kind: kind.to_owned(),
        state,
        created_at,
        ended_at,
        end_reason,
        ended_by,
        mode: mode.as_deref().and_then(SessionMode::from_key),
        broker: None,
        controller_attached: false,
    }
}

/// The mode session `session_id` runs in, once its agent said: the one
/// the person accepted it in, then each change.
pub async fn session_mode(store: &Store, session_id: &str) -> Result<Option<SessionMode>, sqlx::Error> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT mode FROM sessions WHERE id = $1").bind(session_id).fetch_optional(store.pool()).await?;
    Ok(row.and_then(|(mode,)| mode).as_deref().and_then(SessionMode::from_key))
}
