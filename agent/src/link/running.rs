//! A running session as the dispatcher keeps it: the session's handle, the
//! one record of its mode (`tether_shared::mode_change::ModeKeeper`: every
//! grant goes through it, held to what the person allowed), the task
//! waiting for the person's answer to a change of mode, and the session
//! bar on the display (dropped with it).

use super::waiter::Waiter;
use crate::platform::x11_bar::SessionBar;
use crate::session::Session;
use tether_shared::mode_change::ModeKeeper;

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
}
