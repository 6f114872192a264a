//! Login sessions and their refresh tokens. The token is random, shown to
//! the browser once (in an `HttpOnly` cookie), stored only as its SHA-256,
//! and replaced at every refresh.

use crate::secret;
use crate::store::WriteTx;

/// A refresh keeps the session alive this long past the last refresh.
pub const IDLE_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;

/// A fresh login session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub refresh_token: String,
}

/// A session found by its refresh token and rotated.
#[derive(Debug, Clone)]
pub struct Rotated {
    pub session_id: String,
    pub user_id: String,
    pub refresh_token: String,
}

fn new_refresh_token() -> String {
    secret::generate("")
}

fn token_hash(token: &str) -> String {
    secret::digest(token)
}

/// Starts a session for `user_id`.
pub async fn create(
    tx: &mut WriteTx,
    user_id: &str,
    source: Option<&str>,
    now: i64,
) -> Result<NewSession, sqlx::Error> {
    let session = NewSession { id: uuid::Uuid::new_v4().to_string(), refresh_token: new_refresh_token() };
    sqlx::query(
        "INSERT INTO login_sessions (id, user_id, refresh_hash, source, created_at, refreshed_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(&session.id)
    .bind(user_id)
    .bind(token_hash(&session.refresh_token))
    .bind(source)
    .bind(now)
    .bind(now + IDLE_LIFETIME_MS)
    .execute(tx.conn())
    .await?;
    Ok(session)
}

/// Replaces a live session's refresh token; `None` if the token is unknown,
/// revoked or expired, or its account is disabled.
pub async fn rotate(tx: &mut WriteTx, refresh_token: &str, now: i64) -> Result<Option<Rotated>, sqlx::Error> {
    let found: Option<(String, String)> = sqlx::query_as(
        "SELECT s.id, s.user_id FROM login_sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.refresh_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND u.disabled_at IS NULL",
    )
    .bind(token_hash(refresh_token))
    .bind(now)
    .fetch_optional(tx.conn())
    .await?;
    let Some((session_id, user_id)) = found else {
        return Ok(None);
    };
    let refresh_token = new_refresh_token();
    sqlx::query("UPDATE login_sessions SET refresh_hash = $1, refreshed_at = $2, expires_at = $3 WHERE id = $4")
        .bind(token_hash(&refresh_token))
        .bind(now)
        .bind(now + IDLE_LIFETIME_MS)
        .bind(&session_id)
        .execute(tx.conn())
        .await?;
    Ok(Some(Rotated { session_id, user_id, refresh_token }))
}

/// Ends one session.
pub async fn revoke(tx: &mut WriteTx, session_id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(session_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends every session of `user_id` except `keep` (if given).
pub async fn revoke_all_for_user(
    tx: &mut WriteTx,
    user_id: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3")
        .bind(now)
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(tx.conn())
        .await?;
    Ok(())
}
