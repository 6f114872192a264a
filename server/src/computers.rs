//! Enrolled computers as the administrator manages them: the list with
//! groups and presence, the display name an administrator gives one (kept
//! apart from the host name its agent reports), and revocation, after which
//! its credential no longer authenticates ([`crate::agents::authenticate`]
//! reads `revoked_at`).

use crate::groups;
use crate::store::WriteTx;
use sqlx::{AnyPool, FromRow};
use tether_shared::agent::AgentInfo;
use tether_shared::groups::ComputerView;

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 128;

#[derive(FromRow)]
struct Row {
    id: String,
    hostname: String,
    display_name: Option<String>,
    info: String,
    enrolled_at: i64,
    last_seen_at: Option<i64>,
}

/// Every computer not revoked, with its groups, online according to
/// `is_online`, by name.
pub async fn list(pool: &AnyPool, is_online: impl Fn(&str) -> bool) -> Result<Vec<ComputerView>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, hostname, display_name, info, enrolled_at, last_seen_at FROM agents WHERE revoked_at IS NULL \
         ORDER BY COALESCE(display_name, hostname), id",
    )
    .fetch_all(pool)
    .await?;
    let mut groups = groups::of_every_target(pool).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let agent_version =
                serde_json::from_str::<AgentInfo>(&row.info).map(|info| info.agent_version).unwrap_or_default();
            ComputerView {
                online: is_online(&row.id),
                groups: groups.remove(&row.id).unwrap_or_default(),
                name: row.display_name.clone().unwrap_or_else(|| row.hostname.clone()),
                id: row.id,
                display_name: row.display_name,
                hostname: row.hostname,
                last_seen_at: row.last_seen_at,
                agent_version,
                enrolled_at: row.enrolled_at,
            }
        })
        .collect())
}

/// The name computer `id` goes by, if it is enrolled and not revoked.
pub async fn name_of(tx: &mut WriteTx, id: &str) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT COALESCE(display_name, hostname) FROM agents WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    Ok(row.map(|(name,)| name))
}

/// A display name as typed, checked: `Ok(None)` for empty (back to the
/// host name), else 1 to [`MAX_DISPLAY_NAME_CHARS`] printable characters.
pub fn display_name(typed: &str) -> Result<Option<&str>, &'static str> {
    let name = typed.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err("display_name must be at most 128 printable characters");
    }
    Ok(Some(name))
}

pub async fn set_display_name(tx: &mut WriteTx, id: &str, name: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE agents SET display_name = $1 WHERE id = $2").bind(name).bind(id).execute(tx.conn()).await?;
    Ok(())
}

/// Revokes computer `id`: its credential stops authenticating.
pub async fn revoke(tx: &mut WriteTx, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE agents SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_bounded_or_cleared() {
        assert_eq!(display_name("  Front desk "), Ok(Some("Front desk")));
        assert_eq!(display_name("  "), Ok(None));
        assert!(display_name(&"x".repeat(129)).is_err());
        assert!(display_name("a\u{1b}b").is_err());
    }
}
