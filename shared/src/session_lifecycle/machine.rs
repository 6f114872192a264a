//! [`SessionLifecycle`]: the phase, the controller's presence, the one
//! deadline, and the effects waiting to be polled.

use super::step::{Effect, Event, Party, Refusal, Step};
use crate::chat::Speaker;
use crate::connection_code::UnixMillis;
use crate::mode::{ModeSet, SessionMode};
use crate::signal::{ConsentStep, ModeStep, ServerToController, Signal};
use core::time::Duration;
use std::collections::VecDeque;

/// How long a session waits for its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// A requested session must be answered by its target this long after
    /// it was opened (or after its user accepted); a controller that never
    /// attached by then ends it too.
    pub request_timeout: Duration,
    /// A controller that left without a `bye` may re-attach (a reload)
    /// within this long before the session ends.
    pub reload_grace: Duration,
    /// How long past a prompt's announced timeout the server still waits
    /// for the target to report the answer.
    pub answer_grace: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            request_timeout: Duration::from_secs(60),
            reload_grace: Duration::from_secs(30),
            answer_grace: Duration::from_secs(2),
        }
    }
}

/// How far a session has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Opened; the target has neither answered nor asked its user.
    Requested { until: UnixMillis },
    /// The target's user is asked, for `timeout_secs`; the server waits
    /// `until` (the timeout plus a grace) for the answer.
    Asking { timeout_secs: u32, until: UnixMillis },
    /// The user accepted; the target's answer must follow `until`.
    Accepted { until: UnixMillis },
    /// The target answered the controller: the session is live.
    Active,
    /// Over, for good.
    Ended { reason: String },
}

impl Phase {
    /// The phase's name, for logs and refusals.
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::Requested { .. } => "requested",
            Phase::Asking { .. } => "asking the user",
            Phase::Accepted { .. } => "accepted by the user",
            Phase::Active => "active",
            Phase::Ended { .. } => "ended",
        }
    }

    fn deadline(&self) -> Option<UnixMillis> {
        match self {
            Phase::Requested { until } | Phase::Asking { until, .. } | Phase::Accepted { until } => Some(*until),
            Phase::Active | Phase::Ended { .. } => None,
        }
    }
}

/// The technician's controller, as far as the session is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controller {
    /// No controller has attached yet.
    Never,
    /// Attachment `0` is connected.
    Attached(u64),
    /// Attachment `attachment` left without a `bye`; the session ends
    /// `until` unless a controller attaches again.
    Away { attachment: u64, until: UnixMillis },
}

impl Controller {
    fn current(self) -> Option<u64> {
        match self {
            Controller::Never => None,
            Controller::Attached(attachment) | Controller::Away { attachment, .. } => Some(attachment),
        }
    }
}

/// One session's life. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLifecycle {
    timings: Timings,
    phase: Phase,
    controller: Controller,
    /// The mode the session runs in, once the target said: the one the
    /// person accepted, then each change it reported.
    chosen_mode: Option<SessionMode>,
    /// The mode the session's first grant asks for: the session's mode
    /// once it starts if nobody chose another.
    granted_mode: Option<SessionMode>,
    /// The mode the technician's open request was granted, until the
    /// target says it is in force or refused.
    requested_mode: Option<SessionMode>,
    effects: VecDeque<Effect>,
}

impl SessionLifecycle {
    /// A session opened at `now`.
    pub fn open(timings: Timings, now: UnixMillis) -> Self {
        SessionLifecycle {
            timings,
            phase: Phase::Requested { until: after(now, timings.request_timeout) },
            controller: Controller::Never,
            chosen_mode: None,
            granted_mode: None,
            requested_mode: None,
            effects: VecDeque::new(),
        }
    }

    /// The same session, whose first grant asks for `mode`.
    #[must_use]
    pub fn granting(self, mode: SessionMode) -> Self {
        SessionLifecycle { granted_mode: Some(mode), ..self }
    }

