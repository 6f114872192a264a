//! The life of one connection code as a plain state machine. The server
//! feeds it events with its own clock (`now`, Unix milliseconds) and keeps
//! what it returns; nothing here reads a clock, so tests step time by hand.
//!
//! ```text
//!            Extend (timer reset)
//!             ┌───┐
//! Issue ──▶ Waiting ──Redeem──▶ TargetConnected ──SessionStarted──────────────▶ Active
//!             │                      │
//!             │                      └─AcceptancePrompted─▶ AwaitingAcceptance ─UserAccepted─▶ Active
//!             │                                                    ├─UserRejected─▶ Rejected
//!             │                                                    └─AcceptanceTimedOut─▶ Expired
//!             │      (TargetConnected / AwaitingAcceptance ─SessionEnded─▶ Ended: the session
//!             │       ended before it started — the target left, the technician ended it)
//!             ├─ RequestNew ─▶ Replaced   (the caller issues the new code)
//!             ├─ Cancel ─────▶ Cancelled  (also from TargetConnected / AwaitingAcceptance)
//!             ├─ WrongGuess × max ─▶ Voided
//!             └─ deadline passed ─▶ Expired (also TargetConnected / AwaitingAcceptance
//!                                            after the acceptance timeout)
//! ```
//!
//! Every event first applies the deadline, so a redemption one millisecond
//! late fails even if no `Tick` came in between. A code is redeemed once.

use core::fmt;
use core::time::Duration;

use serde::{Deserialize, Serialize};

/// A moment as Unix time in milliseconds, as the server stores times.
pub type UnixMillis = i64;

/// How codes behave; the server takes it from the technician's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodePolicy {
    /// How long a code stays redeemable after it is issued or extended.
    pub lifetime: Duration,
    /// Wrong tries aimed at a code (near misses) that void it.
    pub max_wrong_guesses: u32,
    /// How long a redeemed code may take to become an active session
    /// (target set-up plus the user's answer) before it expires.
    pub acceptance_timeout: Duration,
}

impl CodePolicy {
    /// The product's default lifetime, 15 minutes.
    pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);
}

impl Default for CodePolicy {
    fn default() -> Self {
        CodePolicy {
            lifetime: Self::DEFAULT_LIFETIME,
            max_wrong_guesses: 5,
            acceptance_timeout: Duration::from_secs(2 * 60),
        }
    }
}

/// Where a code is in its life. Serialized as `{"status": "waiting", ...}`
/// for the technician's connection-code window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum CodeState {
    /// Issued and redeemable until `expires_at`. (v1)
    Waiting { expires_at: UnixMillis },
    /// A target redeemed the code and was authenticated; it is setting up
    /// the session, which must become active by `deadline`. (v1)
    TargetConnected { deadline: UnixMillis },
    /// The target's user is being asked to accept, until `deadline`. (v1)
    AwaitingAcceptance { deadline: UnixMillis },
    /// The session is live; the code's life is over. (v1)
    Active,
    /// The target's user declined. (v1)
    Rejected,
    /// Time ran out before the session became active. (v1)
    Expired,
    /// The technician cancelled. (v1)
    Cancelled,
    /// The technician asked for a new code, which replaced this one. (v1)
    Replaced,
    /// The redeemed code's session ended before it started (the target
    /// left, or the technician ended it first). (v1)
    Ended,
    /// Too many wrong tries were aimed at the code. (v1)
    Voided,
}

