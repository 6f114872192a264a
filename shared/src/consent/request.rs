//! What a consent gate is asked, what it may ask the person, and what it
//! decides.

use core::time::Duration;

use crate::signal::ConsentStep;

/// What a request is for. Only whole sessions today; the session's mode
/// and kinds of access will be named here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// A remote session: the screen and control of this computer.
    RemoteSession,
}

/// How a request reached this computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A technician asked for a session with this enrolled computer over
    /// its lasting link.
    EnrolledLink,
    /// The person at this computer typed the session's connection code.
    ConnectionCode,
}

/// A technician's request for a session, as the agent received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub session_id: String,
    /// Who asks: the technician's display name.
    pub technician: String,
    /// What for.
    pub purpose: Purpose,
    pub origin: Origin,
    /// `host:port` of the broker the session goes through, if any.
    pub broker: Option<String>,
    /// Whether the server's policy wants the person asked.
    pub policy_asks: bool,
    /// How long the person may take to answer, in seconds (the policy's
    /// acceptance timeout; the gate keeps it within
    /// 1..=[`ConsentStep::MAX_TIMEOUT_SECS`]).
    pub timeout_secs: u32,
}

/// What this computer's own configuration allows: a floor the server
/// cannot lower.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalRules {
    /// Requests over the enrolled link start without asking (the operator
    /// chose unattended access). Never applies to connection codes.
    pub unattended: bool,
    /// Ask before every connection code's session, whatever the policy.
    pub always_ask: bool,
    /// This path has a way to ask the person (the terminal, the loopback
    /// page, or an answer given in advance); without one, a request that
    /// needs an answer is denied.
    pub can_ask: bool,
}

/// The question put to the person at this computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub session_id: String,
    /// The technician's display name.
    pub technician: String,
    /// What the technician asks for.
    pub purpose: Purpose,
    /// `host:port` of the broker the session goes through, if any.
    pub broker: Option<String>,
    /// How long the person has; no answer by then denies the session.
    pub timeout: Duration,
}

/// The person's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Reject,
}

/// Why a session may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// The person at this computer said yes.
    ByPerson,
    /// The agent's own configuration allows unattended access.
    Unattended,
    /// The person typed the code and nobody wants them asked again.
    CodeEntered,
}

/// Why a session may not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The person said no.
    Rejected,
    /// Nobody answered within the timeout.
    NoAnswer { timeout_secs: u32 },
    /// The request needs an answer and this path cannot ask anyone.
    NobodyToAsk,
    /// The request went away before an answer (the technician ended it).
    Withdrawn,
}

/// The gate's decision, made once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted(Acceptance),
    Denied(Denial),
}

impl Verdict {
    /// Whether the session may start.
    pub fn is_accepted(self) -> bool {
        matches!(self, Verdict::Accepted(_))
    }

    /// The sentence for the person at this computer and for a `bye`.
    pub fn reason(self) -> String {
        match self {
            Verdict::Accepted(Acceptance::ByPerson) => "the user accepted the session".into(),
            Verdict::Accepted(Acceptance::Unattended) => "unattended access".into(),
            Verdict::Accepted(Acceptance::CodeEntered) => "the user entered its connection code".into(),
            Verdict::Denied(Denial::Rejected) => "You rejected the session.".into(),
            Verdict::Denied(Denial::NoAnswer { timeout_secs }) => {
                format!("Nobody accepted the session within {timeout_secs} seconds.")
            }
            Verdict::Denied(Denial::NobodyToAsk) => "nobody at this computer can accept sessions yet".into(),
            Verdict::Denied(Denial::Withdrawn) => "The session ended before you answered.".into(),
        }
    }

    /// The answer's step as the server hears it, when a question was asked
    /// and answered or timed out (a withdrawn question is not reported).
    pub(super) fn answer_step(self) -> Option<ConsentStep> {
        match self {
            Verdict::Accepted(Acceptance::ByPerson) => Some(ConsentStep::Accepted),
            Verdict::Denied(Denial::Rejected) => Some(ConsentStep::Rejected),
            Verdict::Denied(Denial::NoAnswer { .. }) => Some(ConsentStep::NoAnswer),
            Verdict::Accepted(Acceptance::Unattended | Acceptance::CodeEntered)
            | Verdict::Denied(Denial::NobodyToAsk | Denial::Withdrawn) => None,
        }
    }
}
