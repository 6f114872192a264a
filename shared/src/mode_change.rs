//! A running session's mode on the agent, and every change to it, as one
//! pure state machine per session (seed: the technician can ask to change
//! mode during the session; the person is asked again where the policy
//! says so; the person stays in control). Every verified grant the server
//! sends for the session goes through it, and so does the person's own
//! narrowing from their page; what the session may do is always the
//! latest grant held to the mode in force ([`Effect::Apply`]).
//!
//! ```text
//! a grant binding an offer's controller ──▶ held to the mode in force (narrows it, never widens it)
//! the technician's request (a grant marked requested):
//!   asking for no more than the mode in force ──▶ in force at once (a narrowing)
//!   wider ──▶ unattended session, or nothing to ask ──▶ in force
//!         └─▶ the person asked ──accept (this or a narrower pick)──▶ in force
//!                              ├──reject / deadline ──▶ refused, mode unchanged
//!                              └──another request, another controller, a narrowing ──▶ question dropped
//! the person narrows ──▶ in force at once; later widenings are always asked
//! ```
//!
//! A mode is *within* another when it comes after it in precedence (or is
//! it) and uses no access it lacks ([`SessionMode::is_within`]): Active →
//! Monitor narrows; Monitor → Guidance (the technician draws) and Monitor
//! → File transfer (files) widen.
//!
//! Who is asked: nobody in a session started unattended (nobody was asked
//! to start it either; the policy and this computer both allowed that);
//! otherwise the person, when they had limited the session themselves,
//! when this computer always asks, when the policy wants acceptance, or
//! when the widening adds a kind of access the policy wants assent for
//! each time ([`Grant::assent_each_time`]). A widening that needs an
//! answer and has nobody to ask is refused.

use std::collections::VecDeque;

use crate::connection_code::UnixMillis;
use crate::consent::{Answer, Offer, Question};
use crate::grant::Grant;
use crate::mode::{ModeSet, SessionMode, choices_for_person};
use crate::signal::{ConsentStep, ModeChangedBy, ModeRefusal, ModeStep};
use core::time::Duration;

/// How the mode in force came about, which decides who must agree to a
/// wider one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Nobody was asked: the policy and this computer allow unattended
    /// access.
    Unattended,
    /// The person accepted what was asked (or typed the code and nobody
    /// wanted them asked).
    AsAsked,
    /// The person picked less than was asked, or took access away: any
    /// widening is asked.
    Limited,
}

/// What this computer allows beside the grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AskRules {
    /// This computer asks the person before every widening (`always_ask`).
    pub always: bool,
    /// Someone can be asked (the page, the terminal).
    pub possible: bool,
}

/// Something that happened to the session's mode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Time passes; applies the deadline and nothing else.
    Tick,
    /// A grant the link verified for this session, which binds the
    /// controller of the offer that follows: held to the mode in force (it
    /// may narrow it, never widen it).
    Bound(Grant),
    /// A grant the link verified for the technician's request to change
    /// mode: a narrowing applies at once, a widening may be put to the
    /// person.
    Requested(Grant),
    /// The person answered the open question.
    Answered(Answer),
    /// The person took access away from their page: the session goes on
    /// in `mode`.
    PersonNarrowed(SessionMode),
}

/// What the agent does next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Hand the session this grant (already held to the mode in force).
    Apply(Grant),
    /// Put the question to the person.
    Ask(Question),
    /// The question is no longer open: take it off the screen.
    Withdraw,
    /// Tell the server (it audits, and tells the technician).
    Report(ModeStep),
}

/// Why an event changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// An answer while no question is open (or after its deadline).
    #[error("no change of mode is waiting for an answer")]
    NotAsked,
    /// An acceptance in a mode the question did not offer: it stays open.
    #[error("{0} mode was not offered")]
    NotOffered(&'static str),
    /// A narrowing that asks for more than the mode in force, or nothing
    /// less.
    #[error("{0} mode does not narrow the session")]
    NotNarrower(&'static str),
    /// A grant for another session or technician (the link checks; this
    /// is the machine's own guard).
    #[error("the grant is for another session or technician")]
    ForeignGrant,
}

/// An open question about a wider mode, and the grant that asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    question: Question,
    grant: Grant,
    until: UnixMillis,
}

