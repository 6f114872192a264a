//! What the person at this computer asks of the link from the agent's
//! page: end a session, take access away from it (run it in a narrower
//! mode), or chat. Kept across the link's reconnections.

use std::sync::Arc;
use tether_shared::mode::SessionMode;
use tokio::sync::mpsc;

/// One request of the person's about a running session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRequest {
    /// End the session now.
    End,
    /// Go on only in `mode`, which asks for less than the mode in force.
    Narrow(SessionMode),
    /// Send the technician this chat line.
    Say(String),
}

/// The person's requests, each with its session's id.
#[derive(Debug, Clone)]
pub struct PersonRequests(Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(String, PersonRequest)>>>);

impl PersonRequests {
    /// The sending end (for the page) and the link's end.
    pub fn channel() -> (mpsc::UnboundedSender<(String, PersonRequest)>, Self) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (sender, Self(Arc::new(tokio::sync::Mutex::new(receiver))))
    }
}

/// The person's next request, or nothing ever without a page.
pub(super) async fn next_request(requests: Option<PersonRequests>) -> Option<(String, PersonRequest)> {
    match requests {
        Some(requests) => requests.0.lock().await.recv().await,
        None => std::future::pending().await,
    }
}
