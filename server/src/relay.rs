//! Live sessions' signalling routes: which agent and which technician each
//! session joins, and the controller's outbox. The agent's outbox is in
//! [`crate::hub::Hub`]. Signals are only relayed along a session's own
//! route, so neither end can reach another session.
//!
//! A route outlives its controller's connection: a reloaded page attaches
//! again (see `routes::sessions` for the grace period), and the route
//! remembers the highest offer number so the new page continues after it.
//!
//! A std `Mutex` guards the map: never held across an `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tether_shared::signal::ServerToController;
use tokio::sync::mpsc;

const OUTBOX_CAPACITY: usize = 64;

/// Cheap-to-clone registry of live session routes.
#[derive(Debug, Clone, Default)]
pub struct Relay {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    routes: Mutex<HashMap<String, Route>>,
    next_attachment: AtomicU64,
}

#[derive(Debug)]
struct Route {
    agent_id: String,
    technician_id: String,
    controller: Option<(u64, mpsc::Sender<ServerToController>)>,
    /// The newest attachment ever made, attached or not.
    last_attachment: Option<u64>,
    phase: Phase,
    /// The highest negotiation id the controller has offered.
    last_negotiation: u64,
}

/// How far a session has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Opened; the target has not answered an offer yet.
    Requested,
    /// The target's user is being asked to accept, for `timeout_secs` at
    /// most (policy: user acceptance); the target answers no offer before.
    AwaitingUser { timeout_secs: u32 },
    /// The target answered: the session is live.
    Active,
}

/// A live route, as seen before attaching to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    pub agent_id: String,
    /// A controller attached before (this attachment is a re-attach).
    pub attached_before: bool,
    pub phase: Phase,
    pub last_negotiation: u64,
}

/// Why a controller cannot attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AttachError {
    #[error("no such live session")]
    NotFound,
    #[error("this session belongs to another technician")]
    NotYours,
}

/// Keeps the controller attached while it lives.
#[derive(Debug)]
pub struct Attachment {
    /// Which attachment this is, for [`Relay::abandoned_by`].
    pub id: u64,
    shared: Arc<Shared>,
    session_id: String,
}

impl Relay {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Route>> {
        self.shared.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the route of a new session.
    pub fn open(&self, session_id: &str, agent_id: &str, technician_id: &str) {
        let route = Route {
            agent_id: agent_id.to_owned(),
            technician_id: technician_id.to_owned(),
            controller: None,
            last_attachment: None,
            phase: Phase::Requested,
            last_negotiation: 0,
        };
        self.lock().insert(session_id.to_owned(), route);
    }

    /// The route `technician_id` would attach to.
    pub fn view(&self, session_id: &str, technician_id: &str) -> Result<RouteView, AttachError> {
        let routes = self.lock();
        let route = routes.get(session_id).ok_or(AttachError::NotFound)?;
        if route.technician_id != technician_id {
            return Err(AttachError::NotYours);
        }
        Ok(RouteView {
            agent_id: route.agent_id.clone(),
            attached_before: route.last_attachment.is_some(),
            phase: route.phase,
            last_negotiation: route.last_negotiation,
        })
    }

    /// The session's phase, if it is live.
    pub fn phase(&self, session_id: &str) -> Option<Phase> {
        self.lock().get(session_id).map(|route| route.phase)
    }

    /// Whether a controller ever attached to the live session.
    pub fn ever_attached(&self, session_id: &str) -> bool {
        self.lock().get(session_id).is_some_and(|route| route.last_attachment.is_some())
    }

    /// Whether `attachment` was the session's last controller and none has
    /// attached since it left: the session is still waiting for it.
    pub fn abandoned_by(&self, session_id: &str, attachment: u64) -> bool {
        self.lock()
            .get(session_id)
            .is_some_and(|route| route.controller.is_none() && route.last_attachment == Some(attachment))
    }

    /// Notes an offer the controller sent (for the next page's numbering).
    pub fn offered(&self, session_id: &str, negotiation: u64) {
        if let Some(route) = self.lock().get_mut(session_id) {
            route.last_negotiation = route.last_negotiation.max(negotiation);
        }
    }

    /// The target asks its user: `Requested` → `AwaitingUser`; false (and
    /// nothing changes) from any other phase or for another agent.
    pub fn ask_user(&self, session_id: &str, agent_id: &str, timeout_secs: u32) -> bool {
        self.move_phase(session_id, agent_id, |phase| phase == Phase::Requested, Phase::AwaitingUser { timeout_secs })
    }

    /// The target's user accepted: back to `Requested`, the answer follows.
    pub fn user_accepted(&self, session_id: &str, agent_id: &str) -> bool {
        self.move_phase(session_id, agent_id, |phase| matches!(phase, Phase::AwaitingUser { .. }), Phase::Requested)
    }

    /// Moves `agent_id`'s session to `to` if its phase is one `from` accepts.
    fn move_phase(&self, session_id: &str, agent_id: &str, from: impl Fn(Phase) -> bool, to: Phase) -> bool {
        let mut routes = self.lock();
        match routes.get_mut(session_id).filter(|route| route.agent_id == agent_id) {
            Some(route) if from(route.phase) => {
                route.phase = to;
                true
            }
            _ => false,
        }
    }

    /// Marks the session active; true the first time (the target answered).
    pub fn answered(&self, session_id: &str, agent_id: &str) -> bool {
        self.move_phase(session_id, agent_id, |phase| phase == Phase::Requested, Phase::Active)
    }

