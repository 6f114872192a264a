//! The technician's connection-code window as plain logic, without a
//! browser: the server clock estimated from answers (so the countdown does
//! not depend on the browser's clock), the countdown text, which buttons a
//! state allows, and when the window hands over to the live session.

use tether_shared::broker::BrokerSessionView;
use tether_shared::connection_code::{CodeState, UnixMillis, countdown_text};

/// The server's clock as seen from the browser: the difference between the
/// `server_now` of the latest answer and the browser's clock when it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerClock {
    offset_ms: i64,
}

impl ServerClock {
    /// The clock implied by an answer stamped `server_now` that arrived at
    /// the browser's `browser_now`.
    pub fn from_answer(server_now: UnixMillis, browser_now: UnixMillis) -> Self {
        Self { offset_ms: server_now.saturating_sub(browser_now) }
    }

    /// Server time at the browser's `browser_now`.
    pub fn now(self, browser_now: UnixMillis) -> UnixMillis {
        browser_now.saturating_add(self.offset_ms)
    }
}

/// The countdown beside the code (`14:59`), for states that end by
/// themselves at a deadline; `None` for the others.
pub fn countdown(state: CodeState, clock: ServerClock, browser_now: UnixMillis) -> Option<String> {
    state.deadline().map(|deadline| countdown_text(deadline, clock.now(browser_now)))
}

/// Whether the state has come to rest (nothing more happens without the
/// technician asking for a new code).
pub fn is_over(state: CodeState) -> bool {
    state.deadline().is_none() && state != CodeState::Active
}

/// Extend Timeout is offered while the code waits for its target.
pub fn can_extend(state: CodeState) -> bool {
    matches!(state, CodeState::Waiting { .. })
}

/// Cancel is offered until the code's life is over.
pub fn can_cancel(state: CodeState) -> bool {
    state.deadline().is_some()
}

/// What the window does after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Keep showing the code and its status.
    Stay,
    /// A target redeemed the code and its session started: open the
    /// controller for it.
    OpenSession(String),
}

/// Where the window goes after `view`: to the controller once the session
/// exists (a target connected, its user is being asked, or it is active).
pub fn next_step(view: &BrokerSessionView) -> Next {
    let started = matches!(
        view.state,
        CodeState::TargetConnected { .. } | CodeState::AwaitingAcceptance { .. } | CodeState::Active
    );
    match &view.session_id {
        Some(session_id) if started && !session_id.is_empty() => Next::OpenSession(session_id.clone()),
        _ => Next::Stay,
    }
}

/// The code as shown: the digits grouped and the URL form, taken from the
/// answers that made a code (create and Request New) and kept until the
/// next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownCode {
    /// `123 456 789`.
    pub code: String,
    /// `<server>/connect/123-456-789`, when the server sent it.
    pub url: Option<String>,
}

impl ShownCode {
    /// The code an answer carries, if it made one.
    pub fn from_view(view: &BrokerSessionView) -> Option<Self> {
        view.code.as_ref().map(|code| ShownCode { code: code.clone(), url: view.url.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: UnixMillis = 1_800_000_000_000;

    fn view(state: CodeState, session_id: Option<&str>) -> BrokerSessionView {
        BrokerSessionView {
            id: "b1".into(),
            code: None,
            url: None,
            state,
            server_now: SERVER,
            lifetime_secs: 900,
            session_id: session_id.map(str::to_owned),
            target: None,
            broker: None,
        }
    }

    #[test]
    fn countdown_follows_the_server_clock_not_the_browser_one() {
        let waiting = CodeState::Waiting { expires_at: SERVER + 15 * 60_000 };
        // The browser's clock is 2 h 3.5 s behind the server's.
        let browser = SERVER - 2 * 3_600_000 - 3_500;
        let clock = ServerClock::from_answer(SERVER, browser);
        assert_eq!(clock.now(browser), SERVER);
        assert_eq!(countdown(waiting, clock, browser).as_deref(), Some("15:00"));
        assert_eq!(countdown(waiting, clock, browser + 1_000).as_deref(), Some("14:59"));
        assert_eq!(countdown(waiting, clock, browser + 15 * 60_000).as_deref(), Some("0:00"));
        assert_eq!(countdown(waiting, clock, browser + 20 * 60_000).as_deref(), Some("0:00"));
        // And ahead of it.
        let ahead = ServerClock::from_answer(SERVER, SERVER + 90_000);
        assert_eq!(countdown(waiting, ahead, SERVER + 90_000 + 61_000).as_deref(), Some("13:59"));
        assert_eq!(countdown(CodeState::Active, clock, browser), None);
        let accepting = CodeState::AwaitingAcceptance { deadline: SERVER + 120_000 };
        assert_eq!(countdown(accepting, clock, browser).as_deref(), Some("2:00"));
    }

    #[test]
    fn buttons_follow_the_state() {
        let waiting = CodeState::Waiting { expires_at: SERVER };
        let connected = CodeState::TargetConnected { deadline: SERVER };
        let over = [
            CodeState::Rejected,
            CodeState::Expired,
            CodeState::Cancelled,
            CodeState::Replaced,
            CodeState::Voided,
            CodeState::Ended,
        ];
        assert!(can_extend(waiting) && can_cancel(waiting) && !is_over(waiting));
        assert!(!can_extend(connected) && can_cancel(connected) && !is_over(connected));
        assert!(!can_cancel(CodeState::Active) && !is_over(CodeState::Active));
        for state in over {
            assert!(is_over(state) && !can_extend(state) && !can_cancel(state), "{state:?}");
        }
    }

    #[test]
    fn opens_the_controller_once_the_session_exists() {
        let waiting = CodeState::Waiting { expires_at: SERVER };
        assert_eq!(next_step(&view(waiting, None)), Next::Stay);
        assert_eq!(next_step(&view(CodeState::Expired, Some("s1"))), Next::Stay);
        assert_eq!(next_step(&view(CodeState::TargetConnected { deadline: SERVER }, None)), Next::Stay);
        for state in [
            CodeState::TargetConnected { deadline: SERVER },
            CodeState::AwaitingAcceptance { deadline: SERVER },
            CodeState::Active,
        ] {
            assert_eq!(next_step(&view(state, Some("s1"))), Next::OpenSession("s1".into()), "{state:?}");
        }
    }

    #[test]
    fn only_code_making_answers_carry_a_code() {
        let mut answer = view(CodeState::Waiting { expires_at: SERVER }, None);
        assert_eq!(ShownCode::from_view(&answer), None);
        answer.code = Some("123 456 789".into());
        answer.url = Some("https://t.example/connect/123-456-789".into());
        assert_eq!(
            ShownCode::from_view(&answer),
            Some(ShownCode { code: "123 456 789".into(), url: Some("https://t.example/connect/123-456-789".into()) })
        );
    }
}
