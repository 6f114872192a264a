//! What goes into the session machine (events) and what comes out of it
//! (effects: steps to record, messages to each end, the close).

use crate::chat::Speaker;
use crate::connection_code::{Event as CodeEvent, UnixMillis};
use crate::mode::{ModeSet, SessionMode};
use crate::signal::{ConsentStep, ModeStep, ServerToController, Signal};
use core::fmt;

/// Who did something, for the audit log. The server turns a party into
/// its own actor (the session's technician, its target, or an account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    /// The server itself (a timeout, a shutdown).
    System,
    /// The session's technician.
    Technician,
    /// The session's target (its agent, or the person at it).
    Target,
    /// Another account, e.g. the administrator who ended the session.
    Account { id: String, name: String },
}

/// Something that happened to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Time passes; applies the deadline and nothing else.
    Tick,
    /// The technician's controller attached (attachment ids grow);
    /// `source` is where it connected from, for the audit log.
    ControllerAttached { attachment: u64, source: Option<String> },
    /// Controller `attachment` went away without a `bye` (maybe a reload).
    ControllerLeft { attachment: u64 },
    /// The technician ended the session.
    ControllerBye { reason: String },
    /// The target asks its user to accept, for `timeout_secs` at most.
    UserAsked { timeout_secs: u32 },
    /// The target's user accepted, in `mode` when the agent says which
    /// (the grant's, or a narrower one the person picked).
    UserAccepted { mode: Option<SessionMode> },
    /// The target's user rejected the session.
    UserRejected,
    /// The target's prompt timed out unanswered.
    UserNoAnswer,
    /// The technician asks to run the live session in `requested` from now
    /// on, which the policy turns into `granted` (it, or a narrower mode).
    ModeRequested { requested: SessionMode, granted: SessionMode },
    /// The target reports a step in changing the session's mode.
    TargetMode(ModeStep),
    /// An administrator (`by`) changed the policies: the session's
    /// technician and computer are now allowed `allowed` (empty: no policy
    /// applies any more). A mode no longer allowed narrows; nothing left
    /// ends the session.
    PolicyChanged { allowed: ModeSet, by: Party },
    /// A chat line from the technician or the person at the target
    /// (checked with `crate::chat::check_text`).
    Chat { from: Speaker, text: String },
    /// A signal from the target for the controller; an answer starts the
    /// session, a `bye` ends it.
    FromTarget(Signal),
    /// The target's connection to the server is gone.
    TargetGone,
    /// The target ended the session on its own at `at` (its clock), having
    /// heard nothing from the server for too long; it reports this once it
    /// hears the server again.
    TargetEndedAlone { reason: String, at: UnixMillis },
    /// Someone with the right to ended the session: an administrator's
    /// End, the technician's account disabled, demoted or deleted.
    Revoked { by: Party, reason: String },
    /// The server is shutting down.
    ServerStopping,
}

/// A change worth recording: the server audits it (and moves a broker
/// session's code along) in one transaction, before the messages that
/// follow it are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The target asks its user, for `timeout_secs`.
    UserAsked { timeout_secs: u32 },
    /// The target's user accepted, in `mode` if named.
    UserAccepted { mode: Option<SessionMode> },
    /// The target's user rejected (the end follows).
    UserRejected,
    /// Nobody answered the target's prompt (the end follows).
    UserNoAnswer,
    /// The technician asked for `requested`, which the policy turned into
    /// `granted` (a grant for it follows).
    ModeRequested { requested: SessionMode, granted: SessionMode },
    /// The target's step in changing the mode: the person asked, the new
    /// mode in force, or the change refused.
    Mode(ModeStep),
    /// A policy change (by `by`) no longer allows `from`: the session
    /// narrows to `to` (a grant for it follows).
    PolicyNarrowed { from: SessionMode, to: SessionMode, by: Party },
    /// A chat line (relayed to both ends after it is recorded).
    Chat { from: Speaker, text: String },
    /// The target answered the controller: the session is live.
    Started,
    /// The technician's controller attached again (a reload).
    Reattached { source: Option<String> },
    /// The session ended, once, for `reason`, by `by`; `at` is when it
    /// really ended if that was before it could be recorded (a target
    /// that ended it alone while the server was unreachable).
    Ended { reason: String, by: Party, at: Option<UnixMillis> },
}

