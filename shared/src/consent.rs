//! The agent's consent gate: whether a session may start on this computer,
//! as one pure state machine for every way a request arrives (a technician's
//! request to an enrolled computer, the session of a connection code the
//! person typed). The agent feeds it the request, the person's answer and
//! the clock (`handle(event, now)`) and polls out what to do (ask, tell the
//! server, withdraw the question, the verdict); nothing here reads a clock
//! or waits, so tests step time by hand.
//!
//! ```text
//! Idle ──Requested──▶ Decided(Accepted: unattended | code entered)   (no question)
//!   │                 Decided(Denied: nobody to ask)
//!   └──Requested──▶ Asking ──Answered(accept in a mode)──▶ Decided(Accepted: by the person, in that mode)
//!                     ├────Answered(reject)──▶ Decided(Denied: rejected)
//!                     ├────Withdrawn─────────▶ Decided(Denied: withdrawn)
//!                     └────deadline──────────▶ Decided(Denied: no answer)
//! ```
//!
//! Unattended access comes only from the agent's own configuration
//! ([`LocalRules`]); the server's policy can make the agent ask, never
//! spare it asking. A gate decides once: a second request, a second answer
//! and an answer after the deadline are refused, and so is an acceptance
//! in a mode the [`Offer`] does not hold. The request names who asks and
//! what for ([`Offer`]: the signed grant's mode and access, and the
//! narrower modes the person may pick instead).

mod gate;
mod request;

pub use gate::{ConsentGate, Effect, Event, Phase, Refusal};
pub use request::{Acceptance, Answer, Denial, LocalRules, Offer, Origin, Question, Request, ToolUse, Verdict};
