//! A running session as the dispatcher keeps it: the session's handle, the
//! one record of its mode (`tether_shared::mode_change::ModeKeeper`: every
//! grant goes through it, held to what the person allowed), the task
//! waiting for the person's answer to a change of mode, and the session
//! bar on the display (dropped with it) with what is in use right now.

use super::waiter::Waiter;
use crate::consent::{Answer, Clock};
use crate::platform::x11_bar::{BarContent, SessionBar};
use crate::session::{Session, SessionEvent};
use tether_shared::access::AccessSet;
use tether_shared::mode_change::ModeKeeper;
use tokio::sync::{mpsc, oneshot};

/// One running session.
#[derive(Debug)]
pub struct Running {
    pub session: Session,
    pub keeper: ModeKeeper,
    pub waiter: Waiter,
    /// Who is connected, as the bar says.
    pub technician: String,
    /// The bar, when a display could show one.
    pub bar: Option<SessionBar>,
    /// The kinds of access in use right now, as the session last said.
    pub in_use: AccessSet,
    /// The moving file's progress, as the session last said.
    pub transfer: Option<String>,
}

impl Running {
    /// Shows on the bar who is connected, the mode in force and what is
    /// in use.
    pub fn show_bar(&self) {
        if let Some(bar) = &self.bar {
            bar.show(BarContent {
                technician: self.technician.clone(),
                mode: self.keeper.in_force(),
                in_use: self.in_use,
                transfer: self.transfer.clone(),
            });
        }
    }

    /// Waits for `answer` (if any) until the keeper's deadline and reports
    /// which came first as a [`SessionEvent::ModeAnswer`] for `session_id`.
    pub fn wait(
        &mut self,
        session_id: &str,
        answer: Option<oneshot::Receiver<Answer>>,
        clock: Clock,
        events: mpsc::UnboundedSender<SessionEvent>,
    ) {
        let session_id = session_id.to_owned();
        let deadline = self.keeper.next_deadline();
        self.waiter
            .wait(answer, deadline, clock, events, move |answer| SessionEvent::ModeAnswer { session_id, answer });
    }
}
