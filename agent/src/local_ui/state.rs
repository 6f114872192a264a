//! What the loopback UI shows, as a plain state machine: not configured,
//! idle, connecting, awaiting the user's acceptance, in session, failed.
//! Each connection attempt has a number, so a cancelled attempt's late news
//! is ignored. Beside a code's attempt, an enrolled computer's link may put
//! a question of its own (a technician's request to this computer) and
//! run sessions: the question comes first on screen, and while no code's
//! attempt runs, the page says who is accessing the computer.

use crate::broker::{ConnectError, Progress};
use crate::consent::{Answer, Question};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use tether_shared::broker::LocalAgentStatus;
use tether_shared::chat::{ChatLine, MAX_KEPT_LINES};
use tether_shared::mode::SessionMode;

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
    /// Attempt `attempt` has a live session with `technician`, in `mode`.
    InSession { attempt: u64, session_id: String, technician: String, mode: SessionMode },
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
    #[error("{0} mode is not one of the choices offered")]
    NotOffered(&'static str),
    #[error("no session is running")]
    NoSession,
    #[error("{0} mode does not ask for less than the session's mode")]
    NotNarrower(&'static str),
}

/// The state plus what it needs to report itself.
#[derive(Debug, Clone)]
pub struct Machine {
    state: State,
    /// The server's URL, shown while idle or connecting.
    server: String,
    /// The last attempt number handed out.
    attempts: u64,
    /// The enrolled link's open question, and when it was asked.
    link_question: Option<(Question, Instant)>,
    /// The enrolled link's running sessions, oldest first.
    link_sessions: Vec<LinkSession>,
    /// Each running session's chat so far (the last lines).
    chats: HashMap<String, VecDeque<ChatLine>>,
    /// What each running session uses right now, in words.
    in_use: HashMap<String, String>,
}

/// A session of the enrolled link: who is accessing this computer, how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSession {
    pub session_id: String,
    pub technician: String,
    pub mode: SessionMode,
}

/// Whose question an answer went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// A code's attempt, which goes on connecting.
    Attempt(u64),
    /// The enrolled link's request.
    Link,
}

