//! The append-only, hash-chained audit log. Every security-relevant event
//! goes through [`record`], inside the same transaction as the change it
//! describes and before that change, so an action without its entry never
//! commits. Reading it (pages, filters, a session's timeline) is in `list`.

mod list;

pub use list::{BadFilter, MAX_PAGE, MAX_TIMELINE, check, list, of_session};

use crate::store::WriteTx;
use sqlx::{AnyPool, FromRow};
use tether_shared::api::{AuditEntryView, ChainStatus};
use tether_shared::audit_chain::{ChainVerifier, EntryContent, entry_hash};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: Option<String>,
    pub name: String,
}

impl Actor {
    /// An account.
    pub fn user(id: &str, name: &str) -> Self {
        Self { id: Some(id.to_owned()), name: name.to_owned() }
    }

    /// The server itself (start-up, CLI commands).
    pub fn system() -> Self {
        Self { id: None, name: "system".to_owned() }
    }

    /// Someone not (yet) authenticated, named by what they claimed.
    pub fn claimed(name: &str) -> Self {
        Self { id: None, name: name.to_owned() }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub actor: Actor,
    /// Dotted action name, e.g. `auth.login`.
    pub action: &'static str,
    pub target: Option<String>,
    pub source: Option<String>,
    pub details: serde_json::Value,
}

impl Event {
    pub fn new(actor: Actor, action: &'static str) -> Self {
        Self { actor, action, target: None, source: None, details: serde_json::json!({}) }
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    pub fn source(mut self, source: Option<String>) -> Self {
        self.source = source;
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Appends `event` at time `at` within `tx`; returns its `seq`.
pub async fn record(tx: &mut WriteTx, event: &Event, at: i64) -> Result<i64, sqlx::Error> {
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(tx.conn())
            .await?;
    let details = event.details.to_string();
    let content = EntryContent {
        seq,
        at,
        actor_id: event.actor.id.as_deref(),
        actor: &event.actor.name,
        action: event.action,
        target: event.target.as_deref(),
        source: event.source.as_deref(),
        details: &details,
    };
    let hash = entry_hash(&content, &prev_hash);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, target, source, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(seq)
    .bind(at)
    .bind(content.actor_id)
    .bind(content.actor)
    .bind(content.action)
    .bind(content.target)
    .bind(content.source)
    .bind(&details)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1").bind(&hash).execute(tx.conn()).await?;
    Ok(seq)
}

/// A stored row.
#[derive(Debug, FromRow)]
struct Row {
    seq: i64,
    at: i64,
    actor_id: Option<String>,
    actor: String,
    action: String,
    target: Option<String>,
    source: Option<String>,
    details: String,
    prev_hash: String,
    hash: String,
}

impl Row {
    fn content(&self) -> EntryContent<'_> {
        EntryContent {
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id.as_deref(),
            actor: &self.actor,
            action: &self.action,
            target: self.target.as_deref(),
            source: self.source.as_deref(),
            details: &self.details,
        }
    }

    fn into_view(self) -> AuditEntryView {
        let details =
            serde_json::from_str(&self.details).unwrap_or_else(|_| serde_json::Value::String(self.details.clone()));
        AuditEntryView {
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id,
            actor: self.actor,
            action: self.action,
            target: self.target,
            target_name: None,
            actor_name: None,
            session_id: None,
            source: self.source,
            details,
            hash: self.hash,
        }
    }
}

/// Columns of [`Row`] (a macro so fixed queries stay `&'static str`).
macro_rules! audit_columns {
    () => {
        "seq, at, actor_id, actor, action, target, source, details, prev_hash, hash"
    };
}

/// Checks the whole chain, a page at a time, and names the first break.
pub async fn verify(pool: &AnyPool) -> Result<ChainStatus, sqlx::Error> {
    const PAGE: i64 = 1000;
    let mut verifier = ChainVerifier::default();
    let mut after = 0_i64;
    loop {
        let rows: Vec<Row> = sqlx::query_as(concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(after)
        .bind(PAGE)
        .fetch_all(pool)
        .await?;
        for row in &rows {
            if let Err(first_break) = verifier.push(&row.content(), &row.prev_hash, &row.hash) {
                return Ok(ChainStatus {
                    ok: false,
                    entries_checked: verifier.checked(),
                    head_hash: None,
                    first_break: Some(first_break),
                });
            }
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == PAGE => after = last.seq,
            _ => break,
        }
    }
    let (head_seq,): (i64,) = sqlx::query_as("SELECT seq FROM audit_head WHERE id = 1").fetch_one(pool).await?;
    if head_seq > i64::try_from(verifier.checked()).unwrap_or(i64::MAX) {
        let first_missing = i64::try_from(verifier.checked()).unwrap_or(i64::MAX) + 1;
        return Ok(ChainStatus {
            ok: false,
            entries_checked: verifier.checked(),
            head_hash: None,
            first_break: Some(tether_shared::audit_chain::ChainBreak {
                seq: first_missing,
                kind: tether_shared::audit_chain::BreakKind::Missing,
                message: format!("entries {first_missing} to {head_seq} missing at the end of the log: deleted"),
            }),
        });
    }
    Ok(ChainStatus {
        ok: true,
        entries_checked: verifier.checked(),
        head_hash: verifier.head_hash().map(str::to_owned),
        first_break: None,
    })
}
