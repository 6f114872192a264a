//! What the loopback UI shows, as a plain state machine: not configured,
//! idle, connecting, in session, failed. Each connection attempt has a
//! number, so a cancelled attempt's late news is ignored.

use crate::broker::{ConnectError, Progress};
use tether_shared::broker::LocalAgentStatus;

/// The local UI's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Codes cannot be taken yet.
    NotConfigured { message: String },
    /// Waiting for a code.
    Idle,
    /// Attempt `attempt` is redeeming.
    Connecting { attempt: u64 },
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
        let mut machine = Self { state: State::Idle, server: String::new(), attempts: 0 };
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
            State::Idle => LocalAgentStatus::Idle { server: self.server.clone() },
            State::Connecting { .. } => LocalAgentStatus::Connecting { server: self.server.clone() },
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
        self.state = match ready {
            Ok(server) => {
                self.server = server;
                State::Idle
            }
            Err(message) => State::NotConfigured { message },
        };
    }

    /// A code was entered: returns the new attempt's number. Allowed when
    /// idle or after a failure (entering a code is trying again).
    pub fn connect(&mut self) -> Result<u64, Conflict> {
        match &self.state {
            State::NotConfigured { message } => Err(Conflict::NotConfigured(message.clone())),
            State::Connecting { .. } | State::InSession { .. } => Err(Conflict::Busy),
            State::Idle | State::Failed { .. } => {
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
            Progress::InSession { session_id, technician, broker } => {
                self.state = State::InSession { attempt, session_id, technician, broker };
            }
        }
    }

    /// Attempt `attempt` ended: back to idle after a session, failed with
    /// the reason otherwise. `ready` is a fresh reading of the configuration
    /// (the attempt may have fetched the broker list).
    pub fn finished(&mut self, attempt: u64, result: Result<String, ConnectError>, ready: Result<String, String>) {
        if self.current() != Some(attempt) {
            return;
        }
        match result {
            Ok(_) => self.configure(ready),
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
            State::Connecting { .. } | State::InSession { .. } => {
                self.configure(ready);
                Ok(())
            }
            State::NotConfigured { .. } | State::Idle | State::Failed { .. } => Err(Conflict::NothingToCancel),
        }
    }

    /// Try Again: back to idle (or not configured) from anything but a
    /// running attempt.
    pub fn reset(&mut self, ready: Result<String, String>) -> Result<(), Conflict> {
        match self.state {
            State::Connecting { .. } | State::InSession { .. } => Err(Conflict::Busy),
            State::NotConfigured { .. } | State::Idle | State::Failed { .. } => {
                self.configure(ready);
                Ok(())
            }
        }
    }

    fn current(&self) -> Option<u64> {
        match self.state {
            State::Connecting { attempt } | State::InSession { attempt, .. } => Some(attempt),
            State::NotConfigured { .. } | State::Idle | State::Failed { .. } => None,
        }
    }
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
        assert_eq!(machine.status(), LocalAgentStatus::Idle { server: "http://s".into() });
        let attempt = machine.connect().expect("idle takes a code");
        assert_eq!(machine.status(), LocalAgentStatus::Connecting { server: "http://s".into() });
        assert_eq!(machine.connect(), Err(Conflict::Busy));
        machine.progress(attempt, live("s1"));
        assert!(matches!(machine.status(), LocalAgentStatus::InSession { ref session_id, .. } if session_id == "s1"));
        machine.finished(attempt, Ok("done".into()), ready());
        assert_eq!(machine.state(), &State::Idle);
    }

    #[test]
    fn failures_show_why_and_try_again_resets() {
        let mut machine = Machine::new(ready());
        let attempt = machine.connect().expect("connect");
        machine.finished(attempt, Err(ConnectError::Expired), ready());
        assert!(matches!(machine.status(), LocalAgentStatus::Failed { ref error, .. } if error == "code_expired"));
        assert_eq!(machine.cancel(ready()), Err(Conflict::NothingToCancel));
        machine.reset(ready()).expect("try again");
        assert_eq!(machine.state(), &State::Idle);
    }

    #[test]
    fn a_cancelled_attempt_cannot_change_the_state_later() {
        let mut machine = Machine::new(ready());
        let first = machine.connect().expect("connect");
        machine.cancel(ready()).expect("cancel");
        assert_eq!(machine.state(), &State::Idle);
        machine.progress(first, live("s1"));
        machine.finished(first, Err(ConnectError::WrongCode), ready());
        assert_eq!(machine.state(), &State::Idle);
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
