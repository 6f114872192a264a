//! The technician's request to change the session's mode, as the page
//! follows it: sent, put to the person at the computer, then in force or
//! refused (the agent decides; the server relays its steps).

use tether_shared::mode::SessionMode;
use tether_shared::signal::ModeStep;

/// Where the latest request stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ModeRequest {
    /// None asked for on this page yet.
    #[default]
    Idle,
    /// Sent; the server grants it and the agent decides.
    Sent(SessionMode),
    /// The person at the computer is asked.
    Asking { mode: SessionMode, timeout_secs: u32 },
    /// Decided: what happened, in a sentence.
    Settled(String),
}

impl ModeRequest {
    /// Whether an answer is awaited (another request waits for it).
    pub fn is_pending(&self) -> bool {
        matches!(self, ModeRequest::Sent(_) | ModeRequest::Asking { .. })
    }

    /// The line the page shows, if any.
    pub fn line(&self) -> Option<String> {
        match self {
            ModeRequest::Idle => None,
            ModeRequest::Sent(mode) => Some(format!("Asking for {} mode…", mode.name())),
            ModeRequest::Asking { mode, timeout_secs } => {
                Some(ModeStep::Asking { mode: *mode, timeout_secs: *timeout_secs }.sentence())
            }
            ModeRequest::Settled(sentence) => Some(sentence.clone()),
        }
    }

    /// A stable name for styling and tests.
    pub fn key(&self) -> &'static str {
        match self {
            ModeRequest::Idle => "idle",
            ModeRequest::Sent(_) => "sent",
            ModeRequest::Asking { .. } => "asking",
            ModeRequest::Settled(_) => "settled",
        }
    }

    /// The agent's step, as the server relayed it.
    pub fn on_step(&mut self, step: ModeStep) {
        *self = match step {
            ModeStep::Asking { mode, timeout_secs } => ModeRequest::Asking { mode, timeout_secs },
            ModeStep::InForce { .. } | ModeStep::Refused { .. } => ModeRequest::Settled(step.sentence()),
        };
    }

    /// The server refused the request (`message` says why).
    pub fn refused(&mut self, message: String) {
        if self.is_pending() {
            *self = ModeRequest::Settled(message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_shared::signal::{ModeChangedBy, ModeRefusal};

    #[test]
    fn a_request_is_followed_to_its_outcome() {
        let mut request = ModeRequest::default();
        assert_eq!((request.line(), request.is_pending()), (None, false));
        request = ModeRequest::Sent(SessionMode::Active);
        assert_eq!(request.line().as_deref(), Some("Asking for Active mode…"));
        request.on_step(ModeStep::Asking { mode: SessionMode::Active, timeout_secs: 30 });
        assert!(request.is_pending());
        assert!(request.line().expect("a line").starts_with("Asking the person at the computer to allow Active mode"));
        request.on_step(ModeStep::Refused { mode: SessionMode::Active, reason: ModeRefusal::Rejected });
        assert_eq!(request.line().as_deref(), Some("Active mode was not allowed: the person at the computer said no."));
        assert!(!request.is_pending());
        request.refused("late".into());
        assert_eq!(request.key(), "settled", "a refusal with nothing pending changes nothing");
        request.on_step(ModeStep::InForce { mode: SessionMode::Monitor, by: ModeChangedBy::Person });
        assert_eq!(request.line().as_deref(), Some("The person at the computer set the session to Monitor mode."));
    }
}
