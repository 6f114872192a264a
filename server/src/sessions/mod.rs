//! Live sessions: each one's life is a [`SessionLifecycle`] driven by a
//! task of its own (`driver.rs`), reached through the relay; its row and
//! audit entries are written by that task alone (`table.rs`). This module
//! opens sessions and ends them from outside: an administrator's End, a
//! technician losing the right to hold them, the server shutting down.

mod driver;
pub mod table;

pub use driver::Ends;
pub use table::{SERVER_RESTARTED, end_interrupted, end_reason, insert};

use crate::relay::DriverInbox;
use crate::state::AppState;
use crate::store::now_ms;
use tether_shared::mode::{ModeSet, SessionMode};
use tether_shared::session_lifecycle::{Event, Party, SessionLifecycle};
use tokio::sync::{mpsc, watch};

/// Starts driving a session whose row was just written: opens its route
/// and spawns its driver. The session's first grant asks for `granted`.
pub fn open(state: &AppState, ends: Ends, technician_id: &str, granted: SessionMode) {
    let (events, inbox) = mpsc::unbounded_channel();
    let (done_sender, done) = watch::channel(false);
    let (handled_sender, handled) = watch::channel(0);
    let inbox_view = DriverInbox { events, sent: std::sync::Arc::default(), handled, done };
    state.relay.open(&ends.session_id, &ends.target, technician_id, inbox_view);
    let machine = SessionLifecycle::open(state.timings, now_ms()).granting(granted);
    let reach = driver::Reach {
        store: state.store.clone(),
        relay: state.relay.clone(),
        hub: state.hub.clone(),
        brokers: state.brokers.clone(),
        grant_key: state.grant_key.clone(),
    };
    let progress = driver::Progress { handled: handled_sender, done: done_sender };
    tokio::spawn(driver::run(reach, ends, machine, inbox, progress));
}

/// After administrator `by` changed policies, groups or a computer's
/// groups: every live session's driver hears what its technician and
/// computer are allowed now, and narrows or ends the session (recorded,
/// then granted); returns once each has handled it.
pub async fn apply_policies(state: &AppState, by: Party) {
    for route in state.relay.live() {
        let allowed = match crate::grants::session_policy(&state.store, &route.technician_id, &route.agent_id).await {
            Ok(Some(policy)) => policy.access.allowed_modes,
            Ok(None) => ModeSet::empty(),
            Err(err) => {
                tracing::error!(session_id = %route.session_id, error = %err, "cannot read the policy of a live session");
                continue;
            }
        };
        let changed = Event::PolicyChanged { allowed, by: by.clone() };
        if !state.relay.event_handled(&route.session_id, changed).await {
            tracing::debug!(session_id = %route.session_id, "the session ended before the policy change reached it");
        }
    }
}

/// The administrator behind a change, as a session's audit entries name them.
pub fn admin(auth: &crate::auth::AuthUser) -> Party {
    Party::Account { id: auth.0.user.id.clone(), name: auth.0.user.username.clone() }
}

/// Ends `session_id` for `reason`, by `by`, and waits until both ends were
/// told and the end recorded; false (nothing done) if it was not live.
pub async fn revoke(state: &AppState, session_id: &str, by: Party, reason: String) -> bool {
    state.relay.end(session_id, Event::Revoked { by, reason }).await
}

/// Ends every live session of technician `technician_id` (their account
/// was disabled, demoted or deleted), by `by`.
pub async fn revoke_technician(state: &AppState, technician_id: &str, by: Party, reason: &str) {
    let ended = state.relay.sessions_of_technician(technician_id);
    let ends = ended.iter().map(|session_id| revoke(state, session_id, by.clone(), reason.to_owned()));
    futures_util::future::join_all(ends).await;
}

/// Ends every live session on computer `agent_id` (it was revoked), by
/// `by`, and waits until each end is recorded and both ends told.
pub async fn revoke_target(state: &AppState, agent_id: &str, by: Party, reason: &str) {
    let ended = state.relay.sessions_of_agent(agent_id);
    let ends = ended.iter().map(|session_id| revoke(state, session_id, by.clone(), reason.to_owned()));
    futures_util::future::join_all(ends).await;
}

/// Ends every live session because the server is stopping, telling both
/// ends why; returns once each end is recorded.
pub async fn end_all_for_shutdown(state: &AppState) -> usize {
    let live = state.relay.live();
    let ends = live.iter().map(|route| state.relay.end(&route.session_id, Event::ServerStopping));
    futures_util::future::join_all(ends).await;
    live.len()
}