impl Machine {
    /// Starts idle for `server`, or not configured with `message`.
    pub fn new(ready: Result<String, String>) -> Self {
        let mut machine = Self {
            state: State::Idle { last_session: None },
            server: String::new(),
            attempts: 0,
            link_question: None,
            link_sessions: Vec::new(),
            chats: HashMap::new(),
            in_use: HashMap::new(),
        };
        machine.configure(ready);
        machine
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// What `GET /local/status` answers: the link's question first, then
    /// a code's attempt, then who is accessing this computer.
    pub fn status(&self) -> LocalAgentStatus {
        if let Some((question, asked_at)) = &self.link_question {
            return awaiting(question, *asked_at);
        }
        if let (State::Idle { .. }, Some(session)) = (&self.state, self.link_sessions.first()) {
            return LocalAgentStatus::InSession {
                session_id: session.session_id.clone(),
                technician: session.technician.clone(),
                mode: Some(session.mode),
                from_link: true,
                chat: self.chat_of(&session.session_id),
                in_use: self.in_use.get(&session.session_id).cloned(),
            };
        }
        match &self.state {
            State::NotConfigured { message } => LocalAgentStatus::NotConfigured { message: message.clone() },
            State::Idle { last_session } => {
                LocalAgentStatus::Idle { server: self.server.clone(), last_session: last_session.clone() }
            }
            State::Connecting { .. } => LocalAgentStatus::Connecting { server: self.server.clone() },
            State::AwaitingAcceptance { question, asked_at, .. } => awaiting(question, *asked_at),
            State::InSession { session_id, technician, mode, .. } => LocalAgentStatus::InSession {
                session_id: session_id.clone(),
                technician: technician.clone(),
                mode: Some(*mode),
                from_link: false,
                chat: self.chat_of(session_id),
                in_use: self.in_use.get(session_id).cloned(),
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
        // A code's session that is over takes its chat with it.
        if let State::InSession { session_id, .. } = &self.state {
            self.chats.remove(session_id);
        }
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
            Progress::InSession { session_id, technician, mode } => {
                self.state = State::InSession { attempt, session_id, technician, mode };
            }
        }
    }

    /// Attempt `attempt` asks the user `question` (at `now`).
    pub fn asked(&mut self, attempt: u64, question: Question, now: Instant) {
        if self.current() == Some(attempt) {
            self.state = State::AwaitingAcceptance { attempt, question, asked_at: now };
        }
    }

    /// The user answered the question on screen (the link's, if it has
    /// one): says whose it was; a code's attempt goes on connecting (or
    /// ends, after a no). An acceptance in a mode the question does not
    /// offer changes nothing.
    pub fn answered(&mut self, answer: Answer) -> Result<Answered, Conflict> {
        if let Some((question, _)) = &self.link_question {
            if let Answer::Accept(mode) = answer
                && !question.offer.allows(mode)
            {
                return Err(Conflict::NotOffered(mode.name()));
            }
            self.link_question = None;
            return Ok(Answered::Link);
        }
        match (&self.state, answer) {
            (State::AwaitingAcceptance { question, .. }, Answer::Accept(mode)) if !question.offer.allows(mode) => {
                Err(Conflict::NotOffered(mode.name()))
            }
            (State::AwaitingAcceptance { attempt, .. }, _) => {
                let attempt = *attempt;
                self.state = State::Connecting { attempt };
                Ok(Answered::Attempt(attempt))
            }
            _ => Err(Conflict::NothingToAnswer),
        }
    }

    /// The question on screen, if one is: the link's, else a code's.
    fn question(&self) -> Option<&Question> {
        match (&self.link_question, &self.state) {
            (Some((question, _)), _) | (None, State::AwaitingAcceptance { question, .. }) => Some(question),
            (None, _) => None,
        }
    }

    /// The mode the question on screen offers, if one is on screen.
    pub fn offered_mode(&self) -> Option<SessionMode> {
        self.question().map(|question| question.offer.mode)
    }

    /// Whether a question is on screen.
    pub fn is_asking(&self) -> bool {
        self.question().is_some()
    }

    /// The enrolled link asks the person `question` (at `now`).
    pub fn link_asked(&mut self, question: Question, now: Instant) {
        self.link_question = Some((question, now));
    }

    /// The link's question about `session_id` is no longer open.
    pub fn link_withdrawn(&mut self, session_id: &str) {
        if self.link_question.as_ref().is_some_and(|(question, _)| question.session_id == session_id) {
            self.link_question = None;
        }
    }

    /// The link's session the page shows, if it shows one (while no code's
    /// attempt runs).
    pub fn shown_link_session(&self) -> Option<&str> {
        match (&self.link_question, &self.state) {
            (None, State::Idle { .. }) => self.link_sessions.first().map(|session| session.session_id.as_str()),
            _ => None,
        }
    }

    /// The session the page shows, if it shows one: its id, its mode and
    /// whether it is the link's (else a code's).
    pub fn shown_session(&self) -> Option<(&str, SessionMode, bool)> {
        if let Some(session_id) = self.shown_link_session() {
            let mode = self.link_sessions.first().map(|session| session.mode)?;
            return Some((session_id, mode, true));
        }
        match (&self.link_question, &self.state) {
            (None, State::InSession { session_id, mode, .. }) => Some((session_id.as_str(), *mode, false)),
            _ => None,
        }
    }

    /// Session `session_id` (the link's or a code's) now runs in `mode`.
    pub fn mode_changed(&mut self, session_id: &str, mode: SessionMode) {
        for session in self.link_sessions.iter_mut().filter(|session| session.session_id == session_id) {
            session.mode = mode;
        }
        if let State::InSession { session_id: shown, mode: current, .. } = &mut self.state
            && shown == session_id
        {
            *current = mode;
        }
    }

    /// A chat line of session `session_id` (the link's or a code's).
    pub fn chat(&mut self, session_id: &str, line: ChatLine) {
        let lines = self.chats.entry(session_id.to_owned()).or_default();
        if lines.len() == MAX_KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// What session `session_id` uses right now, in words (empty: nothing).
    pub fn in_use(&mut self, session_id: &str, words: &str) {
        if words.is_empty() {
            self.in_use.remove(session_id);
        } else {
            self.in_use.insert(session_id.to_owned(), words.to_owned());
        }
    }

    /// Session `session_id`'s chat so far.
    fn chat_of(&self, session_id: &str) -> Vec<ChatLine> {
        self.chats.get(session_id).map(|lines| lines.iter().cloned().collect()).unwrap_or_default()
    }

    /// A session of the link started.
    pub fn link_started(&mut self, session: LinkSession) {
        self.link_sessions.retain(|running| running.session_id != session.session_id);
        self.link_sessions.push(session);
    }

    /// A session of the link ended (the page says so once nothing runs).
    pub fn link_ended(&mut self, session_id: &str, reason: &str) {
        self.chats.remove(session_id);
        self.in_use.remove(session_id);
        let before = self.link_sessions.len();
        self.link_sessions.retain(|running| running.session_id != session_id);
        if self.link_sessions.len() < before
            && let State::Idle { last_session } = &mut self.state
        {
            *last_session = Some(reason.to_owned());
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
                if let State::InSession { session_id, .. } = &self.state {
                    self.chats.remove(session_id);
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

/// The status for `question`, asked at `asked_at`.
fn awaiting(question: &Question, asked_at: Instant) -> LocalAgentStatus {
    LocalAgentStatus::AwaitingAcceptance {
        session_id: question.session_id.clone(),
        technician: question.technician.clone(),
        mode: question.offer.mode,
        access: question.offer.access,
        choices: question.offer.choices,
        change_from: question.change_from,
        tool: question.tool.clone(),
        seconds_left: seconds_rounded_up(question.timeout.saturating_sub(asked_at.elapsed())),
    }
}

fn seconds_rounded_up(duration: Duration) -> u64 {
    duration.saturating_add(Duration::from_millis(999)).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_shared::consent::Offer;
    use tether_shared::mode::ModeSet;

    fn ready() -> Result<String, String> {
        Ok("http://s".into())
    }

    fn live(session: &str) -> Progress {
        Progress::InSession { session_id: session.into(), technician: "Tess".into(), mode: SessionMode::Active }
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
        let choices = ModeSet::of(&[SessionMode::Monitor]);
        Question {
            session_id: "s1".into(),
            technician: "Tess".into(),
            offer: Offer { mode: SessionMode::Active, access: SessionMode::Active.access(), choices },
            timeout: std::time::Duration::from_secs(120),
            change_from: None,
            tool: None,
        }
    }

    #[test]
    fn the_user_is_asked_and_an_answer_goes_back_to_connecting() {
        let mut machine = Machine::new(ready());
        assert_eq!(machine.answered(Answer::Reject), Err(Conflict::NothingToAnswer));
        let attempt = machine.connect().expect("connect");
        machine.asked(attempt, question(), Instant::now());
        let LocalAgentStatus::AwaitingAcceptance { technician, seconds_left, .. } = machine.status() else {
            panic!("awaiting expected: {:?}", machine.status());
        };
        assert_eq!(technician, "Tess");
        assert!((119..=120).contains(&seconds_left), "{seconds_left}");
        assert_eq!(machine.connect(), Err(Conflict::Busy));
        assert_eq!(machine.offered_mode(), Some(SessionMode::Active));
        assert_eq!(machine.answered(Answer::Accept(SessionMode::Chat)), Err(Conflict::NotOffered("Chat")));
        assert!(matches!(machine.state(), State::AwaitingAcceptance { .. }), "a mode not offered changes nothing");
        assert_eq!(machine.answered(Answer::Accept(SessionMode::Monitor)), Ok(Answered::Attempt(attempt)));
        assert_eq!(machine.state(), &State::Connecting { attempt });
        assert_eq!(machine.answered(Answer::Reject), Err(Conflict::NothingToAnswer), "one answer per question");
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

    #[test]
    fn the_links_question_comes_first_and_its_sessions_show_while_idle() {
        let mut machine = Machine::new(ready());
        machine.link_asked(question(), Instant::now());
        assert!(matches!(machine.status(), LocalAgentStatus::AwaitingAcceptance { .. }));
        assert!(machine.is_asking());
        assert_eq!(machine.answered(Answer::Accept(SessionMode::Chat)), Err(Conflict::NotOffered("Chat")));
        assert_eq!(machine.answered(Answer::Accept(SessionMode::Monitor)), Ok(Answered::Link));
        assert!(!machine.is_asking());
        machine.link_started(LinkSession {
            session_id: "s1".into(),
            technician: "Tess".into(),
            mode: SessionMode::Monitor,
        });
        assert_eq!(
            machine.status(),
            LocalAgentStatus::InSession {
                session_id: "s1".into(),
                technician: "Tess".into(),
                mode: Some(SessionMode::Monitor),
                from_link: true,
                chat: vec![],
                in_use: None,
            }
        );
        machine.in_use("s1", "viewing, controlling");
        assert!(
            matches!(machine.status(), LocalAgentStatus::InSession { in_use: Some(words), .. } if words == "viewing, controlling")
        );
        assert_eq!(machine.shown_link_session(), Some("s1"));
        machine.link_ended("s1", "the technician ended the session");
        assert_eq!(machine.shown_link_session(), None);
        assert_eq!(
            machine.status(),
            LocalAgentStatus::Idle {
                server: "http://s".into(),
                last_session: Some("the technician ended the session".into())
            }
        );
        machine.link_asked(question(), Instant::now());
        machine.link_withdrawn("another");
        assert!(machine.is_asking(), "only its own session's withdrawal takes it away");
        machine.link_withdrawn("s1");
        assert!(!machine.is_asking());
    }

    #[test]
    fn a_change_of_mode_is_asked_over_a_running_session_which_then_shows_its_new_mode() {
        let mut machine = Machine::new(ready());
        let attempt = machine.connect().expect("idle");
        machine.progress(attempt, live("s1"));
        assert_eq!(machine.shown_session(), Some(("s1", SessionMode::Active, false)));
        let change = Question { change_from: Some(SessionMode::Monitor), ..question() };
        machine.link_asked(change, Instant::now());
        assert!(
            matches!(
                machine.status(),
                LocalAgentStatus::AwaitingAcceptance { change_from: Some(SessionMode::Monitor), .. }
            ),
            "{:?}",
            machine.status()
        );
        assert_eq!(machine.shown_session(), None, "the question is on screen");
        assert_eq!(machine.answered(Answer::Reject), Ok(Answered::Link));
        assert!(matches!(machine.state(), State::InSession { .. }), "the session goes on");
        machine.mode_changed("s1", SessionMode::Monitor);
        machine.mode_changed("another", SessionMode::Chat);
        assert_eq!(machine.shown_session(), Some(("s1", SessionMode::Monitor, false)));

        let mut idle = Machine::new(ready());
        let link = LinkSession { session_id: "s2".into(), technician: "Tess".into(), mode: SessionMode::Active };
        idle.link_started(link);
        idle.mode_changed("s2", SessionMode::Chat);
        assert_eq!(idle.shown_session(), Some(("s2", SessionMode::Chat, true)));
    }

    #[test]
    fn a_sessions_chat_shows_with_it_and_goes_with_it() {
        use tether_shared::chat::{ChatLine, MAX_KEPT_LINES, Speaker};
        let line = |text: &str| ChatLine { from: Speaker::Technician, name: "Tess".into(), text: text.into(), at: 1 };
        let mut machine = Machine::new(ready());
        let link = LinkSession { session_id: "s1".into(), technician: "Tess".into(), mode: SessionMode::Chat };
        machine.link_started(link);
        for number in 0..=MAX_KEPT_LINES {
            machine.chat("s1", line(&number.to_string()));
        }
        machine.chat("another", line("elsewhere"));
        let LocalAgentStatus::InSession { chat, .. } = machine.status() else { panic!("{:?}", machine.status()) };
        assert_eq!(chat.len(), MAX_KEPT_LINES, "the oldest line goes");
        assert_eq!((chat[0].text.as_str(), chat.last().map(|line| line.text.as_str())), ("1", Some("200")));
        machine.link_ended("s1", "done");
        machine.link_started(LinkSession {
            session_id: "s1".into(),
            technician: "Tess".into(),
            mode: SessionMode::Chat,
        });
        let LocalAgentStatus::InSession { chat, .. } = machine.status() else { panic!("{:?}", machine.status()) };
        assert!(chat.is_empty(), "an ended session's chat is gone");
    }
}
