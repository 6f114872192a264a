//! What the loopback UI shows, as a plain state machine: not configured,
//! idle, connecting, awaiting the user's acceptance, in session, failed.
//! Each connection attempt has a number, so a cancelled attempt's late news
//! is ignored.

use crate::broker::{ConnectError, Progress};
use crate::consent::Question;
use std::time::{Duration, Instant};
use tether_shared::broker::LocalAgentStatus;

/// The local UI's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Codes cannot be taken yet.
    NotConfigured { message: String },
    /// Waiting for a code; how the last session ended, if one did.
    Idle { last_session: Option<String> },
    /// Attempt `attempt` is redeeming (or starting after a yes).
    Connecting { attempt: u64 },
    /// Attempt `attempt` asks the user `question`, asked at `asked_at`.
    AwaitingAcceptance { attempt: u64, question: Question, asked_at: Instant },
    /// Attempt `attempt` has a live session.
    InSession { attempt: u64, session_id: String, technician: String, broker: Option<String> },
    /// The last attempt failed.
    Failed { error: String, message: String },
}

/// Why a request does not fit the state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("{0}")]
    NotConfigured(String),
    #[error("a connection is already in progress; cancel it first")]
    Busy,
    #[error("there is nothing to cancel")]
    NothingToCancel,
    #[error("no session is waiting for an answer")]
    NothingToAnswer,
}

/// The state plus what it needs to report itself.
#[derive(Debug, Clone)]
pub struct Machine {
    state: State,
    /// The server's URL, shown while idle or connecting.
    server: String,
    /// The last attempt number handed out.
    attempts: u64,
}

