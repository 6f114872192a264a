//! The agent's consent gate, driven by hand: every moment is a number the
//! test chooses and every effect is read back in order. One behaviour per
//! test; `who_decides` is the table of how each kind of request is decided.

use std::time::Duration;
use tether_shared::consent::{
    Acceptance, Answer, ConsentGate, Denial, Effect, Event, LocalRules, Offer, Origin, Phase, Question, Refusal,
    Request, Verdict,
};
use tether_shared::mode::{ModeSet, SessionMode};
use tether_shared::signal::ConsentStep;

const T0: i64 = 1_700_000_000_000;
const SECOND: i64 = 1000;

/// Active asked for; the policy also allows Monitor, which the person may
/// pick instead.
fn offer() -> Offer {
    Offer {
        mode: SessionMode::Active,
        access: SessionMode::Active.access(),
        choices: ModeSet::of(&[SessionMode::Monitor]),
    }
}

fn request(origin: Origin, policy_asks: bool) -> Request {
    Request {
        session_id: "s1".into(),
        technician: "Tess Tech".into(),
        offer: offer(),
        origin,
        policy_asks,
        timeout_secs: 30,
    }
}

const ASKABLE: LocalRules = LocalRules { unattended: false, always_ask: false, can_ask: true };

fn effects(gate: &mut ConsentGate) -> Vec<Effect> {
    std::iter::from_fn(|| gate.poll_effect()).collect()
}

/// A gate that has asked about a code session whose policy wants an answer.
fn asking() -> ConsentGate {
    let mut gate = ConsentGate::new(ASKABLE);
    gate.handle(Event::Requested(request(Origin::ConnectionCode, true)), T0).expect("request");
    effects(&mut gate);
    gate
}

fn question() -> Question {
    Question {
        session_id: "s1".into(),
        technician: "Tess Tech".into(),
        offer: offer(),
        timeout: Duration::from_secs(30),
        change_from: None,
        tool: None,
    }
}

#[test]
fn who_decides() {
    let unattended = LocalRules { unattended: true, ..ASKABLE };
    let always_ask = LocalRules { always_ask: true, ..ASKABLE };
    let mute = LocalRules { can_ask: false, ..ASKABLE };
    let asks = || None;
    let decided = |verdict| Some(verdict);
    let table = [
        // (rules, origin, policy asks) → the verdict at once, or None when the person is asked
        (unattended, Origin::EnrolledLink, false, decided(Verdict::Accepted(Acceptance::Unattended))),
        (unattended, Origin::EnrolledLink, true, decided(Verdict::Accepted(Acceptance::Unattended))),
        (ASKABLE, Origin::EnrolledLink, false, asks()),
        (mute, Origin::EnrolledLink, false, decided(Verdict::Denied(Denial::NobodyToAsk))),
        (ASKABLE, Origin::ConnectionCode, false, decided(Verdict::Accepted(Acceptance::CodeEntered))),
        (ASKABLE, Origin::ConnectionCode, true, asks()),
        (always_ask, Origin::ConnectionCode, false, asks()),
        (unattended, Origin::ConnectionCode, true, asks()),
        (mute, Origin::ConnectionCode, true, decided(Verdict::Denied(Denial::NobodyToAsk))),
        (mute, Origin::ConnectionCode, false, decided(Verdict::Accepted(Acceptance::CodeEntered))),
    ];
    for (rules, origin, policy_asks, expected) in table {
        let mut gate = ConsentGate::new(rules);
        gate.handle(Event::Requested(request(origin, policy_asks)), T0).expect("request");
        let case = format!("{rules:?} {origin:?} policy asks: {policy_asks}");
        match expected {
            Some(verdict) => {
                assert_eq!(effects(&mut gate), vec![Effect::Decided(verdict)], "{case}");
                assert_eq!(gate.next_deadline(), None, "{case}");
            }
            None => {
                assert!(matches!(gate.phase(), Phase::Asking { .. }), "{case}");
                assert!(effects(&mut gate).iter().any(|effect| matches!(effect, Effect::Ask(_))), "{case}");
            }
        }
    }
}

