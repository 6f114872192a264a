//! The technician's side of a broker session: create a code, read its
//! state (expiry applied by the server's clock on every read), Request New,
//! Extend and Cancel. Only the owner may see or act on a broker session;
//! anyone else gets "not found".

use super::record::{self, Key, Record};
use crate::audit::{self, Actor, Event as AuditEvent};
use crate::error::HttpError;
use crate::sessions;
use crate::state::AppState;
use crate::store::{WriteTx, now_ms};
use serde_json::json;
use tether_shared::broker::BrokerSessionView;
use tether_shared::connection_code::{CodeLifecycle, CodeState, ConnectionCode, Event, Refusal};
use tether_shared::error_code;
use tether_shared::session_lifecycle::Party;

/// Codes drawn before giving up on finding one that no live code has.
const MAX_DRAWS: usize = 16;

/// Who acts, and where the code's link points.
#[derive(Debug, Clone)]
pub struct Owner {
    pub id: String,
    pub username: String,
    pub source: Option<String>,
    /// `scheme://host[:port]` for the code's URL form, if known.
    pub base_url: Option<String>,
}

impl Owner {
    fn actor(&self) -> Actor {
        Actor::user(&self.id, &self.username)
    }
}

/// What the technician can do to a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    RequestNew,
    Extend,
    Cancel,
}

