//! What a consent gate is asked, what it may ask the person, and what it
//! decides.

use core::time::Duration;

use crate::access::{Access, AccessSet};
use crate::grant::Grant;
use crate::mode::{ModeSet, SessionMode, choices_for_person};
use crate::signal::ConsentStep;
use serde::{Deserialize, Serialize};

/// What the technician asks for: a session mode, the kinds of access it
/// brings, and the modes the person may pick instead (each asks for less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub mode: SessionMode,
    pub access: AccessSet,
    /// Allowed modes after `mode` in precedence that use no access it lacks
    /// ([`choices_for_person`]).
    pub choices: ModeSet,
}

impl Offer {
    /// What a verified grant asks for: its mode and access, and the
    /// choices its policy's allowed modes leave the person.
    pub fn of(grant: &Grant) -> Self {
        Offer { mode: grant.mode, access: grant.access, choices: choices_for_person(grant.mode, &grant.allowed_modes) }
    }

    /// Whether the person may accept the session in `mode`: the one offered
    /// or one of the choices.
    pub fn allows(&self, mode: SessionMode) -> bool {
        mode == self.mode || self.choices.contains(mode)
    }
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
    pub offer: Offer,
    pub origin: Origin,
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
    /// What the technician asks for, and what the person may pick instead.
    pub offer: Offer,
    /// How long the person has; no answer by then denies the session
    /// (or, for a change, leaves the mode as it is).
    pub timeout: Duration,
    /// For a running session, the mode it is in: the question asks to
    /// change it to the offer's (`crate::mode_change`). `None` when the
    /// question is whether the session may start at all.
    pub change_from: Option<SessionMode>,
    /// For a running session, the tool the technician asks to use, which
    /// the policy wants the person to allow first (`crate::tool`); the
    /// session's mode stays as it is whatever the answer. (v10)
    pub tool: Option<ToolUse>,
}

/// A technician's first use of a kind of access within a running session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolUse {
    pub access: Access,
    /// What exactly, where there is more to say (a file's name and size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ToolUse {
    /// "Tess asks to read and change your clipboard." — the question's
    /// sentence, with the detail after it where there is one.
    pub fn sentence(&self, technician: &str) -> String {
        let asks = format!("{technician} asks to {}.", self.access.describe());
        match &self.detail {
            Some(detail) => format!("{asks} {detail}"),
            None => asks,
        }
    }
}

/// The person's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Yes, in `mode`: the one offered or one of the offer's choices.
    Accept(SessionMode),
    Reject,
}

impl Answer {
    /// Yes to what `question` offers, as it stands.
    pub fn accept_as_offered(question: &Question) -> Self {
        Answer::Accept(question.offer.mode)
    }
}

/// Why a session may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acceptance {
    /// The person at this computer said yes, in `mode` (the offered one
    /// or a narrower one they picked).
    ByPerson { mode: SessionMode },
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
            Verdict::Accepted(Acceptance::ByPerson { mode }) => {
                format!("You accepted the session in {} mode.", mode.name())
            }
            Verdict::Accepted(Acceptance::Unattended) => "unattended access, allowed on this computer".into(),
            Verdict::Accepted(Acceptance::CodeEntered) => "you entered the technician's code".into(),
            Verdict::Denied(Denial::Rejected) => "You rejected the session.".into(),
            Verdict::Denied(Denial::NoAnswer { timeout_secs }) => {
                format!("Nobody accepted the session within {timeout_secs} seconds.")
            }
            Verdict::Denied(Denial::NobodyToAsk) => {
                "nobody at this computer can be asked to accept it (the agent runs without its page)".into()
            }
            Verdict::Denied(Denial::Withdrawn) => "The session ended before you answered.".into(),
        }
    }

    /// The answer's step as the server hears it, when a question was asked
    /// and answered or timed out (a withdrawn question is not reported).
    pub(super) fn answer_step(self) -> Option<ConsentStep> {
        match self {
            Verdict::Accepted(Acceptance::ByPerson { mode }) => Some(ConsentStep::Accepted { mode: Some(mode) }),
            Verdict::Denied(Denial::Rejected) => Some(ConsentStep::Rejected),
            Verdict::Denied(Denial::NoAnswer { .. }) => Some(ConsentStep::NoAnswer),
            Verdict::Accepted(Acceptance::Unattended | Acceptance::CodeEntered)
            | Verdict::Denied(Denial::NobodyToAsk | Denial::Withdrawn) => None,
        }
    }
}