/// One running session's mode. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeKeeper {
    in_force: SessionMode,
    basis: Basis,
    asking: AskRules,
    /// The grant the mode in force stands on (its mode is `in_force` or
    /// wider); `None` until the first one arrives.
    granted: Option<Grant>,
    pending: Option<Pending>,
    effects: VecDeque<Effect>,
}

impl ModeKeeper {
    /// A session that starts in `mode`, agreed on `basis`, under `granted`
    /// if its request came with a grant (held to `mode`; never asked about
    /// again).
    pub fn start(mode: SessionMode, basis: Basis, asking: AskRules, granted: Option<Grant>) -> Self {
        ModeKeeper { in_force: mode, basis, asking, granted, pending: None, effects: VecDeque::new() }
    }

    /// The mode the session runs in.
    pub fn in_force(&self) -> SessionMode {
        self.in_force
    }

    /// How the mode in force came about.
    pub fn basis(&self) -> Basis {
        self.basis
    }

    /// The mode the open question asks about, if one is open.
    pub fn asking_for(&self) -> Option<SessionMode> {
        self.pending.as_ref().map(|pending| pending.grant.mode)
    }

    /// When to send the next [`Event::Tick`], while the person is asked.
    pub fn next_deadline(&self) -> Option<UnixMillis> {
        self.pending.as_ref().map(|pending| pending.until)
    }

    /// The grant in force held to the mode in force: what the session may
    /// do.
    pub fn effective(&self) -> Option<Grant> {
        self.granted.as_ref().map(|granted| held_to(granted, self.in_force))
    }

    /// The next effect to carry out, in order.
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// Applies `event` at `now`. Every event first applies the deadline,
    /// so an answer a millisecond late finds the question timed out.
    pub fn handle(&mut self, event: Event, now: UnixMillis) -> Result<(), Refusal> {
        if self.next_deadline().is_some_and(|until| now >= until) {
            self.close_question(ModeRefusal::NoAnswer);
        }
        match event {
            Event::Tick => Ok(()),
            Event::Bound(grant) => self.bound(grant),
            Event::Requested(grant) => self.requested(grant, now),
            Event::Answered(answer) => self.answered(answer),
            Event::PersonNarrowed(mode) => self.person_narrowed(mode),
        }
    }

    /// Refuses a grant for another session or technician than the ones
    /// known.
    fn same_session(&self, grant: &Grant) -> Result<(), Refusal> {
        let known = self.granted.as_ref().or(self.pending.as_ref().map(|pending| &pending.grant));
        match known {
            Some(known) if known.session_id != grant.session_id || known.technician_id != grant.technician_id => {
                Err(Refusal::ForeignGrant)
            }
            _ => Ok(()),
        }
    }

    fn bound(&mut self, grant: Grant) -> Result<(), Refusal> {
        self.same_session(&grant)?;
        // Another controller (a reloaded page) drops the open question.
        if self
            .pending
            .as_ref()
            .is_some_and(|pending| pending.grant.controller_fingerprint != grant.controller_fingerprint)
        {
            self.close_question(ModeRefusal::Superseded);
        }
        if grant.mode.is_within(self.in_force) {
            self.change_to(grant.mode, ModeChangedBy::Technician);
        }
        self.granted = Some(grant);
        self.apply();
        Ok(())
    }

    fn requested(&mut self, grant: Grant, now: UnixMillis) -> Result<(), Refusal> {
        self.same_session(&grant)?;
        let asked = grant.mode;
        match &mut self.pending {
            // The same question, a fresh grant (asked again, or a reloaded page).
            Some(pending) if pending.grant.mode == asked => {
                pending.grant = grant;
                return Ok(());
            }
            // Another mode makes the open question moot.
            Some(_) => self.close_question(ModeRefusal::Superseded),
            None => {}
        }
        if asked.is_within(self.in_force) || !self.must_ask(&grant) {
            self.granted = Some(grant);
            self.change_to(asked, ModeChangedBy::Technician);
            self.apply();
        } else if !self.asking.possible {
            self.report(ModeStep::Refused { mode: asked, reason: ModeRefusal::NobodyToAsk });
        } else {
            self.ask(grant, now);
        }
        Ok(())
    }