/// A new broker session with a fresh code.
pub async fn create(state: &AppState, owner: &Owner) -> Result<BrokerSessionView, HttpError> {
    let now = now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.store.begin_write().await?;
    // The policy in force now is the one this code and its session keep.
    let session_policy = crate::policies::session_policy(tx.conn()).await?;
    let policy = session_policy.code_policy();
    let lifecycle = CodeLifecycle::issue(policy, now);
    let (code, hash) = fresh_code(state, &mut tx).await?;
    let event = AuditEvent::new(owner.actor(), "broker_session.issue")
        .target(id.clone())
        .source(owner.source.clone())
        .details(json!({ "policy": session_policy }));
    audit::record(&mut tx, &event, now).await?;
    let state_now = lifecycle.state();
    sqlx::query(
        "INSERT INTO broker_sessions (id, owner_id, code_hash, status, deadline, wrong_guesses, lifetime_secs, \
         max_wrong_guesses, acceptance_timeout_secs, user_acceptance, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(&owner.id)
    .bind(&hash)
    .bind(state_now.as_str())
    .bind(state_now.deadline())
    .bind(i64::try_from(policy.lifetime.as_secs()).unwrap_or(i64::MAX))
    .bind(i64::from(policy.max_wrong_guesses))
    .bind(i64::try_from(policy.acceptance_timeout.as_secs()).unwrap_or(i64::MAX))
    .bind(i64::from(session_policy.user_acceptance))
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.commit().await?;
    let record = Record {
        id,
        owner_id: owner.id.clone(),
        lifecycle,
        user_acceptance: session_policy.user_acceptance,
        session_id: None,
        target: None,
        broker: None,
        broker_address: None,
    };
    Ok(view(&record, Some((code, owner.base_url.as_deref())), now))
}

/// The owner's broker session `id`, with expiry applied. The window polls
/// this every second, so it takes the write turn only when the deadline
/// changed something.
pub async fn read(state: &AppState, id: &str, owner: &Owner) -> Result<BrokerSessionView, HttpError> {
    let now = now_ms();
    let record = record::load_id(state.store.pool(), id)
        .await?
        .filter(|record| record.owner_id == owner.id)
        .ok_or_else(|| HttpError::not_found("no such broker session"))?;
    let mut ticked = record.lifecycle.clone();
    let _ = ticked.handle(Event::Tick, now);
    if ticked == record.lifecycle {
        return Ok(view(&record, None, now));
    }
    let mut tx = state.store.begin_write().await?;
    let mut record = owned(&mut tx, id, owner).await?;
    record::apply(&mut tx, &mut record, Event::Tick, "broker_session.tick", Actor::system(), now).await?.ok();
    tx.commit().await?;
    Ok(view(&record, None, now))
}

/// Request New, Extend or Cancel, by the owner.
pub async fn act(state: &AppState, id: &str, owner: &Owner, action: Action) -> Result<BrokerSessionView, HttpError> {
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let mut record = owned(&mut tx, id, owner).await?;
    let (event, name) = match action {
        Action::RequestNew => (Event::RequestNew, "broker_session.renew"),
        Action::Extend => (Event::Extend, "broker_session.extend"),
        Action::Cancel => (Event::Cancel, "broker_session.cancel"),
    };
    let before = record.lifecycle.state();
    let outcome = record::apply(&mut tx, &mut record, event, name, owner.actor(), now).await?;
    let renewable = matches!(record.lifecycle.state(), CodeState::Replaced | CodeState::Expired | CodeState::Voided)
        && record.session_id.is_none();
    let mut made = None;
    match (action, outcome) {
        (Action::RequestNew, Ok(())) | (Action::RequestNew, Err(_)) if renewable => {
            if !matches!(before, CodeState::Waiting { .. }) {
                // A dead code (expired, voided) gets a new one too: audit it here,
                // since the lifecycle itself refused Request New.
                let entry = AuditEvent::new(owner.actor(), name)
                    .target(record.id.clone())
                    .details(json!({ "from": record.lifecycle.state().as_str(), "to": "waiting" }));
                audit::record(&mut tx, &entry, now).await?;
            }
            let (code, hash) = fresh_code(state, &mut tx).await?;
            record.lifecycle = CodeLifecycle::issue(record.lifecycle.policy(), now);
            record::save(&mut tx, &record.id, &record.lifecycle, now).await?;
            sqlx::query("UPDATE broker_sessions SET code_hash = $1 WHERE id = $2")
                .bind(&hash)
                .bind(&record.id)
                .execute(tx.conn())
                .await?;
            made = Some(code);
        }
        (_, Ok(())) => {}
        (_, Err(refusal)) => {
            tx.commit().await?;
            return Err(refused(refusal));
        }
    }
    tx.commit().await?;
    if action == Action::Cancel
        && let Some(session_id) = &record.session_id
    {
        let reason = "the technician cancelled the connection".to_owned();
        sessions::revoke(state, session_id, Party::Technician, reason).await;
    }
    Ok(view(&record, made.map(|code| (code, owner.base_url.as_deref())), now))
}

fn refused(refusal: Refusal) -> HttpError {
    HttpError::Conflict { code: error_code::CODE_STATE, message: refusal.to_string() }
}

async fn owned(tx: &mut WriteTx, id: &str, owner: &Owner) -> Result<Record, HttpError> {
    record::load_by(tx, Key::Id, id)
        .await?
        .filter(|record| record.owner_id == owner.id)
        .ok_or_else(|| HttpError::not_found("no such broker session"))
}

/// A code no live broker session has, and its hash.
async fn fresh_code(state: &AppState, tx: &mut WriteTx) -> Result<(ConnectionCode, String), HttpError> {
    for _ in 0..MAX_DRAWS {
        let code = ConnectionCode::generate(&mut rand::rngs::OsRng);
        let hash = state.broker_sessions.key.hash(code);
        let (live,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM broker_sessions WHERE code_hash = $1 \
             AND status IN ('waiting', 'target_connected', 'awaiting_acceptance')",
        )
        .bind(&hash)
        .fetch_one(tx.conn())
        .await?;
        if live == 0 {
            return Ok((code, hash));
        }
    }
    Err(HttpError::Internal(anyhow::anyhow!("no free connection code after {MAX_DRAWS} draws")))
}

/// The technician's view; `made` carries the code when this answer made it.
pub fn view(record: &Record, made: Option<(ConnectionCode, Option<&str>)>, now: i64) -> BrokerSessionView {
    BrokerSessionView {
        id: record.id.clone(),
        code: made.map(|(code, _)| code.to_string()),
        url: made.and_then(|(code, base)| base.map(|base| code.url(base))),
        state: record.lifecycle.state(),
        server_now: now,
        lifetime_secs: record.lifecycle.policy().lifetime.as_secs(),
        session_id: record.session_id.clone(),
        target: record.target.clone(),
        broker: record.broker_address.clone(),
    }
}
