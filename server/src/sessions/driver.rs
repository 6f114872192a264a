//! The one task per live session that drives its
//! [`SessionLifecycle`]: events from both ends (through the relay) and the
//! machine's one deadline go in; what comes out is carried out in order —
//! steps recorded (audited) before the messages after them are sent, then
//! the route closed. The task is the only writer of the session's state.

use crate::audit::Actor;
use crate::grants::{Grantee, IssueError};
use crate::hub::Hub;
use crate::relay::{Delivery, Relay};
use crate::store::{Store, now_ms};
use std::time::Duration;
use tether_shared::chat::{ChatLine, PERSON_NAME, Speaker};
use tether_shared::mode::SessionMode;
use tether_shared::session_lifecycle::{Effect, Event, Party, SessionLifecycle, Step};
use tether_shared::signal::{ServerToAgent, ServerToController};
use tokio::sync::{mpsc, watch};

/// Who a live session joins, as the driver needs it.
#[derive(Debug, Clone)]
pub struct Ends {
    pub session_id: String,
    /// The target's id in the hub and relay (an agent id, or a broker
    /// session's `broker:<session>`).
    pub target: String,
    /// The technician, as the audit log names them.
    pub technician: Actor,
    /// The technician's name as grants carry it to the person.
    pub technician_name: String,
}

/// What the driver touches.
#[derive(Debug, Clone)]
pub(super) struct Reach {
    pub store: Store,
    pub relay: Relay,
    pub hub: Hub,
    pub brokers: crate::broker::Brokers,
    pub grant_key: crate::grants::GrantKey,
}

/// What the driver reports as it goes.
#[derive(Debug)]
pub(super) struct Progress {
    /// Counts the events from the inbox whose effects were carried out.
    pub handled: watch::Sender<u64>,
    /// Becomes true once the session is over.
    pub done: watch::Sender<bool>,
}

/// Drives one session until it ends.
pub(super) async fn run(
    reach: Reach,
    ends: Ends,
    mut machine: SessionLifecycle,
    mut inbox: mpsc::UnboundedReceiver<Event>,
    progress: Progress,
) {
    let mut closed = false;
    while !closed {
        let (event, from_inbox) = match machine.next_deadline() {
            Some(deadline) => {
                let wait = Duration::from_millis(u64::try_from(deadline - now_ms()).unwrap_or(0));
                tokio::select! {
                    event = inbox.recv() => (event, true),
                    () = tokio::time::sleep(wait) => (Some(Event::Tick), false),
                }
            }
            None => (inbox.recv().await, true),
        };
        // Every sender lives in the route, which only this task closes.
        let event = event.unwrap_or(Event::ServerStopping);
        let name = event.name();
        if let Err(refusal) = machine.handle(event, now_ms()) {
            tracing::warn!(session_id = %ends.session_id, event = name, %refusal, "session event refused");
        }
        closed = carry_out(&reach, &ends, &mut machine).await;
        if from_inbox {
            progress.handled.send_modify(|handled| *handled += 1);
        }
    }
    progress.done.send_replace(true);
}

