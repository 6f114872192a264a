//! The `brokers` table: brokers administrators added, as [`BrokerSpec`]s.

use super::registry::BrokerSpec;
use crate::store::WriteTx;
use anyhow::Context;
use sqlx::AnyPool;

/// Every stored broker, oldest first.
pub async fn list(pool: &AnyPool) -> anyhow::Result<Vec<BrokerSpec>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, urls FROM brokers ORDER BY created_at, id").fetch_all(pool).await?;
    rows.into_iter()
        .map(|(id, urls)| {
            let urls = serde_json::from_str(&urls).with_context(|| format!("broker {id}: bad stored URLs"))?;
            Ok(BrokerSpec { id, urls })
        })
        .collect()
}

/// Stores a broker; a duplicate id is a unique violation.
pub async fn insert(tx: &mut WriteTx, spec: &BrokerSpec, created_by: &str, now: i64) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO brokers (id, urls, created_by, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&spec.id)
        .bind(serde_json::to_string(&spec.urls)?)
        .bind(created_by)
        .bind(now)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Deletes a broker; whether one was there.
pub async fn delete(tx: &mut WriteTx, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM brokers WHERE id = $1").bind(id).execute(tx.conn()).await?;
    Ok(done.rows_affected() > 0)
}

/// Whether a stored broker is named `id`.
pub async fn exists(tx: &mut WriteTx, id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM brokers WHERE id = $1").bind(id).fetch_optional(tx.conn()).await?;
    Ok(row.is_some())
}
