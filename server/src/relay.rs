//! Live sessions' signalling routes: which agent and which technician each
//! session joins, and the controller's outbox. The agent's outbox is in
//! [`crate::hub::Hub`]. Signals are only relayed along a session's own
//! route, so neither end can reach another session.
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
    shared: Arc<Shared>,
    session_id: String,
    id: u64,
}

impl Relay {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Route>> {
        self.shared.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the route of a new session.
    pub fn open(&self, session_id: &str, agent_id: &str, technician_id: &str) {
        let route = Route { agent_id: agent_id.to_owned(), technician_id: technician_id.to_owned(), controller: None };
        self.lock().insert(session_id.to_owned(), route);
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
