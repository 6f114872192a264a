//! The `enrollment_tokens` and `agents` tables: issuing and redeeming
//! enrollment tokens, agent credentials, and what agents last reported.

use crate::secret;
use crate::store::WriteTx;
use sqlx::{AnyPool, FromRow};
use tether_shared::agent::{AgentInfo, EnrollmentTokenView, TargetView};

/// An enrollment token as stored.
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: String,
    pub label: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: i64,
    pub uses: i64,
    pub revoked_at: Option<i64>,
}

impl TokenRow {
    pub fn view(&self, created_by_name: &str) -> EnrollmentTokenView {
        EnrollmentTokenView {
            id: self.id.clone(),
            label: self.label.clone(),
            created_by: created_by_name.to_owned(),
            created_at: self.created_at,
            expires_at: self.expires_at,
            max_uses: u32::try_from(self.max_uses).unwrap_or(u32::MAX),
            uses: u32::try_from(self.uses).unwrap_or(u32::MAX),
            revoked: self.revoked_at.is_some(),
            groups: Vec::new(),
        }
    }
}

/// Stores a new token; returns the row and the secret to show once.
pub async fn create_token(
    tx: &mut WriteTx,
    label: &str,
    created_by: &str,
    ttl_ms: i64,
    max_uses: u32,
    now: i64,
) -> Result<(TokenRow, String), sqlx::Error> {
    let token = secret::generate("tet_");
    let row = TokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        label: label.to_owned(),
        created_by: created_by.to_owned(),
        created_at: now,
        expires_at: now + ttl_ms,
        max_uses: i64::from(max_uses),
        uses: 0,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO enrollment_tokens (id, token_hash, label, created_by, created_at, expires_at, max_uses) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(secret::digest(&token))
    .bind(&row.label)
    .bind(&row.created_by)
    .bind(row.created_at)
    .bind(row.expires_at)
    .bind(row.max_uses)
    .execute(tx.conn())
    .await?;
    Ok((row, token))
}

/// Every token with its creator's username, newest first.
pub async fn list_tokens(pool: &AnyPool) -> Result<Vec<(TokenRow, String)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Joined {
        #[sqlx(flatten)]
        token: TokenRow,
        username: String,
    }
    let rows: Vec<Joined> = sqlx::query_as(
        "SELECT t.id, t.label, t.created_by, t.created_at, t.expires_at, t.max_uses, t.uses, t.revoked_at, \
         u.username FROM enrollment_tokens t JOIN users u ON u.id = t.created_by ORDER BY t.created_at DESC",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|row| (row.token, row.username)).collect())
}

/// Revokes a token; false if there is no such token.
pub async fn revoke_token(tx: &mut WriteTx, id: &str, now: i64) -> Result<Option<String>, sqlx::Error> {
    let label: Option<(String,)> =
        sqlx::query_as("SELECT label FROM enrollment_tokens WHERE id = $1").bind(id).fetch_optional(tx.conn()).await?;
    if label.is_some() {
        sqlx::query("UPDATE enrollment_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    Ok(label.map(|(label,)| label))
}

/// Takes one use of a live token; its id and label, or `None` if the token
/// is unknown, expired, revoked or used up.
pub async fn redeem_token(tx: &mut WriteTx, token: &str, now: i64) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE enrollment_tokens SET uses = uses + 1 \
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 AND uses < max_uses \
         RETURNING id, label",
    )
    .bind(secret::digest(token))
    .bind(now)
    .fetch_optional(tx.conn())
    .await
}

/// Stores a new agent; returns its id and credential (shown once).
pub async fn create_agent(
    tx: &mut WriteTx,
    token_id: &str,
    info: &AgentInfo,
    now: i64,
) -> Result<(String, String), sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    let credential = secret::generate("tac_");
    sqlx::query(
        "INSERT INTO agents (id, credential_hash, enrollment_token, hostname, info, enrolled_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(secret::digest(&credential))
    .bind(token_id)
    .bind(&info.hostname)
    .bind(serde_json::to_string(info).unwrap_or_default())
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok((id, credential))
}

/// The id of the live (not revoked) agent holding `credential`.
pub async fn authenticate(pool: &AnyPool, credential: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM agents WHERE credential_hash = $1 AND revoked_at IS NULL")
            .bind(secret::digest(credential))
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id,)| id))
}

/// Whether agent `id` was revoked (or never existed).
pub async fn is_revoked(pool: &AnyPool, id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM agents WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.is_none())
}

/// Records what a connected agent reports and that it was seen now.
pub async fn record_seen(pool: &AnyPool, id: &str, info: Option<&AgentInfo>, now: i64) -> Result<(), sqlx::Error> {
    match info {
        Some(info) => {
            sqlx::query("UPDATE agents SET info = $1, hostname = $2, last_seen_at = $3 WHERE id = $4")
                .bind(serde_json::to_string(info).unwrap_or_default())
                .bind(&info.hostname)
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?
        }
        None => {
            sqlx::query("UPDATE agents SET last_seen_at = $1 WHERE id = $2").bind(now).bind(id).execute(pool).await?
        }
    };
    Ok(())
}

/// Every live agent as a target that `reachable` lets through, online
/// according to `is_online`.
pub async fn targets(
    pool: &AnyPool,
    reachable: impl Fn(&str) -> bool,
    is_online: impl Fn(&str) -> bool,
) -> Result<Vec<TargetView>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        id: String,
        display_name: Option<String>,
        info: String,
        enrolled_at: i64,
        last_seen_at: Option<i64>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, display_name, info, enrolled_at, last_seen_at FROM agents WHERE revoked_at IS NULL \
         ORDER BY COALESCE(display_name, hostname), id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|row| reachable(&row.id))
        .filter_map(|Row { id, display_name, info, enrolled_at, last_seen_at }| {
            let info = serde_json::from_str(&info).ok()?;
            Some(TargetView { online: is_online(&id), id, display_name, info, last_seen_at, enrolled_at })
        })
        .collect())
}

/// How the audit log names a target: `agent:<id>` (an enrolled agent) or
/// `agent:broker:<session>` (a broker session's target).
pub fn actor(target: &str) -> crate::audit::Actor {
    crate::audit::Actor { id: None, name: format!("agent:{target}") }
}
