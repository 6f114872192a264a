//! Live sessions' routes: which agent and which technician each session
//! joins, the controller's outbox, and the inbox of the task that drives
//! the session's life (`crate::sessions::driver`). The agent's outbox is
//! in [`crate::hub::Hub`]. Nothing here decides anything about a session:
//! every event goes to its driver, and signals travel only along a
//! session's own route, so neither end can reach another session.
//!
//! A route outlives its controller's connection: a reloaded page attaches
//! again, and the route remembers the highest offer number so the new page
//! continues after it. Dropping an [`Attachment`] tells the driver the
//! controller left, whatever ended its socket.
//!
//! A std `Mutex` guards the map: never held across an `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tether_shared::session_lifecycle::Event;
use tether_shared::signal::ServerToController;
use tokio::sync::{mpsc, watch};

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
    /// The highest negotiation id the controller has offered.
    last_negotiation: u64,
    /// The DTLS fingerprint of the controller's latest offer: a grant
    /// issued between offers (a change of mode) names it.
    controller_fingerprint: Option<String>,
    /// The session's driver.
    driver: DriverInbox,
}

/// Where a session's events go, and how to learn that its driver handled
/// them or is done.
#[derive(Debug, Clone)]
pub struct DriverInbox {
    /// Unbounded: an end must never be lost to a full queue (drop guards
    /// send from `Drop`); senders are the server's own socket tasks, each
    /// handling one message at a time. Sent only under the relay's lock,
    /// numbered by `sent`.
    pub events: mpsc::UnboundedSender<Event>,
    /// How many events were sent.
    pub sent: Arc<AtomicU64>,
    /// How many events the driver has handled (effects carried out).
    pub handled: watch::Receiver<u64>,
    /// Becomes `true` (or closes) once the session is over.
    pub done: watch::Receiver<bool>,
}

impl DriverInbox {
    /// Sends `event`; its number, or `None` if the driver is gone. Call
    /// with the relay's lock held, so numbers follow the queue's order.
    fn send(&self, event: Event) -> Option<u64> {
        self.events.send(event).ok()?;
        Some(self.sent.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Waits until event `number` is handled or the session is over.
    async fn handled(mut self, number: u64) {
        tokio::select! {
            // An error means the driver is gone: over either way.
            _ = self.handled.wait_for(|handled| *handled >= number) => {}
            _ = self.done.wait_for(|done| *done) => {}
        }
    }
}

/// A live route, as a controller attaching to it sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    pub agent_id: String,
    /// The highest offer number so far (the next page continues after it).
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

/// What became of a message for a controller.
#[must_use = "a dropped message should be logged"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Queued,
    /// No controller is attached (it will learn what it needs on attaching).
    NoController,
    /// The controller is not keeping up.
    Full,
    /// The session has no route (it ended).
    NoRoute,
}

/// Keeps the controller attached while it lives; dropping it tells the
/// session's driver this attachment left.
#[derive(Debug)]
pub struct Attachment {
    /// Which attachment this is (they only grow).
    pub id: u64,
    shared: Arc<Shared>,
    session_id: String,
}

/// A live session, as the live-sessions list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRoute {
    pub session_id: String,
    pub agent_id: String,
    pub technician_id: String,
    pub controller_attached: bool,
}

impl Relay {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Route>> {
        self.shared.routes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens the route of a new session driven through `driver`.
    pub fn open(&self, session_id: &str, agent_id: &str, technician_id: &str, driver: DriverInbox) {
        let route = Route {
            agent_id: agent_id.to_owned(),
            technician_id: technician_id.to_owned(),
            controller: None,
            last_negotiation: 0,
            controller_fingerprint: None,
            driver,
        };
        self.lock().insert(session_id.to_owned(), route);
    }

    /// Notes an offer the controller sent (for the next page's numbering)
    /// and the DTLS fingerprint it names.
    pub fn offered(&self, session_id: &str, negotiation: u64, fingerprint: Option<String>) {
        if let Some(route) = self.lock().get_mut(session_id)
            && negotiation >= route.last_negotiation
        {
            route.last_negotiation = negotiation;
            route.controller_fingerprint = fingerprint;
        }
    }