impl Step {
    /// The audit action.
    pub fn action(&self) -> &'static str {
        match self {
            Step::UserAsked { .. } => "session.user_asked",
            Step::UserAccepted { .. } => "session.user_accepted",
            Step::UserRejected => "session.user_rejected",
            Step::UserNoAnswer => "session.user_no_answer",
            Step::ModeRequested { .. } => "session.mode_requested",
            Step::PolicyNarrowed { .. } => "session.policy_narrowed",
            Step::Chat { .. } => "session.chat",
            Step::Mode(ModeStep::Asking { .. }) => "session.mode_asked",
            Step::Mode(ModeStep::InForce { .. }) => "session.mode_changed",
            Step::Mode(ModeStep::Refused { .. }) => "session.mode_refused",
            Step::Started => "session.start",
            Step::Reattached { .. } => "session.reattach",
            Step::Ended { .. } => "session.end",
        }
    }

    /// Who the step is by.
    pub fn by(&self) -> Party {
        match self {
            Step::UserAsked { .. }
            | Step::UserAccepted { .. }
            | Step::UserRejected
            | Step::UserNoAnswer
            | Step::Mode(_)
            | Step::Started => Party::Target,
            Step::Reattached { .. } | Step::ModeRequested { .. } => Party::Technician,
            Step::PolicyNarrowed { by, .. } => by.clone(),
            Step::Chat { from: Speaker::Technician, .. } => Party::Technician,
            Step::Chat { from: Speaker::Person, .. } => Party::Target,
            Step::Ended { by, .. } => by.clone(),
        }
    }

    /// What the step means to a broker session's code, and that event's
    /// audit action (nothing for a session of an enrolled computer).
    pub fn code_event(&self) -> Option<(CodeEvent, &'static str)> {
        match self {
            Step::UserAsked { .. } => Some((CodeEvent::AcceptancePrompted, "broker_session.acceptance_prompted")),
            Step::UserAccepted { .. } => Some((CodeEvent::UserAccepted, "broker_session.accepted")),
            Step::UserRejected => Some((CodeEvent::UserRejected, "broker_session.rejected")),
            Step::UserNoAnswer => Some((CodeEvent::AcceptanceTimedOut, "broker_session.expired")),
            Step::Started => Some((CodeEvent::SessionStarted, "broker_session.started")),
            Step::Ended { .. } => Some((CodeEvent::SessionEnded, "broker_session.ended")),
            Step::Reattached { .. }
            | Step::ModeRequested { .. }
            | Step::Mode(_)
            | Step::PolicyNarrowed { .. }
            | Step::Chat { .. } => None,
        }
    }
}

/// What the server does next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Record (audit) a step before anything after it takes effect.
    Record(Step),
    /// Send to the technician's controller, if one is attached.
    ToController(ServerToController),
    /// Send to the target.
    ToTarget(Signal),
    /// Send the chat line `from` typed, recorded at `at`, to both ends.
    Chat { from: Speaker, text: String, at: UnixMillis },
    /// Issue the target a grant for `mode` (audited) naming the current
    /// controller: the technician's request, which the target applies or
    /// puts to the person.
    GrantMode(SessionMode),
    /// The session is over: close its route and forget it.
    Close,
}

/// Why an event changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The session has ended; nothing moves it any more.
    #[error("the session has ended")]
    Ended,
    /// The event does not fit the session's phase (a second question, an
    /// answer nobody asked for, an offer's answer before the user accepted).
    #[error("{event} is out of place while the session is {phase}")]
    OutOfPlace { event: &'static str, phase: &'static str },
    /// A prompt announced with an impossible timeout.
    #[error("a prompt of {0} s is out of range")]
    BadTimeout(u32),
    /// A controller attachment that is no longer the current one.
    #[error("controller attachment {0} is not the current one")]
    StaleAttachment(u64),
}

impl Event {
    /// The event's name, for logs and refusals.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Tick => "tick",
            Event::ControllerAttached { .. } => "controller attached",
            Event::ControllerLeft { .. } => "controller left",
            Event::ControllerBye { .. } => "controller bye",
            Event::UserAsked { .. } => "user asked",
            Event::UserAccepted { .. } => "user accepted",
            Event::UserRejected => "user rejected",
            Event::UserNoAnswer => "user gave no answer",
            Event::ModeRequested { .. } => "mode requested",
            Event::TargetMode(_) => "target mode step",
            Event::PolicyChanged { .. } => "policy changed",
            Event::Chat { .. } => "chat",
            Event::FromTarget(Signal::Answer { .. }) => "target answered",
            Event::FromTarget(Signal::Bye { .. }) => "target bye",
            Event::FromTarget(_) => "target signal",
            Event::TargetGone => "target gone",
            Event::TargetEndedAlone { .. } => "target ended alone",
            Event::Revoked { .. } => "revoked",
            Event::ServerStopping => "server stopping",
        }
    }
}

impl From<ConsentStep> for Event {
    /// The event a target's consent step stands for.
    fn from(step: ConsentStep) -> Self {
        match step {
            ConsentStep::Asking { timeout_secs } => Event::UserAsked { timeout_secs },
            ConsentStep::Accepted { mode } => Event::UserAccepted { mode },
            ConsentStep::Rejected => Event::UserRejected,
            ConsentStep::NoAnswer => Event::UserNoAnswer,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
