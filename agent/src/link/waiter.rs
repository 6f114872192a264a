//! The small task that waits for the person's answer to one question, or
//! for the question's deadline, and reports whichever comes first on the
//! link's channel: the pure machines (the consent gate, the mode keeper)
//! only change inside the dispatcher.

use crate::consent::{Answer, Clock, next_answer};
use crate::session::SessionEvent;
use tether_shared::connection_code::UnixMillis;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

/// At most one waiting task; dropping it stops the task.
#[derive(Debug, Default)]
pub struct Waiter(Option<AbortHandle>);

impl Waiter {
    /// Waits for `answer` (if any) until `deadline`, then sends
    /// `report(Some(answer))` or `report(None)` to `events`; replaces any
    /// earlier task.
    pub fn wait(
        &mut self,
        answer: Option<oneshot::Receiver<Answer>>,
        deadline: Option<UnixMillis>,
        clock: Clock,
        events: mpsc::UnboundedSender<SessionEvent>,
        report: impl FnOnce(Option<Answer>) -> SessionEvent + Send + 'static,
    ) {
        self.stop();
        let mut answer = answer;
        let task = tokio::spawn(async move {
            let answer = tokio::select! {
                answer = next_answer(&mut answer) => Some(answer),
                () = clock.sleep_until(deadline) => None,
            };
            if events.send(report(answer)).is_err() {
                tracing::debug!("an answer after the link stopped listening");
            }
        });
        self.0 = Some(task.abort_handle());
    }

    /// Whether a task waits.
    pub fn is_waiting(&self) -> bool {
        self.0.is_some()
    }

    /// The task reported (its event is being handled): it is done.
    pub fn reported(&mut self) {
        self.0 = None;
    }

    /// Stops the task, if one runs.
    pub fn stop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.stop();
    }
}
