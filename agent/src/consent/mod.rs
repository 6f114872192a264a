//! Consent on the agent: whether a session may start is decided by
//! `tether_shared::consent::ConsentGate`, the same pure machine for an
//! enrolled computer's requests (`crate::link`) and a connection code's
//! session (`crate::broker::awaiting`). This module holds what the gate
//! needs from the outside world: a way to put its question to the person
//! at this computer ([`Ask`]: the loopback page, the terminal, or an answer
//! given in advance) and a clock ([`Clock`]). The server's word alone never
//! opens the screen.

mod clock;
mod terminal;

pub use clock::Clock;
pub use terminal::{PreApproved, Terminal};
pub use tether_shared::consent::{Answer, Question};

use std::fmt;
use tokio::sync::oneshot;

/// Puts a [`Question`] to the person at this computer. The answer arrives
/// on the receiver; a sender dropped unanswered leaves the question to its
/// deadline.
pub trait Ask: Send + Sync + fmt::Debug {
    fn ask(&self, question: &Question) -> oneshot::Receiver<Answer>;

    /// The question about `session_id` is no longer open (it timed out, or
    /// the request went away): take it off the screen.
    fn withdraw(&self, session_id: &str) {
        let _ = session_id;
    }
}

/// The person's answer to the open question. Nothing ever comes while no
/// question is open, nor once the asker gave up (`answer` is then cleared):
/// the gate's deadline decides.
pub async fn next_answer(answer: &mut Option<oneshot::Receiver<Answer>>) -> Answer {
    if let Some(receiver) = answer {
        match receiver.await {
            Ok(answered) => return answered,
            Err(_) => *answer = None,
        }
    }
    std::future::pending().await
}

/// A receiver that already holds `answer`.
pub fn answered(answer: Answer) -> oneshot::Receiver<Answer> {
    let (reply, receiver) = oneshot::channel();
    // The receiver is alive: it is returned below.
    let _ = reply.send(answer);
    receiver
}