/// Carries out the machine's effects in order; true once the session is
/// closed.
async fn carry_out(reach: &Reach, ends: &Ends, machine: &mut SessionLifecycle) -> bool {
    while let Some(effect) = machine.poll_effect() {
        match effect {
            Effect::Record(step) => {
                let actor = actor(ends, &step.by());
                let ending = matches!(step, Step::Ended { .. });
                if let Err(err) = super::table::record(&reach.store, &ends.session_id, &step, actor, now_ms()).await {
                    tracing::error!(session_id = %ends.session_id, step = step.action(), error = format!("{err:#}"), "cannot record a session step");
                    if !ending {
                        // Nothing after an unrecorded step may take effect:
                        // drop it and end the session instead.
                        while machine.poll_effect().is_some() {}
                        let reason = "the server could not record the session".to_owned();
                        let revoked = Event::Revoked { by: Party::System, reason };
                        if let Err(refusal) = machine.handle(revoked, now_ms()) {
                            tracing::error!(session_id = %ends.session_id, %refusal, "cannot end the session");
                        }
                    }
                }
            }
            Effect::ToController(message) => match reach.relay.to_controller(&ends.session_id, message) {
                Delivery::Queued | Delivery::NoController => {}
                Delivery::Full | Delivery::NoRoute => {
                    tracing::warn!(session_id = %ends.session_id, "a message for the controller was dropped");
                }
            },
            Effect::ToTarget(signal) => {
                let message = ServerToAgent::Signal { session_id: ends.session_id.clone(), signal };
                if !reach.hub.send(&ends.target, message) {
                    tracing::info!(session_id = %ends.session_id, target = %ends.target, "the target could not be told (offline or not keeping up)");
                }
            }
            Effect::GrantMode(mode) => grant_mode(reach, ends, mode).await,
            Effect::Chat { from, text, at } => {
                let name = match from {
                    Speaker::Technician => ends.technician_name.clone(),
                    Speaker::Person => PERSON_NAME.to_owned(),
                };
                let line = ChatLine { from, name, text, at };
                let to_target = ServerToAgent::Chat { session_id: ends.session_id.clone(), line: line.clone() };
                if !reach.hub.send(&ends.target, to_target) {
                    tracing::warn!(session_id = %ends.session_id, "a chat line for the target was dropped");
                }
                if let Delivery::Full | Delivery::NoRoute =
                    reach.relay.to_controller(&ends.session_id, ServerToController::Chat { line })
                {
                    tracing::warn!(session_id = %ends.session_id, "a chat line for the controller was dropped");
                }
            }
            Effect::Close => {
                reach.relay.close(&ends.session_id);
                reach.brokers.release(&ends.session_id);
                return true;
            }
        }
    }
    false
}

/// Grants the technician's request for `mode` (the policy may narrow it;
/// audited `session.grant`) naming the controller's latest offer, and
/// sends it to the target; the technician hears why if it cannot be.
async fn grant_mode(reach: &Reach, ends: &Ends, mode: SessionMode) {
    let Some(technician_id) = ends.technician.id.as_deref() else {
        tracing::error!(session_id = %ends.session_id, "a session without a technician account cannot be granted");
        return;
    };
    let grantee = Grantee {
        session_id: &ends.session_id,
        technician_id,
        technician_name: &ends.technician_name,
        target: &ends.target,
        controller_fingerprint: reach.relay.controller_fingerprint(&ends.session_id),
        accepted_mode: None,
        requested_mode: Some(mode),
    };
    let message = match crate::grants::issue(&reach.store, &reach.grant_key, grantee).await {
        Ok(grant) => {
            let grant = ServerToAgent::Grant { session_id: ends.session_id.clone(), grant, requested: true };
            if reach.hub.send(&ends.target, grant) {
                return;
            }
            "The computer could not be reached; try again.".to_owned()
        }
        Err(IssueError::NoMode | IssueError::NoPolicy) => {
            format!("The policy allows no mode like {} on this computer.", mode.name())
        }
        Err(err) => {
            tracing::error!(session_id = %ends.session_id, error = %err, "cannot grant the requested mode");
            "The server could not grant the mode.".to_owned()
        }
    };
    if let Delivery::Full | Delivery::NoRoute =
        reach.relay.to_controller(&ends.session_id, ServerToController::Error { message })
    {
        tracing::warn!(session_id = %ends.session_id, "the technician could not be told why the mode did not change");
    }
}

/// The audit log's name for `party` in this session.
fn actor(ends: &Ends, party: &Party) -> Actor {
    match party {
        Party::System => Actor::system(),
        Party::Technician => ends.technician.clone(),
        Party::Target => crate::agents::actor(&ends.target),
        Party::Account { id, name } => Actor::user(id, name),
    }
}
