//! A live session's life as one pure state machine: requested → asking the
//! person at the target → active → ended with a reason. The server feeds it
//! what each end does and what the clock says (`handle(event, now)`), and
//! polls out what to record, whom to tell and when to wake it next; nothing
//! here reads a clock or touches a socket, so tests step time by hand.
//!
//! ```text
//! Requested ──TargetAnswered──────────────────────────────▶ Active
//!     │                                                        ▲
//!     └──UserAsked──▶ Asking ──UserAccepted──▶ Accepted ──TargetAnswered
//!                        ├──UserRejected / UserNoAnswer ──▶ Ended
//!                        └──deadline (timeout + grace) ───▶ Ended
//! any live phase ──ControllerBye / a target's bye / TargetGone / Revoked /
//!                  ServerStopping / a deadline ──▶ Ended (exactly once)
//! ```
//!
//! Beside the phase, the machine follows the technician's controller
//! (never attached, attached, or away since a moment): a controller away
//! past the reload grace ends the session. Each phase has one deadline at
//! most, and [`SessionLifecycle::next_deadline`] is the earliest of it and
//! the controller's, so which timer "fires first" is decided by the clock,
//! not by task scheduling, and the end reason follows from the state.

mod machine;
mod step;

pub use machine::{Phase, SessionLifecycle, Timings};
pub use step::{Effect, Event, Party, Refusal, Step};
