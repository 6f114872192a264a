//! Expires codes by the server's clock without waiting for someone to read
//! them, so "code expired" reaches the audit log promptly, and ends the
//! session of a redeemed code that never became active in time.

use super::record::{self, Key};
use crate::audit::Actor;
use crate::sessions;
use crate::state::AppState;
use crate::store::now_ms;
use std::time::Duration;
use tether_shared::connection_code::{CodeState, Event};
use tether_shared::session_lifecycle::Party;

/// How often the sweeper looks for codes past their deadline.
pub const SWEEP_EVERY: Duration = Duration::from_millis(500);

/// Runs [`sweep`] every [`SWEEP_EVERY`] for as long as the runtime lives.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(err) = sweep(&state).await {
                tracing::error!(error = format!("{err:#}"), "cannot sweep expired connection codes");
            }
        }
    });
}

/// Expires every code whose deadline passed; returns how many.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    let now = now_ms();
    let due: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM broker_sessions \
         WHERE status IN ('waiting', 'target_connected', 'awaiting_acceptance') AND deadline <= $1",
    )
    .bind(now)
    .fetch_all(state.store.pool())
    .await?;
    for (id,) in &due {
        let mut tx = state.store.begin_write().await?;
        let Some(mut record) = record::load_by(&mut tx, Key::Id, id).await? else {
            continue;
        };
        let was_redeemed = !matches!(record.lifecycle.state(), CodeState::Waiting { .. });
        record::apply(&mut tx, &mut record, Event::Tick, "broker_session.tick", Actor::system(), now).await?.ok();
        tx.commit().await?;
        if was_redeemed
            && record.lifecycle.state() == CodeState::Expired
            && let Some(session_id) = &record.session_id
        {
            let reason = "the session did not start in time".to_owned();
            sessions::revoke(state, session_id, Party::System, reason).await;
        }
    }
    Ok(due.len())
}