impl Machine {
    /// Starts idle for `server`, or not configured with `message`.
    pub fn new(ready: Result<String, String>) -> Self {
        let mut machine = Self { state: State::Idle { last_session: None }, server: String::new(), attempts: 0 };
        machine.configure(ready);
        machine
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// What `GET /local/status` answers.
    pub fn status(&self) -> LocalAgentStatus {
        match &self.state {
            State::NotConfigured { message } => LocalAgentStatus::NotConfigured { message: message.clone() },
            State::Idle { last_session } => {
                LocalAgentStatus::Idle { server: self.server.clone(), last_session: last_session.clone() }
            }
            State::Connecting { .. } => LocalAgentStatus::Connecting { server: self.server.clone() },
            State::AwaitingAcceptance { question, asked_at, .. } => LocalAgentStatus::AwaitingAcceptance {
                session_id: question.session_id.clone(),
                technician: question.technician.clone(),
                broker: question.broker.clone(),
                seconds_left: seconds_rounded_up(question.timeout.saturating_sub(asked_at.elapsed())),
            },
            State::InSession { session_id, technician, broker, .. } => LocalAgentStatus::InSession {
                session_id: session_id.clone(),
                technician: technician.clone(),
                broker: broker.clone(),
            },
            State::Failed { error, message } => {
                LocalAgentStatus::Failed { error: error.clone(), message: message.clone() }
            }
        }
    }

    /// Applies a fresh reading of the configuration while nothing runs.
    fn configure(&mut self, ready: Result<String, String>) {
        self.configure_after(ready, None);
    }

    /// [`Self::configure`], remembering how the last session ended.
    fn configure_after(&mut self, ready: Result<String, String>, last_session: Option<String>) {
        self.state = match ready {
            Ok(server) => {
                self.server = server;
                State::Idle { last_session }
            }
            Err(message) => State::NotConfigured { message },
        };
    }

    /// A code was entered: returns the new attempt's number. Allowed when
    /// idle or after a failure (entering a code is trying again).
    pub fn connect(&mut self) -> Result<u64, Conflict> {
        match &self.state {
            State::NotConfigured { message } => Err(Conflict::NotConfigured(message.clone())),
            State::Connecting { .. } | State::AwaitingAcceptance { .. } | State::InSession { .. } => {
                Err(Conflict::Busy)
            }
            State::Idle { .. } | State::Failed { .. } => {
                self.attempts += 1;
                self.state = State::Connecting { attempt: self.attempts };
                Ok(self.attempts)
            }
        }
    }

    /// News from attempt `attempt`; ignored unless it is the current one.
    pub fn progress(&mut self, attempt: u64, progress: Progress) {
        if self.current() != Some(attempt) {
            return;
        }
        match progress {
            Progress::ContactingServer { .. } | Progress::Redeeming { .. } => {}
            Progress::TrustedServerKey { fingerprint } => {
                tracing::warn!(%fingerprint, "trusting the server's grant key on first use");
            }
            Progress::InSession { session_id, technician, broker } => {
                self.state = State::InSession { attempt, session_id, technician, broker };
            }
        }
    }

    /// Attempt `attempt` asks the user `question` (at `now`).
    pub fn asked(&mut self, attempt: u64, question: Question, now: Instant) {
        if self.current() == Some(attempt) {
            self.state = State::AwaitingAcceptance { attempt, question, asked_at: now };
        }
    }

    /// The user answered the question on screen: returns its attempt; the
    /// attempt goes on connecting (or ends, after a no).
    pub fn answered(&mut self) -> Result<u64, Conflict> {
        match self.state {
            State::AwaitingAcceptance { attempt, .. } => {
                self.state = State::Connecting { attempt };
                Ok(attempt)
            }
            _ => Err(Conflict::NothingToAnswer),
        }
    }

    /// Attempt `attempt` ended: back to idle after a session (saying how it
    /// ended), failed with the reason otherwise. `ready` is a fresh reading of the configuration
    /// (the attempt may have fetched the broker list).
    pub fn finished(&mut self, attempt: u64, result: Result<String, ConnectError>, ready: Result<String, String>) {
        if self.current() != Some(attempt) {
            return;
        }
        match result {
            Ok(reason) => self.configure_after(ready, Some(reason)),
            Err(err) => {
                if let Ok(server) = ready {
                    self.server = server;
                }
                self.state = State::Failed { error: err.code().to_owned(), message: err.to_string() };
            }
        }
    }

    /// Cancel: ends the running attempt or session (the caller stops its
    /// task); back to idle.
    pub fn cancel(&mut self, ready: Result<String, String>) -> Result<(), Conflict> {
        match self.state {
            State::Connecting { .. } | State::AwaitingAcceptance { .. } | State::InSession { .. } => {
                self.configure(ready);
                Ok(())
            }
            State::NotConfigured { .. } | State::Idle { .. } | State::Failed { .. } => Err(Conflict::NothingToCancel),
        }
    }

    /// Try Again: back to idle (or not configured) from anything but a
    /// running attempt.
    pub fn reset(&mut self, ready: Result<String, String>) -> Result<(), Conflict> {
        match self.state {
            State::Connecting { .. } | State::AwaitingAcceptance { .. } | State::InSession { .. } => {
                Err(Conflict::Busy)
            }
            State::NotConfigured { .. } | State::Idle { .. } | State::Failed { .. } => {
                self.configure(ready);
                Ok(())
            }
        }
    }

    fn current(&self) -> Option<u64> {
        self.state.attempt()
    }
}

impl State {
    /// The attempt the state belongs to, if one runs.
    pub fn attempt(&self) -> Option<u64> {
        match *self {
            State::Connecting { attempt }
            | State::AwaitingAcceptance { attempt, .. }
            | State::InSession { attempt, .. } => Some(attempt),
            State::NotConfigured { .. } | State::Idle { .. } | State::Failed { .. } => None,
        }
    }
}

fn seconds_rounded_up(duration: Duration) -> u64 {
    duration.saturating_add(Duration::from_millis(999)).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Result<String, String> {
        Ok("http://s".into())
    }

    fn live(session: &str) -> Progress {
        Progress::InSession { session_id: session.into(), technician: "Tess".into(), broker: Some("r:3478".into()) }
    }

    #[test]
    fn a_code_leads_to_a_session_and_back_to_idle() {
        let mut machine = Machine::new(ready());
        assert_eq!(machine.status(), LocalAgentStatus::Idle { server: "http://s".into(), last_session: None });
        let attempt = machine.connect().expect("idle takes a code");
        assert_eq!(machine.status(), LocalAgentStatus::Connecting { server: "http://s".into() });
        assert_eq!(machine.connect(), Err(Conflict::Busy));
        machine.progress(attempt, live("s1"));
        assert!(matches!(machine.status(), LocalAgentStatus::InSession { ref session_id, .. } if session_id == "s1"));
        machine.finished(attempt, Ok("the technician ended it".into()), ready());
        assert_eq!(
            machine.status(),
            LocalAgentStatus::Idle { server: "http://s".into(), last_session: Some("the technician ended it".into()) }
        );
    }

    fn question() -> Question {
        Question {
            session_id: "s1".into(),
            technician: "Tess".into(),
            purpose: tether_shared::consent::Purpose::RemoteSession,
            broker: None,
            timeout: std::time::Duration::from_secs(120),
        }
    }

    #[test]
    fn the_user_is_asked_and_an_answer_goes_back_to_connecting() {
        let mut machine = Machine::new(ready());
        assert_eq!(machine.answered(), Err(Conflict::NothingToAnswer));
        let attempt = machine.connect().expect("connect");
        machine.asked(attempt, question(), Instant::now());
        let LocalAgentStatus::AwaitingAcceptance { technician, seconds_left, .. } = machine.status() else {
            panic!("awaiting expected: {:?}", machine.status());
        };
        assert_eq!(technician, "Tess");
        assert!((119..=120).contains(&seconds_left), "{seconds_left}");
        assert_eq!(machine.connect(), Err(Conflict::Busy));
        assert_eq!(machine.answered(), Ok(attempt));
        assert_eq!(machine.state(), &State::Connecting { attempt });
        assert_eq!(machine.answered(), Err(Conflict::NothingToAnswer), "one answer per question");
        machine.finished(attempt, Ok("You rejected the session.".into()), ready());
        assert!(matches!(machine.state(), State::Idle { last_session: Some(reason) } if reason.contains("rejected")));
    }

    #[test]
    fn a_stale_attempt_cannot_ask() {
        let mut machine = Machine::new(ready());
        let first = machine.connect().expect("connect");
        machine.cancel(ready()).expect("cancel");
        machine.asked(first, question(), Instant::now());
        assert_eq!(machine.state(), &State::Idle { last_session: None });
    }

    #[test]
    fn failures_show_why_and_try_again_resets() {
        let mut machine = Machine::new(ready());
        let attempt = machine.connect().expect("connect");
        machine.finished(attempt, Err(ConnectError::Expired), ready());
        assert!(matches!(machine.status(), LocalAgentStatus::Failed { ref error, .. } if error == "code_expired"));
        assert_eq!(machine.cancel(ready()), Err(Conflict::NothingToCancel));
        machine.reset(ready()).expect("try again");
        assert_eq!(machine.state(), &State::Idle { last_session: None });
    }

    #[test]
    fn a_cancelled_attempt_cannot_change_the_state_later() {
        let mut machine = Machine::new(ready());
        let first = machine.connect().expect("connect");
        machine.cancel(ready()).expect("cancel");
        assert_eq!(machine.state(), &State::Idle { last_session: None });
        machine.progress(first, live("s1"));
        machine.finished(first, Err(ConnectError::WrongCode), ready());
        assert_eq!(machine.state(), &State::Idle { last_session: None });
        let second = machine.connect().expect("connect again");
        assert_ne!(first, second);
        assert_eq!(machine.reset(ready()), Err(Conflict::Busy));
    }

    #[test]
    fn without_configuration_codes_are_refused_until_configured() {
        let mut machine = Machine::new(Err("not configured".into()));
        assert!(matches!(machine.status(), LocalAgentStatus::NotConfigured { .. }));
        assert_eq!(machine.connect(), Err(Conflict::NotConfigured("not configured".into())));
        machine.reset(ready()).expect("reset rereads");
        assert!(machine.connect().is_ok());
    }
}
