//! Which agents are connected right now, and a way to send them messages.
//!
//! A std `Mutex` guards the map: it is never held across an `.await`, and
//! each operation is a quick map lookup.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tether_shared::signal::ServerToAgent;
use tokio::sync::mpsc;

/// Messages queued for one agent before the server stops accepting more.
const OUTBOX_CAPACITY: usize = 64;

/// Cheap-to-clone registry of connected agents.
#[derive(Debug, Clone, Default)]
pub struct Hub {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    agents: Mutex<HashMap<String, Link>>,
    next_connection: AtomicU64,
}

#[derive(Debug)]
struct Link {
    connection: u64,
    outbox: mpsc::Sender<ServerToAgent>,
}

/// Keeps an agent marked online while it lives; dropping it marks the
/// agent offline unless a newer connection of the same agent replaced it.
#[derive(Debug)]
pub struct Presence {
    shared: Arc<Shared>,
    agent_id: String,
    connection: u64,
}

impl Hub {
    /// Marks `agent_id` online. A previous connection of the same agent is
    /// replaced: its outbox closes, which ends its task.
    pub fn attach(&self, agent_id: &str) -> (Presence, mpsc::Receiver<ServerToAgent>) {
        let connection = self.shared.next_connection.fetch_add(1, Ordering::Relaxed);
        let (outbox, inbox) = mpsc::channel(OUTBOX_CAPACITY);
        self.shared.lock().insert(agent_id.to_owned(), Link { connection, outbox });
        (Presence { shared: Arc::clone(&self.shared), agent_id: agent_id.to_owned(), connection }, inbox)
    }

    pub fn is_online(&self, agent_id: &str) -> bool {
        self.shared.lock().contains_key(agent_id)
    }

    /// Queues `message` for a connected agent; false if it is offline or
    /// not keeping up.
    #[must_use = "a message that could not be queued should be logged"]
    pub fn send(&self, agent_id: &str, message: ServerToAgent) -> bool {
        let outbox = self.shared.lock().get(agent_id).map(|link| link.outbox.clone());
        outbox.is_some_and(|outbox| outbox.try_send(message).is_ok())
    }
}

impl Hub {
    /// Closes `agent_id`'s outbox, which ends its socket (the computer was
    /// revoked); false if it was not connected.
    pub fn disconnect(&self, agent_id: &str) -> bool {
        self.shared.lock().remove(agent_id).is_some()
    }

    /// Closes every agent's outbox: each socket sends what is queued, then
    /// ends (the server is shutting down).
    pub fn close_all(&self) {
        self.shared.lock().clear();
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Link>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.agents.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        let mut agents = self.shared.lock();
        if agents.get(&self.agent_id).is_some_and(|link| link.connection == self.connection) {
            agents.remove(&self.agent_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn presence_follows_the_newest_connection() {
        let hub = Hub::default();
        let (first, mut first_inbox) = hub.attach("a1");
        assert!(hub.is_online("a1"));
        let (second, mut second_inbox) = hub.attach("a1");
        assert_eq!(first_inbox.recv().await, None, "the replaced connection's outbox closes");
        drop(first);
        assert!(hub.is_online("a1"), "dropping the old connection keeps the new one");
        assert!(hub.send("a1", ServerToAgent::Error { message: "x".into() }));
        assert!(second_inbox.recv().await.is_some());
        drop(second);
        assert!(!hub.is_online("a1"));
        assert!(!hub.send("a1", ServerToAgent::Error { message: "x".into() }));
    }
}