    /// Whether widening to `grant` needs the person's yes.
    fn must_ask(&self, grant: &Grant) -> bool {
        let added = grant.access.difference(self.in_force.access());
        match self.basis {
            Basis::Unattended => false,
            Basis::Limited => true,
            // A widening that adds no kind of access (a mode higher in
            // precedence with nothing new) is asked too.
            Basis::AsAsked => {
                self.asking.always
                    || grant.user_acceptance
                    || added.is_empty()
                    || !added.intersection(grant.assent_each_time).is_empty()
            }
        }
    }

    fn ask(&mut self, grant: Grant, now: UnixMillis) {
        let timeout_secs = grant.acceptance_timeout_secs.clamp(1, ConsentStep::MAX_TIMEOUT_SECS);
        let choices: ModeSet = choices_for_person(grant.mode, &grant.allowed_modes)
            .iter()
            .filter(|mode| !mode.is_within(self.in_force))
            .collect();
        let question = Question {
            session_id: grant.session_id.clone(),
            technician: grant.technician_name.clone(),
            offer: Offer { mode: grant.mode, access: grant.access, choices },
            timeout: Duration::from_secs(u64::from(timeout_secs)),
            change_from: Some(self.in_force),
            tool: None,
        };
        let until = now.saturating_add(i64::from(timeout_secs) * 1000);
        self.report(ModeStep::Asking { mode: grant.mode, timeout_secs });
        self.effects.push_back(Effect::Ask(question.clone()));
        self.pending = Some(Pending { question, grant, until });
    }

    fn answered(&mut self, answer: Answer) -> Result<(), Refusal> {
        let Some(pending) = &self.pending else {
            return Err(Refusal::NotAsked);
        };
        let asked = pending.grant.mode;
        match answer {
            Answer::Accept(mode) if pending.question.offer.allows(mode) => {
                let Some(pending) = self.pending.take() else {
                    return Err(Refusal::NotAsked);
                };
                self.granted = Some(pending.grant);
                self.basis = if mode == asked { Basis::AsAsked } else { Basis::Limited };
                self.change_to(mode, ModeChangedBy::Person);
                self.apply();
            }
            Answer::Accept(mode) => return Err(Refusal::NotOffered(mode.name())),
            Answer::Reject => {
                self.pending = None;
                self.report(ModeStep::Refused { mode: asked, reason: ModeRefusal::Rejected });
            }
        }
        Ok(())
    }

    fn person_narrowed(&mut self, mode: SessionMode) -> Result<(), Refusal> {
        if !mode.is_narrower_than(self.in_force) {
            return Err(Refusal::NotNarrower(mode.name()));
        }
        self.close_question(ModeRefusal::Rejected);
        self.basis = Basis::Limited;
        self.change_to(mode, ModeChangedBy::Person);
        self.apply();
        Ok(())
    }

    /// The open question, if any, ends unanswered for `reason`: off the
    /// screen, reported, the mode unchanged.
    fn close_question(&mut self, reason: ModeRefusal) {
        if let Some(pending) = self.pending.take() {
            self.effects.push_back(Effect::Withdraw);
            self.report(ModeStep::Refused { mode: pending.grant.mode, reason });
        }
    }

    /// The session now runs in `mode` (reported when it changed).
    fn change_to(&mut self, mode: SessionMode, by: ModeChangedBy) {
        if mode != self.in_force {
            self.in_force = mode;
            self.report(ModeStep::InForce { mode, by });
        }
    }

    fn apply(&mut self) {
        if let Some(grant) = self.effective() {
            self.effects.push_back(Effect::Apply(grant));
        }
    }

    fn report(&mut self, step: ModeStep) {
        self.effects.push_back(Effect::Report(step));
    }
}

/// `grant` held to `mode`: that mode, and only the access both allow.
fn held_to(grant: &Grant, mode: SessionMode) -> Grant {
    Grant { mode, access: grant.access.intersection(mode.access()), ..grant.clone() }
}