    /// Attaches the technician's controller; a second attachment of the same
    /// technician (a reload) replaces the first. Returns the agent's id.
    pub fn attach_controller(
        &self,
        session_id: &str,
        technician_id: &str,
    ) -> Result<(Attachment, String, mpsc::Receiver<ServerToController>), AttachError> {
        let mut routes = self.lock();
        let route = routes.get_mut(session_id).ok_or(AttachError::NotFound)?;
        if route.technician_id != technician_id {
            return Err(AttachError::NotYours);
        }
        let id = self.shared.next_attachment.fetch_add(1, Ordering::Relaxed);
        let (outbox, inbox) = mpsc::channel(OUTBOX_CAPACITY);
        route.controller = Some((id, outbox));
        route.last_attachment = Some(id);
        let attachment = Attachment { shared: Arc::clone(&self.shared), session_id: session_id.to_owned(), id };
        Ok((attachment, route.agent_id.clone(), inbox))
    }

    /// Queues a message for the controller of `session_id`, if `agent_id`
    /// is that session's agent and a controller is attached.
    pub fn to_controller(&self, session_id: &str, agent_id: &str, message: ServerToController) -> bool {
        let outbox = self
            .lock()
            .get(session_id)
            .filter(|route| route.agent_id == agent_id)
            .and_then(|route| route.controller.as_ref().map(|(_, outbox)| outbox.clone()));
        outbox.is_some_and(|outbox| outbox.try_send(message).is_ok())
    }

    /// Whether `session_id` is live and joins `agent_id`.
    pub fn is_agents(&self, session_id: &str, agent_id: &str) -> bool {
        self.lock().get(session_id).is_some_and(|route| route.agent_id == agent_id)
    }

    /// Closes a route, telling its controller why; false if it was not open.
    pub fn close(&self, session_id: &str, reason: &str) -> bool {
        let Some(route) = self.lock().remove(session_id) else {
            return false;
        };
        if let Some((_, outbox)) = route.controller {
            let _ = outbox.try_send(ServerToController::Ended { reason: reason.to_owned() });
        }
        true
    }

    /// The live sessions of an agent.
    pub fn sessions_of_agent(&self, agent_id: &str) -> Vec<String> {
        self.lock().iter().filter(|(_, route)| route.agent_id == agent_id).map(|(id, _)| id.clone()).collect()
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let mut routes = self.shared.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(route) = routes.get_mut(&self.session_id)
            && route.controller.as_ref().is_some_and(|(id, _)| *id == self.id)
        {
            route.controller = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_remember_attachments_answers_and_offers() {
        let relay = Relay::default();
        relay.open("s1", "agent-1", "tech-1");
        assert_eq!(relay.phase("s1"), Some(Phase::Requested));
        assert!(!relay.ever_attached("s1"));
        let (first, _, _inbox) = relay.attach_controller("s1", "tech-1").expect("attach");
        relay.offered("s1", 3);
        relay.offered("s1", 2);
        assert!(!relay.answered("s1", "agent-2"), "only the session's agent answers");
        assert!(relay.answered("s1", "agent-1"));
        assert!(!relay.answered("s1", "agent-1"), "once");
        let first_id = first.id;
        assert!(!relay.abandoned_by("s1", first_id), "still attached");
        drop(first);
        assert!(relay.abandoned_by("s1", first_id));
        let view = relay.view("s1", "tech-1").expect("view");
        assert_eq!(
            view,
            RouteView { agent_id: "agent-1".into(), attached_before: true, phase: Phase::Active, last_negotiation: 3 }
        );
        let (_second, _, _inbox) = relay.attach_controller("s1", "tech-1").expect("re-attach");
        assert!(!relay.abandoned_by("s1", first_id), "a newer controller took over");
    }

    #[test]
    fn a_session_waits_for_its_user_before_it_can_become_active() {
        let relay = Relay::default();
        relay.open("s1", "agent-1", "tech-1");
        assert!(!relay.user_accepted("s1", "agent-1"), "nobody was asked");
        assert!(!relay.ask_user("s1", "agent-2", 60), "only the session's agent asks");
        assert!(relay.ask_user("s1", "agent-1", 60));
        assert_eq!(relay.phase("s1"), Some(Phase::AwaitingUser { timeout_secs: 60 }));
        assert!(!relay.ask_user("s1", "agent-1", 60), "one question at a time");
        assert!(!relay.answered("s1", "agent-1"), "no answer to an offer before the user accepts");
        assert!(relay.user_accepted("s1", "agent-1"));
        assert!(relay.answered("s1", "agent-1"));
        assert!(!relay.ask_user("s1", "agent-1", 60), "an active session asks nobody");
    }

    #[tokio::test]
    async fn signals_only_follow_their_own_route() {
        let relay = Relay::default();
        relay.open("s1", "agent-1", "tech-1");
        assert_eq!(relay.attach_controller("s1", "tech-2").err(), Some(AttachError::NotYours));
        assert_eq!(relay.attach_controller("s9", "tech-1").err(), Some(AttachError::NotFound));
        let (_attachment, agent, mut inbox) = relay.attach_controller("s1", "tech-1").expect("attach");
        assert_eq!(agent, "agent-1");
        assert!(!relay.to_controller("s1", "agent-2", ServerToController::Error { message: "x".into() }));
        assert!(relay.to_controller("s1", "agent-1", ServerToController::Error { message: "y".into() }));
        assert_eq!(inbox.recv().await, Some(ServerToController::Error { message: "y".into() }));
        assert_eq!(relay.sessions_of_agent("agent-1"), vec!["s1".to_owned()]);
        assert!(relay.close("s1", "bye"));
        assert_eq!(inbox.recv().await, Some(ServerToController::Ended { reason: "bye".into() }));
        assert!(!relay.close("s1", "again"));
    }
}
