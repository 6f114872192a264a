//! [`ConsentGate`]: the phase, the one deadline, and the effects waiting to
//! be polled.

use super::request::{Acceptance, Answer, Denial, LocalRules, Origin, Question, Request, Verdict};
use crate::connection_code::UnixMillis;
use crate::signal::ConsentStep;
use core::time::Duration;
use std::collections::VecDeque;

/// Something that happened to a consent request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Time passes; applies the deadline and nothing else.
    Tick,
    /// The request arrived; the gate decides at once or asks.
    Requested(Request),
    /// The person answered the question.
    Answered(Answer),
    /// The request went away before an answer (a `bye`, a closed socket).
    Withdrawn,
}

impl Event {
    /// The event's name, for logs and refusals.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Tick => "tick",
            Event::Requested(_) => "request",
            Event::Answered(_) => "answer",
            Event::Withdrawn => "withdrawal",
        }
    }
}

/// What the agent does next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Put the question to the person.
    Ask(Question),
    /// Tell the server where the person is with the question.
    Report(ConsentStep),
    /// The question is no longer open (timed out or withdrawn): take it
    /// off the screen; a late answer is refused.
    Withdraw,
    /// The verdict, once: start the session, or refuse it.
    Decided(Verdict),
}

/// Where a gate is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// No request yet.
    Idle,
    /// The person is asked; no answer by `until` denies the session.
    Asking { question: Question, timeout_secs: u32, until: UnixMillis },
    /// Decided, for good.
    Decided(Verdict),
}

impl Phase {
    /// The phase's name, for logs and refusals.
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Asking { .. } => "asking",
            Phase::Decided(_) => "decided",
        }
    }
}

/// Why an event changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// A second request: the gate decides one request once.
    #[error("this request was already put to the gate")]
    AlreadyRequested,
    /// An answer nobody asked for (no request yet, or one decided without
    /// a question).
    #[error("nobody was asked")]
    NotAsked,
    /// A second answer, or one after a withdrawal.
    #[error("the question was already settled")]
    AlreadyDecided,
    /// The answer came after the deadline: nobody answered in time.
    #[error("the answer came after the deadline")]
    TooLate,
    /// An acceptance in a mode the question did not offer (one asking for
    /// more, or one the policy does not allow): the question stays open.
    #[error("{0} mode was not offered")]
    NotOffered(&'static str),
    /// A withdrawal of a request never made.
    #[error("{event} is out of place while the gate is {phase}")]
    OutOfPlace { event: &'static str, phase: &'static str },
}

/// One request's way to a verdict. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentGate {
    rules: LocalRules,
    phase: Phase,
    effects: VecDeque<Effect>,
}

impl ConsentGate {
    /// A gate under this computer's own `rules`, waiting for its request.
    pub fn new(rules: LocalRules) -> Self {
        ConsentGate { rules, phase: Phase::Idle, effects: VecDeque::new() }
    }

    /// Where the gate is.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The verdict, once there is one.
    pub fn verdict(&self) -> Option<Verdict> {
        match self.phase {
            Phase::Decided(verdict) => Some(verdict),
            Phase::Idle | Phase::Asking { .. } => None,
        }
    }

    /// When to send the next [`Event::Tick`], while the person is asked.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        match self.phase {
            Phase::Asking { until, .. } => Some(until),
            Phase::Idle | Phase::Decided(_) => None,
        }
    }

    /// The next effect to carry out, in order.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// Applies `event` at `now`. Every event first applies the deadline,
    /// so an answer a millisecond late finds the question timed out.
    pub fn handle(&mut self, event: Event, now: UnixMillis) -> Result<(), Refusal> {
        if self.next_deadline().is_some_and(|until| now >= until) {
            self.time_out();
        }
        match event {
            Event::Tick => Ok(()),
            Event::Requested(request) => self.requested(request, now),
            Event::Answered(answer) => self.answered(answer),
            Event::Withdrawn => match self.phase {
                Phase::Asking { .. } => {
                    self.effects.push_back(Effect::Withdraw);
                    self.decide(Verdict::Denied(Denial::Withdrawn));
                    Ok(())
                }
                Phase::Decided(_) => Err(Refusal::AlreadyDecided),
                Phase::Idle => Err(Refusal::OutOfPlace { event: event.name(), phase: self.phase.as_str() }),
            },
        }
    }

    fn requested(&mut self, request: Request, now: UnixMillis) -> Result<(), Refusal> {
        if self.phase != Phase::Idle {
            return Err(Refusal::AlreadyRequested);
        }
        let wants_answer = match request.origin {
            Origin::EnrolledLink if self.rules.unattended => {
                self.decide(Verdict::Accepted(Acceptance::Unattended));
                return Ok(());
            }
            Origin::EnrolledLink => true,
            Origin::ConnectionCode => request.policy_asks || self.rules.always_ask,
        };
        if !wants_answer {
            self.decide(Verdict::Accepted(Acceptance::CodeEntered));
        } else if !self.rules.can_ask {
            self.decide(Verdict::Denied(Denial::NobodyToAsk));
        } else {
            self.ask(request, now);
        }
        Ok(())
    }

    fn ask(&mut self, request: Request, now: UnixMillis) {
        let timeout_secs = request.timeout_secs.clamp(1, ConsentStep::MAX_TIMEOUT_SECS);
        let timeout = Duration::from_secs(u64::from(timeout_secs));
        let question = Question {
            session_id: request.session_id,
            technician: request.technician,
            offer: request.offer,
            timeout,
            change_from: None,
            tool: None,
        };
        let until = now.saturating_add(i64::from(timeout_secs) * 1000);
        self.effects.push_back(Effect::Report(ConsentStep::Asking { timeout_secs }));
        self.effects.push_back(Effect::Ask(question.clone()));
        self.phase = Phase::Asking { question, timeout_secs, until };
    }

    fn answered(&mut self, answer: Answer) -> Result<(), Refusal> {
        match &self.phase {
            Phase::Asking { question, .. } => {
                let verdict = match answer {
                    Answer::Accept(mode) if question.offer.allows(mode) => {
                        Verdict::Accepted(Acceptance::ByPerson { mode })
                    }
                    Answer::Accept(mode) => return Err(Refusal::NotOffered(mode.name())),
                    Answer::Reject => Verdict::Denied(Denial::Rejected),
                };
                self.decide(verdict);
                Ok(())
            }
            Phase::Decided(Verdict::Denied(Denial::NoAnswer { .. })) => Err(Refusal::TooLate),
            Phase::Decided(
                Verdict::Accepted(Acceptance::ByPerson { .. }) | Verdict::Denied(Denial::Rejected | Denial::Withdrawn),
            ) => Err(Refusal::AlreadyDecided),
            Phase::Idle
            | Phase::Decided(
                Verdict::Accepted(Acceptance::Unattended | Acceptance::CodeEntered)
                | Verdict::Denied(Denial::NobodyToAsk),
            ) => Err(Refusal::NotAsked),
        }
    }

    /// The deadline passed unanswered: a timeout is a refusal.
    fn time_out(&mut self) {
        if let Phase::Asking { timeout_secs, .. } = self.phase {
            self.effects.push_back(Effect::Withdraw);
            self.decide(Verdict::Denied(Denial::NoAnswer { timeout_secs }));
        }
    }

    /// Decides once: the answer reported (if a question was asked), then
    /// the verdict.
    fn decide(&mut self, verdict: Verdict) {
        if let Some(step) = verdict.answer_step() {
            self.effects.push_back(Effect::Report(step));
        }
        self.effects.push_back(Effect::Decided(verdict));
        self.phase = Phase::Decided(verdict);
    }
}