#[test]
fn asking_tells_the_server_then_puts_the_question_with_its_deadline() {
    let mut gate = ConsentGate::new(ASKABLE);
    gate.handle(Event::Requested(request(Origin::ConnectionCode, true)), T0).expect("request");
    assert_eq!(
        effects(&mut gate),
        vec![Effect::Report(ConsentStep::Asking { timeout_secs: 30 }), Effect::Ask(question())]
    );
    assert_eq!(gate.next_deadline(), Some(T0 + 30 * SECOND));
    assert_eq!(gate.verdict(), None);
}

#[test]
fn a_yes_accepts_and_is_reported() {
    let mut gate = asking();
    gate.handle(Event::Answered(Answer::Accept(SessionMode::Active)), T0 + 5 * SECOND).expect("answer");
    let accepted = Verdict::Accepted(Acceptance::ByPerson { mode: SessionMode::Active });
    let reported = ConsentStep::Accepted { mode: Some(SessionMode::Active) };
    assert_eq!(effects(&mut gate), vec![Effect::Report(reported), Effect::Decided(accepted)]);
    assert_eq!(gate.verdict(), Some(accepted));
    assert_eq!(gate.next_deadline(), None);
}

#[test]
fn the_person_may_accept_in_a_narrower_mode_offered() {
    let mut gate = asking();
    gate.handle(Event::Answered(Answer::Accept(SessionMode::Monitor)), T0 + 5 * SECOND).expect("answer");
    let accepted = Verdict::Accepted(Acceptance::ByPerson { mode: SessionMode::Monitor });
    let reported = ConsentStep::Accepted { mode: Some(SessionMode::Monitor) };
    assert_eq!(effects(&mut gate), vec![Effect::Report(reported), Effect::Decided(accepted)]);
    assert_eq!(accepted.reason(), "You accepted the session in Monitor mode.");
}

#[test]
fn accepting_in_a_mode_not_offered_is_refused_and_the_question_stays_open() {
    let mut gate = asking();
    for not_offered in [SessionMode::Guidance, SessionMode::Chat, SessionMode::FileTransfer] {
        let refused = gate.handle(Event::Answered(Answer::Accept(not_offered)), T0 + SECOND);
        assert_eq!(refused, Err(Refusal::NotOffered(not_offered.name())));
    }
    assert!(effects(&mut gate).is_empty());
    assert_eq!(gate.verdict(), None);
    assert_eq!(gate.next_deadline(), Some(T0 + 30 * SECOND));
    gate.handle(Event::Answered(Answer::Reject), T0 + 2 * SECOND).expect("still open");
}

#[test]
fn a_no_denies_and_is_reported() {
    let mut gate = asking();
    gate.handle(Event::Answered(Answer::Reject), T0 + 5 * SECOND).expect("answer");
    let rejected = Verdict::Denied(Denial::Rejected);
    assert_eq!(effects(&mut gate), vec![Effect::Report(ConsentStep::Rejected), Effect::Decided(rejected)]);
    assert_eq!(rejected.reason(), "You rejected the session.");
}

#[test]
fn no_answer_by_the_deadline_is_a_refusal() {
    let mut gate = asking();
    gate.handle(Event::Tick, T0 + 30 * SECOND - 1).expect("tick");
    assert!(effects(&mut gate).is_empty(), "not yet");
    gate.handle(Event::Tick, T0 + 30 * SECOND).expect("tick");
    let timed_out = Verdict::Denied(Denial::NoAnswer { timeout_secs: 30 });
    assert_eq!(
        effects(&mut gate),
        vec![Effect::Withdraw, Effect::Report(ConsentStep::NoAnswer), Effect::Decided(timed_out)]
    );
    assert_eq!(timed_out.reason(), "Nobody accepted the session within 30 seconds.");
}