    /// The DTLS fingerprint of the controller's latest offer, if any.
    pub fn controller_fingerprint(&self, session_id: &str) -> Option<String> {
        self.lock().get(session_id).and_then(|route| route.controller_fingerprint.clone())
    }

    /// Hands `event` to the session's driver; false if the session is not
    /// live.
    #[must_use = "an event for a session that is gone should be logged"]
    pub fn event(&self, session_id: &str, event: Event) -> bool {
        self.lock().get(session_id).and_then(|route| route.driver.send(event)).is_some()
    }

    /// Hands `event` to the session's driver and waits until it is handled
    /// (recorded, its messages queued) or the session is over; false if the
    /// session is not live.
    pub async fn event_handled(&self, session_id: &str, event: Event) -> bool {
        let sent = {
            let routes = self.lock();
            routes.get(session_id).and_then(|route| Some((route.driver.clone(), route.driver.send(event)?)))
        };
        match sent {
            Some((driver, number)) => {
                driver.handled(number).await;
                true
            }
            None => false,
        }
    }

    /// Hands `event` from agent `agent_id` to the driver of `session_id`,
    /// only if that session is the agent's own.
    #[must_use = "an event for another agent's session should be logged"]
    pub fn from_agent(&self, session_id: &str, agent_id: &str, event: Event) -> bool {
        self.lock()
            .get(session_id)
            .filter(|route| route.agent_id == agent_id)
            .and_then(|route| route.driver.send(event))
            .is_some()
    }

    /// Hands `event` to the session's driver and waits until the session
    /// is over; false (at once) if it was not live.
    pub async fn end(&self, session_id: &str, event: Event) -> bool {
        let driver = {
            let routes = self.lock();
            routes.get(session_id).and_then(|route| route.driver.send(event).map(|_| route.driver.clone()))
        };
        let Some(mut driver) = driver else { return false };
        // An error means the driver is gone: over either way.
        let _ = driver.done.wait_for(|done| *done).await;
        true
    }

    /// Attaches the technician's controller; a second attachment of the same
    /// technician (a reload) replaces the first.
    pub fn attach_controller(
        &self,
        session_id: &str,
        technician_id: &str,
    ) -> Result<(Attachment, RouteView, mpsc::Receiver<ServerToController>), AttachError> {
        let mut routes = self.lock();
        let route = routes.get_mut(session_id).ok_or(AttachError::NotFound)?;
        if route.technician_id != technician_id {
            return Err(AttachError::NotYours);
        }
        let id = self.shared.next_attachment.fetch_add(1, Ordering::Relaxed) + 1;
        let (outbox, inbox) = mpsc::channel(OUTBOX_CAPACITY);
        route.controller = Some((id, outbox));
        let attachment = Attachment { shared: Arc::clone(&self.shared), session_id: session_id.to_owned(), id };
        let view = RouteView { agent_id: route.agent_id.clone(), last_negotiation: route.last_negotiation };
        Ok((attachment, view, inbox))
    }

    /// Queues a message for the controller of `session_id`.
    pub fn to_controller(&self, session_id: &str, message: ServerToController) -> Delivery {
        let routes = self.lock();
        let Some(route) = routes.get(session_id) else {
            return Delivery::NoRoute;
        };
        match &route.controller {
            None => Delivery::NoController,
            Some((_, outbox)) => match outbox.try_send(message) {
                Ok(()) => Delivery::Queued,
                Err(_) => Delivery::Full,
            },
        }
    }

    /// Closes a route (its driver is done); the controller's outbox closes
    /// once what was queued is read.
    pub fn close(&self, session_id: &str) -> bool {
        self.lock().remove(session_id).is_some()
    }

    /// The live sessions of an agent.
    pub fn sessions_of_agent(&self, agent_id: &str) -> Vec<String> {
        self.lock().iter().filter(|(_, route)| route.agent_id == agent_id).map(|(id, _)| id.clone()).collect()
    }

    /// The live sessions of a technician.
    pub fn sessions_of_technician(&self, technician_id: &str) -> Vec<String> {
        self.lock().iter().filter(|(_, route)| route.technician_id == technician_id).map(|(id, _)| id.clone()).collect()
    }