impl CodeState {
    /// The status word (`waiting`, `target_connected`, ...), as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeState::Waiting { .. } => "waiting",
            CodeState::TargetConnected { .. } => "target_connected",
            CodeState::AwaitingAcceptance { .. } => "awaiting_acceptance",
            CodeState::Active => "active",
            CodeState::Rejected => "rejected",
            CodeState::Expired => "expired",
            CodeState::Cancelled => "cancelled",
            CodeState::Replaced => "replaced",
            CodeState::Ended => "ended",
            CodeState::Voided => "voided",
        }
    }

    /// The status line the technician reads.
    pub fn label(self) -> &'static str {
        match self {
            CodeState::Waiting { .. } => "waiting for target",
            CodeState::TargetConnected { .. } => "target connected",
            CodeState::AwaitingAcceptance { .. } => "awaiting user acceptance",
            CodeState::Active => "active",
            CodeState::Rejected => "rejected by the user",
            CodeState::Expired => "expired",
            CodeState::Cancelled => "cancelled",
            CodeState::Replaced => "replaced by a new code",
            CodeState::Ended => "ended before the session started",
            CodeState::Voided => "void after too many wrong tries",
        }
    }

    /// The next moment the state changes by itself, if any.
    pub fn deadline(self) -> Option<UnixMillis> {
        match self {
            CodeState::Waiting { expires_at } => Some(expires_at),
            CodeState::TargetConnected { deadline } | CodeState::AwaitingAcceptance { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// No event moves the code on from here.
    pub fn is_final(self) -> bool {
        self.deadline().is_none()
    }
}

/// What happened to a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// Time passes; applies the deadline and nothing else. (v1)
    Tick,
    /// The technician asked for a new code: this one dies at once. (v1)
    RequestNew,
    /// The technician reset the timer to a full lifetime. (v1)
    Extend,
    /// The technician cancelled. (v1)
    Cancel,
    /// A target entered this code and was authenticated (the code is used
    /// up; the target is connected). (v1)
    Redeem,
    /// A wrong code one slip away from this one was tried. (v1)
    WrongGuess,
    /// The target asks its user to accept. (v1)
    AcceptancePrompted,
    /// The target's user accepted. (v1)
    UserAccepted,
    /// The target's user declined. (v1)
    UserRejected,
    /// The target's prompt went unanswered for its whole timeout. (v1)
    AcceptanceTimedOut,
    /// The code's session ended, for whatever reason; moves a code still
    /// setting up to `Ended`, leaves any other as it is. (v1)
    SessionEnded,
    /// The target started the session without asking (its policy needs no
    /// acceptance). (v1)
    SessionStarted,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Event::Tick => "tick",
            Event::RequestNew => "request new",
            Event::Extend => "extend",
            Event::Cancel => "cancel",
            Event::Redeem => "redeem",
            Event::WrongGuess => "wrong guess",
            Event::AcceptancePrompted => "acceptance prompted",
            Event::UserAccepted => "user accepted",
            Event::UserRejected => "user rejected",
            Event::AcceptanceTimedOut => "acceptance timed out",
            Event::SessionEnded => "session ended",
            Event::SessionStarted => "session started",
        })
    }
}

/// Why an event was refused. The state may still have moved to `Expired`
/// (the deadline is applied first); `CodeLifecycle::state` is the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The code's time ran out.
    #[error("the connection code has expired")]
    Expired,
    /// The code was redeemed already; codes are single use.
    #[error("the connection code has already been used")]
    AlreadyUsed,
    /// The code was cancelled, replaced by a new one, or voided.
    #[error("the connection code is no longer valid ({})", .0.label())]
    Withdrawn(CodeState),
    /// The event makes no sense in this state (e.g. Extend after Redeem).
    #[error("cannot {event} when the code is {}", .state.as_str())]
    NotNow {
        /// The refused event.
        event: Event,
        /// The state it met.
        state: CodeState,
    },
}

/// A state change, for the caller to store and audit; `from == to` when
/// nothing moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The state before the event.
    pub from: CodeState,
    /// The state after it.
    pub to: CodeState,
}

/// One code's lifecycle: its policy, state and wrong-try count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeLifecycle {
    policy: CodePolicy,
    state: CodeState,
    wrong_guesses: u32,
}

impl CodeLifecycle {
    /// A newly issued code, waiting for a full lifetime from `now`.
    pub fn issue(policy: CodePolicy, now: UnixMillis) -> Self {
        CodeLifecycle {
            policy,
            state: CodeState::Waiting { expires_at: after(now, policy.lifetime) },
            wrong_guesses: 0,
        }
    }