#[test]
fn an_answer_a_millisecond_late_is_refused_even_without_a_tick() {
    let mut gate = asking();
    let late = gate.handle(Event::Answered(Answer::Accept(SessionMode::Active)), T0 + 30 * SECOND);
    assert_eq!(late, Err(Refusal::TooLate));
    let effects = effects(&mut gate);
    assert_eq!(effects.last(), Some(&Effect::Decided(Verdict::Denied(Denial::NoAnswer { timeout_secs: 30 }))));
    assert!(
        !effects.iter().any(|effect| matches!(effect, Effect::Report(ConsentStep::Accepted { .. }))),
        "{effects:?}"
    );
}

#[test]
fn a_second_answer_is_refused_and_changes_nothing() {
    let mut gate = asking();
    gate.handle(Event::Answered(Answer::Reject), T0 + SECOND).expect("answer");
    effects(&mut gate);
    assert_eq!(
        gate.handle(Event::Answered(Answer::Accept(SessionMode::Active)), T0 + 2 * SECOND),
        Err(Refusal::AlreadyDecided)
    );
    assert!(effects(&mut gate).is_empty());
    assert_eq!(gate.verdict(), Some(Verdict::Denied(Denial::Rejected)));
}

#[test]
fn a_second_request_after_an_answer_is_not_asked_again() {
    let mut gate = asking();
    gate.handle(Event::Answered(Answer::Accept(SessionMode::Active)), T0 + SECOND).expect("answer");
    effects(&mut gate);
    let again = gate.handle(Event::Requested(request(Origin::ConnectionCode, true)), T0 + 2 * SECOND);
    assert_eq!(again, Err(Refusal::AlreadyRequested));
    assert!(effects(&mut gate).is_empty(), "no second question");
}

#[test]
fn a_second_request_while_asking_is_refused() {
    let mut gate = asking();
    let again = gate.handle(Event::Requested(request(Origin::ConnectionCode, true)), T0 + SECOND);
    assert_eq!(again, Err(Refusal::AlreadyRequested));
    assert!(effects(&mut gate).is_empty());
    assert_eq!(gate.next_deadline(), Some(T0 + 30 * SECOND), "the first question's deadline stands");
}

#[test]
fn a_withdrawn_question_denies_without_a_report() {
    let mut gate = asking();
    gate.handle(Event::Withdrawn, T0 + SECOND).expect("withdraw");
    assert_eq!(effects(&mut gate), vec![Effect::Withdraw, Effect::Decided(Verdict::Denied(Denial::Withdrawn))]);
    assert_eq!(
        gate.handle(Event::Answered(Answer::Accept(SessionMode::Active)), T0 + 2 * SECOND),
        Err(Refusal::AlreadyDecided)
    );
}

#[test]
fn an_answer_nobody_asked_for_is_refused() {
    let mut idle = ConsentGate::new(ASKABLE);
    assert_eq!(idle.handle(Event::Answered(Answer::Accept(SessionMode::Active)), T0), Err(Refusal::NotAsked));
    let mut unattended = ConsentGate::new(LocalRules { unattended: true, ..ASKABLE });
    unattended.handle(Event::Requested(request(Origin::EnrolledLink, false)), T0).expect("request");
    effects(&mut unattended);
    assert_eq!(unattended.handle(Event::Answered(Answer::Reject), T0), Err(Refusal::NotAsked));
    assert_eq!(unattended.verdict(), Some(Verdict::Accepted(Acceptance::Unattended)));
}

#[test]
fn the_timeout_is_kept_between_one_second_and_the_protocol_maximum() {
    for (asked, kept) in [(0, 1), (1, 1), (600, 600), (601, 600), (u32::MAX, 600)] {
        let mut gate = ConsentGate::new(ASKABLE);
        let request = tether_shared::consent::Request { timeout_secs: asked, ..request(Origin::ConnectionCode, true) };
        gate.handle(Event::Requested(request), T0).expect("request");
        assert_eq!(effects(&mut gate)[0], Effect::Report(ConsentStep::Asking { timeout_secs: kept }), "{asked}");
        assert_eq!(gate.next_deadline(), Some(T0 + i64::from(kept) * SECOND), "{asked}");
    }
}