    /// Every live session.
    pub fn live(&self) -> Vec<LiveRoute> {
        self.lock()
            .iter()
            .map(|(id, route)| LiveRoute {
                session_id: id.clone(),
                agent_id: route.agent_id.clone(),
                technician_id: route.technician_id.clone(),
                controller_attached: route.controller.is_some(),
            })
            .collect()
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let mut routes = self.shared.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(route) = routes.get_mut(&self.session_id) else { return };
        if route.controller.as_ref().is_some_and(|(id, _)| *id == self.id) {
            route.controller = None;
        }
        // The driver ignores a stale attachment; a closed inbox means the
        // session is over already.
        let _ = route.driver.send(Event::ControllerLeft { attachment: self.id });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver() -> (DriverInbox, mpsc::UnboundedReceiver<Event>, watch::Sender<bool>) {
        let (events, inbox) = mpsc::unbounded_channel();
        let (done_sender, done) = watch::channel(false);
        let handled = watch::channel(0).1;
        (DriverInbox { events, sent: Arc::default(), handled, done }, inbox, done_sender)
    }

    #[test]
    fn routes_remember_offers_and_tell_the_driver_when_a_controller_leaves() {
        let relay = Relay::default();
        let (inbox, mut events, _done) = driver();
        relay.open("s1", "agent-1", "tech-1", inbox);
        let (first, _, _outbox) = relay.attach_controller("s1", "tech-1").expect("attach");
        relay.offered("s1", 3, Some("sha-256 ab".into()));
        relay.offered("s1", 2, None);
        assert_eq!(relay.controller_fingerprint("s1").as_deref(), Some("sha-256 ab"), "a stale offer changes nothing");
        let first_id = first.id;
        drop(first);
        assert_eq!(events.try_recv().ok(), Some(Event::ControllerLeft { attachment: first_id }));
        let (second, view, _outbox) = relay.attach_controller("s1", "tech-1").expect("re-attach");
        assert_eq!(view, RouteView { agent_id: "agent-1".into(), last_negotiation: 3 });
        assert!(second.id > first_id, "attachment ids grow");
    }

    #[tokio::test]
    async fn events_and_signals_only_follow_their_own_route() {
        let relay = Relay::default();
        let (inbox, mut events, _done) = driver();
        relay.open("s1", "agent-1", "tech-1", inbox);
        assert_eq!(relay.attach_controller("s1", "tech-2").err(), Some(AttachError::NotYours));
        assert_eq!(relay.attach_controller("s9", "tech-1").err(), Some(AttachError::NotFound));
        assert!(!relay.from_agent("s1", "agent-2", Event::TargetGone), "another agent's session");
        assert!(relay.from_agent("s1", "agent-1", Event::TargetGone));
        assert_eq!(events.recv().await, Some(Event::TargetGone));
        assert_eq!(
            relay.to_controller("s1", ServerToController::Error { message: "x".into() }),
            Delivery::NoController
        );
        let (_attachment, view, mut outbox) = relay.attach_controller("s1", "tech-1").expect("attach");
        assert_eq!(view.agent_id, "agent-1");
        assert_eq!(relay.to_controller("s1", ServerToController::Error { message: "y".into() }), Delivery::Queued);
        assert_eq!(outbox.recv().await, Some(ServerToController::Error { message: "y".into() }));
        assert_eq!(relay.sessions_of_agent("agent-1"), vec!["s1".to_owned()]);
        assert_eq!(relay.sessions_of_technician("tech-1"), vec!["s1".to_owned()]);
        assert!(relay.close("s1"));
        assert_eq!(outbox.recv().await, None, "the outbox closes with the route");
        assert!(!relay.event("s1", Event::Tick));
        assert_eq!(relay.to_controller("s1", ServerToController::Error { message: "z".into() }), Delivery::NoRoute);
    }

    #[tokio::test]
    async fn ending_waits_for_the_driver() {
        let relay = Relay::default();
        let (inbox, mut events, done) = driver();
        relay.open("s1", "agent-1", "tech-1", inbox);
        let driver = tokio::spawn(async move {
            let event = events.recv().await;
            done.send_replace(true);
            event
        });
        relay.end("s1", Event::ServerStopping).await;
        assert_eq!(driver.await.ok().flatten(), Some(Event::ServerStopping));
    }
}
