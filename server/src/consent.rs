//! The target user's answer to a session (policy: user acceptance for
//! incoming connections), as the target's agent reports it on its socket.
//! Each step is audited before it takes effect, moves a broker session's
//! code along (awaiting acceptance → active, rejected or expired), and is
//! shown to the controller; a refusal ends the session. The server keeps
//! its own clock on the question: a target that asks and never answers has
//! its session ended when the announced time (plus a little) is up.

use crate::audit::{self, Event as AuditEvent};
use crate::relay::Phase;
use crate::routes::agents::agent_actor;
use crate::sessions;
use crate::state::AppState;
use crate::store::now_ms;
use serde_json::json;
use std::time::Duration;
use tether_shared::connection_code::Event as CodeEvent;
use tether_shared::signal::{ConsentStep, ServerToController};

/// How long past the announced timeout the server waits for the answer.
const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// Acts on `step` for `session_id`, reported by the agent `agent_id`.
/// Steps out of order, for another agent's session, or announcing an
/// impossible timeout are logged and ignored.
pub async fn on_step(state: &AppState, agent_id: &str, session_id: &str, step: ConsentStep) -> anyhow::Result<()> {
    let phase = state.relay.phase(session_id).filter(|_| state.relay.is_agents(session_id, agent_id));
    let fits = match (phase, step) {
        (Some(Phase::Requested), ConsentStep::Asking { timeout_secs }) => {
            (1..=ConsentStep::MAX_TIMEOUT_SECS).contains(&timeout_secs)
        }
        (Some(Phase::AwaitingUser { .. }), ConsentStep::Accepted | ConsentStep::Rejected | ConsentStep::NoAnswer) => {
            true
        }
        _ => false,
    };
    if !fits {
        tracing::warn!(%agent_id, %session_id, step = step.as_str(), ?phase, "ignoring a consent step out of place");
        return Ok(());
    }
    record(state, agent_id, session_id, step).await?;
    match step {
        ConsentStep::Asking { timeout_secs } => {
            state.relay.ask_user(session_id, agent_id, timeout_secs);
            state.relay.to_controller(session_id, agent_id, ServerToController::AwaitingUser { timeout_secs });
            watch_answer(state.clone(), session_id.to_owned(), timeout_secs);
        }
        ConsentStep::Accepted => {
            state.relay.user_accepted(session_id, agent_id);
            // The target's answer to the offer must follow, as for any request.
            sessions::watch_request(state.clone(), session_id.to_owned());
        }
        ConsentStep::Rejected => {
            let reason = "the user at the target rejected the session";
            sessions::end(state, session_id, agent_actor(agent_id), reason, false).await?;
        }
        ConsentStep::NoAnswer => {
            let reason = "the user at the target did not answer in time";
            sessions::end(state, session_id, agent_actor(agent_id), reason, false).await?;
        }
    }
    Ok(())
}

/// The audit entry for `step`, and a broker session's code event, in one
/// transaction.
async fn record(state: &AppState, agent_id: &str, session_id: &str, step: ConsentStep) -> anyhow::Result<()> {
    let (action, code_event, code_action) = match step {
        ConsentStep::Asking { .. } => {
            ("session.user_asked", CodeEvent::AcceptancePrompted, "broker_session.acceptance_prompted")
        }
        ConsentStep::Accepted => ("session.user_accepted", CodeEvent::UserAccepted, "broker_session.accepted"),
        ConsentStep::Rejected => ("session.user_rejected", CodeEvent::UserRejected, "broker_session.rejected"),
        ConsentStep::NoAnswer => ("session.user_no_answer", CodeEvent::AcceptanceTimedOut, "broker_session.expired"),
    };
    let details = match step {
        ConsentStep::Asking { timeout_secs } => json!({ "timeout_secs": timeout_secs }),
        _ => json!({}),
    };
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let entry = AuditEvent::new(agent_actor(agent_id), action).target(session_id.to_owned()).details(details);
    audit::record(&mut tx, &entry, now).await?;
    crate::broker_sessions::code_event(&mut tx, session_id, code_event, code_action, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends `session_id` if its user is still being asked when the announced
/// time (plus [`ANSWER_GRACE`]) is up: the agent should have said so.
fn watch_answer(state: AppState, session_id: String, timeout_secs: u32) {
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(u64::from(timeout_secs)) + ANSWER_GRACE).await;
        if !matches!(state.relay.phase(&session_id), Some(Phase::AwaitingUser { .. })) {
            return;
        }
        let reason = format!("the user at the target did not answer within {timeout_secs} s");
        if let Err(err) = sessions::end(&state, &session_id, audit::Actor::system(), &reason, true).await {
            tracing::error!(%session_id, error = format!("{err:#}"), "cannot end a session nobody answered");
        }
    });
}