    /// A lifecycle as stored earlier.
    pub fn restore(policy: CodePolicy, state: CodeState, wrong_guesses: u32) -> Self {
        CodeLifecycle { policy, state, wrong_guesses }
    }

    /// The current state.
    pub fn state(&self) -> CodeState {
        self.state
    }

    /// The policy the code was issued under.
    pub fn policy(&self) -> CodePolicy {
        self.policy
    }

    /// Wrong tries aimed at this code so far.
    pub fn wrong_guesses(&self) -> u32 {
        self.wrong_guesses
    }

    /// When to send the next `Tick`, if the state can still time out.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        self.state.deadline()
    }

    /// Request New in one step: this code dies and a fresh one (same
    /// policy, full lifetime from `now`) takes its place.
    pub fn request_new(&mut self, now: UnixMillis) -> Result<CodeLifecycle, Refusal> {
        self.handle(Event::RequestNew, now)?;
        Ok(CodeLifecycle::issue(self.policy, now))
    }

    /// Applies `event` at `now`.
    pub fn handle(&mut self, event: Event, now: UnixMillis) -> Result<Change, Refusal> {
        let from = self.state;
        if self.state.deadline().is_some_and(|deadline| now >= deadline) {
            self.state = CodeState::Expired;
        }
        let next = self.next_state(event, now);
        if let Ok(state) = next {
            self.state = state;
        }
        next.map(|to| Change { from, to })
    }

    fn next_state(&mut self, event: Event, now: UnixMillis) -> Result<CodeState, Refusal> {
        use CodeState as S;
        use Event as E;
        let state = self.state;
        let deadline = after(now, self.policy.acceptance_timeout);
        match (state, event) {
            (_, E::Tick) => Ok(state),
            (S::Waiting { .. }, E::Extend) => Ok(S::Waiting { expires_at: after(now, self.policy.lifetime) }),
            (S::Waiting { .. }, E::RequestNew) => Ok(S::Replaced),
            (S::Waiting { .. }, E::Redeem) => Ok(S::TargetConnected { deadline }),
            (S::Waiting { .. }, E::WrongGuess) => {
                self.wrong_guesses = self.wrong_guesses.saturating_add(1);
                Ok(if self.wrong_guesses >= self.policy.max_wrong_guesses { S::Voided } else { state })
            }
            (S::Waiting { .. } | S::TargetConnected { .. } | S::AwaitingAcceptance { .. }, E::Cancel) => {
                Ok(S::Cancelled)
            }
            (S::TargetConnected { .. }, E::AcceptancePrompted) => Ok(S::AwaitingAcceptance { deadline }),
            (S::TargetConnected { .. }, E::SessionStarted) | (S::AwaitingAcceptance { .. }, E::UserAccepted) => {
                Ok(S::Active)
            }
            (S::AwaitingAcceptance { .. }, E::UserRejected) => Ok(S::Rejected),
            (S::AwaitingAcceptance { .. }, E::AcceptanceTimedOut) => Ok(S::Expired),
            (S::TargetConnected { .. } | S::AwaitingAcceptance { .. }, E::SessionEnded) => Ok(S::Ended),
            (_, E::SessionEnded) => Ok(state),
            // The session's answer after the user accepted.
            (S::Active, E::SessionStarted) => Ok(state),
            // A dead or used code has nothing left to guard or cancel.
            (_, E::WrongGuess) => Ok(state),
            (S::Expired | S::Cancelled | S::Replaced | S::Voided | S::Rejected | S::Ended, E::Cancel) => Ok(state),
            (S::Expired, _) => Err(Refusal::Expired),
            (S::Cancelled | S::Replaced | S::Voided, _) => Err(Refusal::Withdrawn(state)),
            (_, E::Redeem) => Err(Refusal::AlreadyUsed),
            _ => Err(Refusal::NotNow { event, state }),
        }
    }
}

/// `now + duration`, saturating.
fn after(now: UnixMillis, duration: Duration) -> UnixMillis {
    now.saturating_add(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
}
