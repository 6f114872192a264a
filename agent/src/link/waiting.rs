//! Requests to an enrolled computer that wait for the person at it. Each
//! has its own consent gate (`tether_shared::consent::ConsentGate`), which
//! only the dispatcher (`super::Dispatcher`) changes: a small task per
//! question turns the person's answer, or the deadline, into a
//! [`SessionEvent::Consent`] on the link's channel. Meanwhile what the
//! server sends for the session (its grants, the controller's offer) is
//! kept for the session that may start.

use super::waiter::Waiter;
use crate::consent::{Answer, Clock};
use crate::session::SessionEvent;
use tether_shared::consent::ConsentGate;
use tether_shared::grant::Grant;
use tether_shared::signal::{IceServer, ServerToAgent};
use tokio::sync::{mpsc, oneshot};

/// Most server messages kept for one waiting request (an offer and its
/// candidates need a few dozen).
const MAX_EARLY_MESSAGES: usize = 256;

/// What the server sends for a session while the person is asked, kept in
/// order (up to a bound) for the session that may start.
#[derive(Debug, Default)]
pub(crate) struct EarlyMessages(Vec<ServerToAgent>);

impl EarlyMessages {
    /// Keeps `message`, if there is room.
    pub(crate) fn keep(&mut self, message: ServerToAgent) {
        if self.0.len() < MAX_EARLY_MESSAGES {
            self.0.push(message);
        } else {
            tracing::warn!("too many messages while waiting for the person; dropping one");
        }
    }

    /// Everything kept, in order.
    pub(crate) fn take(&mut self) -> Vec<ServerToAgent> {
        std::mem::take(&mut self.0)
    }
}

/// A request waiting for its gate's verdict.
#[derive(Debug)]
pub struct Waiting {
    pub gate: ConsentGate,
    pub ice_servers: Vec<IceServer>,
    /// The verified grant the request came with.
    pub grant: Grant,
    /// What the server sent for the session meanwhile.
    early: EarlyMessages,
    /// The task waiting for the answer or the deadline.
    pub waiter: Waiter,
}

impl Waiting {
    pub fn new(gate: ConsentGate, ice_servers: Vec<IceServer>, grant: Grant) -> Self {
        Self { gate, ice_servers, grant, early: EarlyMessages::default(), waiter: Waiter::default() }
    }

    /// Keeps `message` for the session, if there is room.
    pub fn keep(&mut self, message: ServerToAgent) {
        self.early.keep(message);
    }

    /// What the server sent meanwhile, in order.
    pub fn take_early(&mut self) -> Vec<ServerToAgent> {
        self.early.take()
    }

    /// Waits for `answer` (if any) until the gate's deadline and reports
    /// which came first as a [`SessionEvent::Consent`].
    pub fn wait(
        &mut self,
        session_id: &str,
        answer: Option<oneshot::Receiver<Answer>>,
        clock: Clock,
        events: mpsc::UnboundedSender<SessionEvent>,
    ) {
        let session_id = session_id.to_owned();
        let deadline = self.gate.next_deadline();
        self.waiter.wait(answer, deadline, clock, events, move |answer| SessionEvent::Consent { session_id, answer });
    }
}