    /// Where the session is.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Whether the session has ended.
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended { .. })
    }

    /// When to send the next [`Event::Tick`], if anything can time out.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        let controller = match self.controller {
            Controller::Away { until, .. } => Some(until),
            Controller::Never | Controller::Attached(_) => None,
        };
        match (self.phase.deadline(), controller) {
            (Some(phase), Some(controller)) => Some(phase.min(controller)),
            (phase, controller) => phase.or(controller),
        }
    }

    /// The next effect to carry out, in order.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// Applies `event` at `now`. Every event first applies the deadline,
    /// so an answer that comes a millisecond late finds the session ended.
    pub fn handle(&mut self, event: Event, now: UnixMillis) -> Result<(), Refusal> {
        if !self.is_ended() && self.next_deadline().is_some_and(|deadline| now >= deadline) {
            self.time_out();
        }
        if self.is_ended() {
            return if event == Event::Tick { Ok(()) } else { Err(Refusal::Ended) };
        }
        match event {
            Event::Tick => Ok(()),
            Event::ControllerAttached { attachment, source } => self.attached(attachment, source),
            Event::ControllerLeft { attachment } => match self.controller {
                Controller::Attached(current) if current == attachment => {
                    let until = after(now, self.timings.reload_grace);
                    self.controller = Controller::Away { attachment, until };
                    Ok(())
                }
                _ => Err(Refusal::StaleAttachment(attachment)),
            },
            Event::ControllerBye { reason } => {
                self.end(reason, Party::Technician, true);
                Ok(())
            }
            Event::UserAsked { timeout_secs } => self.asked(timeout_secs, now),
            Event::UserAccepted { mode } => {
                self.expect_asking(&event)?;
                self.phase = Phase::Accepted { until: after(now, self.timings.request_timeout) };
                self.chosen_mode = mode;
                self.record(Step::UserAccepted { mode });
                self.tell_mode();
                Ok(())
            }
            Event::UserRejected => {
                self.expect_asking(&event)?;
                self.record(Step::UserRejected);
                self.end("the user at the target rejected the session".into(), Party::Target, false);
                Ok(())
            }
            Event::UserNoAnswer => {
                self.expect_asking(&event)?;
                self.record(Step::UserNoAnswer);
                self.end("the user at the target did not answer in time".into(), Party::Target, false);
                Ok(())
            }
            Event::ModeRequested { requested, granted } => {
                self.mode_requested(requested, granted);
                Ok(())
            }
            Event::TargetMode(step) => self.target_mode(step),
            Event::PolicyChanged { allowed, by } => {
                self.policy_changed(allowed, by);
                Ok(())
            }
            Event::Chat { from, text } => {
                if !matches!(self.phase, Phase::Accepted { .. } | Phase::Active) {
                    if from == Speaker::Technician {
                        let message = "Chat opens once the person at the computer has accepted the session.".into();
                        self.effects.push_back(Effect::ToController(ServerToController::Error { message }));
                        return Ok(());
                    }
                    return Err(self.out_of_place(&Event::Chat { from, text }));
                }
                self.record(Step::Chat { from, text: text.clone() });
                self.effects.push_back(Effect::Chat { from, text, at: now });
                Ok(())
            }
            Event::FromTarget(Signal::Bye { reason }) => {
                self.end(format!("the target ended it: {reason}"), Party::Target, false);
                Ok(())
            }
            Event::FromTarget(signal) => self.target_signal(signal),
            Event::TargetGone => {
                self.end("the target disconnected".into(), Party::Target, false);
                Ok(())
            }
            Event::TargetEndedAlone { reason, at } => {
                self.end_at(reason, Party::Target, false, Some(at));
                Ok(())
            }
            Event::Revoked { by, reason } => {
                self.end(reason, by, true);
                Ok(())
            }
            Event::ServerStopping => {
                self.end("the server is shutting down".into(), Party::System, true);
                Ok(())
            }
        }
    }

    fn attached(&mut self, attachment: u64, source: Option<String>) -> Result<(), Refusal> {
        let previous = self.controller.current();
        if previous.is_some_and(|current| attachment <= current) {
            return Err(Refusal::StaleAttachment(attachment));
        }
        self.controller = Controller::Attached(attachment);
        if previous.is_some() {
            self.record(Step::Reattached { source });
        }
        // A controller that attaches while the user is asked learns so,
        // and one that attaches after they chose a mode learns that.
        if let Phase::Asking { timeout_secs, .. } = self.phase {
            self.effects.push_back(Effect::ToController(ServerToController::AwaitingUser { timeout_secs }));
        }
        self.tell_mode();
        Ok(())
    }

    /// The technician asks for `requested`, which the policy gives as
    /// `granted`: recorded, then granted, once the session is live and not
    /// already in that mode; otherwise the technician hears why nothing
    /// happens.
    fn mode_requested(&mut self, requested: SessionMode, granted: SessionMode) {
        let refusal = match self.phase {
            Phase::Active if self.chosen_mode == Some(granted) && requested == granted => {
                Some(format!("The session is already in {} mode.", granted.name()))
            }
            Phase::Active if self.chosen_mode == Some(granted) => Some(format!(
                "The policy gives {} mode instead of {}, and the session is already in it.",
                granted.name(),
                requested.name()
            )),
            Phase::Active => None,
            _ => Some("The mode can change once the session has started.".to_owned()),
        };
        match refusal {
            Some(message) => self.effects.push_back(Effect::ToController(ServerToController::Error { message })),
            None => {
                self.record(Step::ModeRequested { requested, granted });
                self.requested_mode = Some(granted);
                self.effects.push_back(Effect::GrantMode(granted));
            }
        }
    }

    /// The policies changed: nothing allowed ends the session; a mode in
    /// force that is no longer allowed narrows to the next allowed one
    /// that asks for no more (recorded, then granted), or ends the session
    /// when there is none. Before the session is live, its coming grants
    /// follow the new policy by themselves.
    fn policy_changed(&mut self, allowed: ModeSet, by: Party) {
        if allowed.is_empty() {
            self.end("no policy allows this session any more".into(), by, true);
            return;
        }
        let Some(current) = self.chosen_mode.or(self.granted_mode) else { return };
        if !matches!(self.phase, Phase::Active) {
            return;
        }
        if allowed.contains(current) {
            // An open request the policy no longer allows must not be
            // accepted later: a grant for the mode in force replaces it.
            if self.requested_mode.is_some_and(|requested| !allowed.contains(requested)) {
                self.requested_mode = None;
                self.effects.push_back(Effect::GrantMode(current));
            }
            return;
        }
        match crate::mode::select(current, &allowed) {
            Some(narrower) => {
                self.record(Step::PolicyNarrowed { from: current, to: narrower, by });
                self.effects.push_back(Effect::GrantMode(narrower));
            }
            None => {
                let reason = format!("the policy no longer allows {} mode or any that asks for less", current.name());
                self.end(reason, by, true);
            }
        }
    }

    /// The target's step in changing the mode: recorded, then the
    /// technician told (a new mode in force is the session's from now on).
    fn target_mode(&mut self, step: ModeStep) -> Result<(), Refusal> {
        let event = Event::TargetMode(step);
        if !matches!(self.phase, Phase::Accepted { .. } | Phase::Active) {
            return Err(self.out_of_place(&event));
        }
        if let ModeStep::Asking { timeout_secs, .. } = step
            && !(1..=ConsentStep::MAX_TIMEOUT_SECS).contains(&timeout_secs)
        {
            return Err(Refusal::BadTimeout(timeout_secs));
        }
        self.record(Step::Mode(step));
        if let ModeStep::InForce { .. } | ModeStep::Refused { .. } = step {
            self.requested_mode = None;
        }
        self.effects.push_back(Effect::ToController(ServerToController::ModeChange { step }));
        if let ModeStep::InForce { mode, .. } = step {
            self.chosen_mode = Some(mode);
            self.tell_mode();
        }
        Ok(())
    }

    /// The mode the session runs in, once the target said: the one the
    /// person accepted it in, then each change it reported.
    pub fn chosen_mode(&self) -> Option<SessionMode> {
        self.chosen_mode
    }

    /// Tells the controller the session's mode, once known.
    fn tell_mode(&mut self) {
        if let Some(mode) = self.chosen_mode {
            self.effects.push_back(Effect::ToController(ServerToController::ModeChosen { mode }));
        }
    }

    fn asked(&mut self, timeout_secs: u32, now: UnixMillis) -> Result<(), Refusal> {
        if !matches!(self.phase, Phase::Requested { .. }) {
            return Err(self.out_of_place(&Event::UserAsked { timeout_secs }));
        }
        if !(1..=ConsentStep::MAX_TIMEOUT_SECS).contains(&timeout_secs) {
            return Err(Refusal::BadTimeout(timeout_secs));
        }
        let until = after(after(now, Duration::from_secs(u64::from(timeout_secs))), self.timings.answer_grace);
        self.phase = Phase::Asking { timeout_secs, until };
        self.record(Step::UserAsked { timeout_secs });
        self.effects.push_back(Effect::ToController(ServerToController::AwaitingUser { timeout_secs }));
        Ok(())
    }

    fn target_signal(&mut self, signal: Signal) -> Result<(), Refusal> {
        let event_name = Event::FromTarget(signal.clone()).name();
        match (&self.phase, &signal) {
            (Phase::Requested { .. } | Phase::Accepted { .. }, Signal::Answer { .. }) => {
                self.phase = Phase::Active;
                self.record(Step::Started);
                self.effects.push_back(Effect::ToController(ServerToController::Signal { signal }));
                if self.chosen_mode.is_none() && self.granted_mode.is_some() {
                    // Nobody chose: the session runs in the mode granted.
                    self.chosen_mode = self.granted_mode;
                    self.tell_mode();
                }
                return Ok(());
            }
            (Phase::Active, Signal::Answer { .. })
            | (Phase::Requested { .. } | Phase::Accepted { .. } | Phase::Active, Signal::Candidate { .. }) => {}
            _ => return Err(Refusal::OutOfPlace { event: event_name, phase: self.phase.as_str() }),
        }
        self.effects.push_back(Effect::ToController(ServerToController::Signal { signal }));
        Ok(())
    }

    fn expect_asking(&self, event: &Event) -> Result<(), Refusal> {
        match self.phase {
            Phase::Asking { .. } => Ok(()),
            _ => Err(self.out_of_place(event)),
        }
    }

    fn out_of_place(&self, event: &Event) -> Refusal {
        Refusal::OutOfPlace { event: event.name(), phase: self.phase.as_str() }
    }

    /// The earliest deadline has passed: end, for the reason it stands for.
    fn time_out(&mut self) {
        let grace = self.timings.reload_grace;
        let controller_first = match (self.controller, self.phase.deadline()) {
            (Controller::Away { until, .. }, Some(phase)) => until <= phase,
            (Controller::Away { .. }, None) => true,
            _ => false,
        };
        let reason = if controller_first {
            format!("the technician's controller disconnected and did not return within {}", seconds(grace))
        } else {
            let request = seconds(self.timings.request_timeout);
            match (&self.phase, self.controller) {
                (Phase::Requested { .. }, Controller::Never) => {
                    format!("the technician's controller did not connect within {request}")
                }
                (Phase::Asking { timeout_secs, .. }, _) => {
                    format!("the user at the target did not answer within {timeout_secs} s")
                }
                _ => format!("the target did not answer within {request}"),
            }
        };
        self.end(reason, Party::System, true);
    }

    /// Ends the session once: recorded, the target told unless it is the
    /// one that ended it, the controller told, the route closed.
    fn end(&mut self, reason: String, by: Party, tell_target: bool) {
        self.end_at(reason, by, tell_target, None);
    }

    /// [`Self::end`], for an end that really happened at `at`.
    fn end_at(&mut self, reason: String, by: Party, tell_target: bool, at: Option<UnixMillis>) {
        self.record(Step::Ended { reason: reason.clone(), by, at });
        if tell_target {
            self.effects.push_back(Effect::ToTarget(Signal::Bye { reason: reason.clone() }));
        }
        self.effects.push_back(Effect::ToController(ServerToController::Ended { reason: reason.clone() }));
        self.effects.push_back(Effect::Close);
        self.phase = Phase::Ended { reason };
    }

    fn record(&mut self, step: Step) {
        self.effects.push_back(Effect::Record(step));
    }
}

/// `now + duration`, saturating.
fn after(now: UnixMillis, duration: Duration) -> UnixMillis {
    now.saturating_add(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
}

/// "30 s", "0.2 s".
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}
