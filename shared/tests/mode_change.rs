//! The mode keeper's table: narrowings at once, widenings asked where the
//! policy, the person's own limit or this computer says so, answers,
//! deadlines, superseded questions and the person taking access away.

#![allow(clippy::unwrap_used)]

use tether_shared::access::{Access, AccessSet};
use tether_shared::consent::Answer;
use tether_shared::grant::Grant;
use tether_shared::mode::{ModeSet, SessionMode};
use tether_shared::mode_change::{AskRules, Basis, Effect, Event, ModeKeeper, Refusal};
use tether_shared::signal::{ModeChangedBy, ModeRefusal, ModeStep};

use SessionMode::{Active, FileTransfer, Guidance, Monitor};

const NOW: i64 = 1_000_000;

/// A grant for `mode` under a policy that allows every mode and asks for
/// acceptance unless `relaxed` (then no acceptance and no per-access assent).
fn grant(mode: SessionMode, relaxed: bool) -> Grant {
    Grant {
        session_id: "s1".into(),
        technician_id: "t1".into(),
        technician_name: "Tess Tech".into(),
        target: "a1".into(),
        mode,
        access: mode.access(),
        controller_fingerprint: Some("sha-256 ab".into()),
        unattended: false,
        allowed_modes: ModeSet::all(),
        user_acceptance: !relaxed,
        assent_each_time: if relaxed { AccessSet::empty() } else { AccessSet::all() },
        acceptance_timeout_secs: 30,
        max_file_mib: Some(10_240),
        issued_at: NOW,
        expires_at: NOW + 300_000,
        key_id: "k".into(),
    }
}

fn keeper(mode: SessionMode, basis: Basis) -> ModeKeeper {
    ModeKeeper::start(mode, basis, AskRules { always: false, possible: true }, Some(grant(Active, false)))
}

fn effects(keeper: &mut ModeKeeper) -> Vec<Effect> {
    std::iter::from_fn(|| keeper.poll_effect()).collect()
}

fn reports(effects: &[Effect]) -> Vec<ModeStep> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Report(step) => Some(*step),
            _ => None,
        })
        .collect()
}

fn applied(effects: &[Effect]) -> Option<(SessionMode, AccessSet)> {
    effects.iter().rev().find_map(|effect| match effect {
        Effect::Apply(grant) => Some((grant.mode, grant.access)),
        _ => None,
    })
}

fn asked(effects: &[Effect]) -> bool {
    effects.iter().any(|effect| matches!(effect, Effect::Ask(_)))
}

#[test]
fn a_narrowing_takes_effect_at_once_without_asking() {
    let mut keeper = keeper(Active, Basis::AsAsked);
    keeper.handle(Event::Requested(grant(Monitor, false)), NOW).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(reports(&done), vec![ModeStep::InForce { mode: Monitor, by: ModeChangedBy::Technician }]);
    assert_eq!(applied(&done), Some((Monitor, Monitor.access())));
    assert!(!asked(&done));
    // The same mode again (a reloaded page's grant) changes nothing but the grant.
    keeper.handle(Event::Requested(grant(Monitor, false)), NOW).unwrap();
    let again = effects(&mut keeper);
    assert_eq!(reports(&again), vec![]);
    assert_eq!(applied(&again), Some((Monitor, Monitor.access())));
}

#[test]
fn a_widening_is_asked_and_the_session_stays_as_it_was_until_yes() {
    let mut keeper = keeper(Monitor, Basis::AsAsked);
    keeper.handle(Event::Requested(grant(Active, false)), NOW).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(reports(&done), vec![ModeStep::Asking { mode: Active, timeout_secs: 30 }]);
    assert_eq!(applied(&done), None, "nothing wider before the answer");
    let question = done
        .iter()
        .find_map(|effect| match effect {
            Effect::Ask(question) => Some(question.clone()),
            _ => None,
        })
        .expect("a question");
    assert_eq!(question.change_from, Some(Monitor));
    assert_eq!(question.technician, "Tess Tech");
    // Only picks that widen something are offered: Guidance and File transfer, not Monitor or Chat.
    assert_eq!(question.offer.choices, ModeSet::of(&[Guidance, FileTransfer]));
    assert_eq!(keeper.effective().map(|grant| grant.mode), Some(Monitor));
    assert_eq!(keeper.next_deadline(), Some(NOW + 30_000));

    assert_eq!(keeper.handle(Event::Answered(Answer::Accept(Monitor)), NOW + 1), Err(Refusal::NotOffered("Monitor")));
    keeper.handle(Event::Answered(Answer::Accept(Active)), NOW + 2).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(reports(&done), vec![ModeStep::InForce { mode: Active, by: ModeChangedBy::Person }]);
    assert_eq!(applied(&done), Some((Active, AccessSet::all())));
    assert_eq!((keeper.in_force(), keeper.basis(), keeper.next_deadline()), (Active, Basis::AsAsked, None));
    assert_eq!(keeper.handle(Event::Answered(Answer::Reject), NOW + 3), Err(Refusal::NotAsked));
}

#[test]
fn a_narrower_pick_limits_the_session_and_later_widenings_are_always_asked() {
    let mut keeper = keeper(Monitor, Basis::AsAsked);
    keeper.handle(Event::Requested(grant(Active, false)), NOW).unwrap();
    effects(&mut keeper);
    keeper.handle(Event::Answered(Answer::Accept(Guidance)), NOW).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(reports(&done), vec![ModeStep::InForce { mode: Guidance, by: ModeChangedBy::Person }]);
    assert_eq!(applied(&done), Some((Guidance, Guidance.access())));
    assert_eq!(keeper.basis(), Basis::Limited);
    // Even a policy that asks for nothing cannot widen past the person's pick unasked.
    keeper.handle(Event::Requested(grant(Active, true)), NOW).unwrap();
    assert!(asked(&effects(&mut keeper)));
}

#[test]
fn a_no_or_silence_leaves_the_mode_and_the_question_goes_away_at_its_deadline() {
    let mut keeper = keeper(Monitor, Basis::AsAsked);
    keeper.handle(Event::Requested(grant(Active, false)), NOW).unwrap();
    effects(&mut keeper);
    keeper.handle(Event::Answered(Answer::Reject), NOW + 5).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(reports(&done), vec![ModeStep::Refused { mode: Active, reason: ModeRefusal::Rejected }]);
    assert_eq!((keeper.in_force(), applied(&done)), (Monitor, None));

    keeper.handle(Event::Requested(grant(Active, false)), NOW + 10).unwrap();
    effects(&mut keeper);
    keeper.handle(Event::Tick, NOW + 10 + 30_000).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(done[0], Effect::Withdraw);
    assert_eq!(reports(&done), vec![ModeStep::Refused { mode: Active, reason: ModeRefusal::NoAnswer }]);
    assert_eq!(keeper.handle(Event::Answered(Answer::Accept(Active)), NOW + 40_001), Err(Refusal::NotAsked));
    assert_eq!(keeper.in_force(), Monitor);
}

#[test]
fn who_is_asked_follows_the_basis_the_policy_and_this_computer() {
    let widen = |mode: SessionMode, basis: Basis, rules: AskRules, grant: Grant| {
        let mut keeper = ModeKeeper::start(mode, basis, rules, None);
        keeper.handle(Event::Requested(grant), NOW).unwrap();
        let done = effects(&mut keeper);
        (asked(&done), keeper.in_force())
    };
    let can = AskRules { always: false, possible: true };
    // Unattended: nobody was asked to start it, nobody is asked to widen it.
    assert_eq!(widen(Monitor, Basis::Unattended, can, grant(Active, false)), (false, Active));
    // Accepted as asked: the policy decides.
    assert_eq!(widen(Monitor, Basis::AsAsked, can, grant(Active, false)), (true, Monitor));
    assert_eq!(widen(Monitor, Basis::AsAsked, can, grant(Active, true)), (false, Active));
    let files_need_assent = Grant { assent_each_time: AccessSet::of(&[Access::FileTransfer]), ..grant(Active, true) };
    assert_eq!(widen(Monitor, Basis::AsAsked, can, files_need_assent.clone()), (true, Monitor));
    let control_only = Grant { assent_each_time: AccessSet::of(&[Access::Control]), ..grant(FileTransfer, true) };
    assert_eq!(widen(Monitor, Basis::AsAsked, can, control_only), (false, FileTransfer));
    // Guidance adds drawing on the screen: asked where the policy wants assent for it.
    assert_eq!(widen(Monitor, Basis::AsAsked, can, grant(Guidance, true)), (false, Guidance));
    let drawing_needs_assent = Grant { assent_each_time: AccessSet::of(&[Access::Draw]), ..grant(Guidance, true) };
    assert_eq!(widen(Monitor, Basis::AsAsked, can, drawing_needs_assent), (true, Monitor));
    // This computer's "always ask" wins over a policy that does not ask.
    let always = AskRules { always: true, possible: true };
    assert_eq!(widen(Monitor, Basis::AsAsked, always, grant(Active, true)), (true, Monitor));
}

#[test]
fn a_widening_nobody_can_answer_is_refused_and_changes_nothing() {
    let mut keeper = ModeKeeper::start(Monitor, Basis::AsAsked, AskRules { always: false, possible: false }, None);
    keeper.handle(Event::Requested(grant(Active, false)), NOW).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(reports(&done), vec![ModeStep::Refused { mode: Active, reason: ModeRefusal::NobodyToAsk }]);
    assert_eq!((keeper.in_force(), applied(&done), keeper.effective()), (Monitor, None, None));
}

#[test]
fn the_person_takes_access_away_at_once_and_a_question_open_meanwhile_is_dropped() {
    let mut keeper = keeper(Active, Basis::AsAsked);
    assert_eq!(keeper.handle(Event::PersonNarrowed(Active), NOW), Err(Refusal::NotNarrower("Active")));
    keeper.handle(Event::PersonNarrowed(Monitor), NOW).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(reports(&done), vec![ModeStep::InForce { mode: Monitor, by: ModeChangedBy::Person }]);
    assert_eq!(applied(&done), Some((Monitor, Monitor.access())));
    assert_eq!(keeper.basis(), Basis::Limited);
    assert_eq!(keeper.handle(Event::PersonNarrowed(Guidance), NOW), Err(Refusal::NotNarrower("Guidance")));

    keeper.handle(Event::Requested(grant(Active, false)), NOW).unwrap();
    effects(&mut keeper);
    keeper.handle(Event::PersonNarrowed(SessionMode::Chat), NOW).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(done[0], Effect::Withdraw);
    assert_eq!(
        reports(&done),
        vec![
            ModeStep::Refused { mode: Active, reason: ModeRefusal::Rejected },
            ModeStep::InForce { mode: SessionMode::Chat, by: ModeChangedBy::Person },
        ]
    );
    assert_eq!(applied(&done), Some((SessionMode::Chat, SessionMode::Chat.access())));
}

#[test]
fn a_grant_for_the_same_mode_keeps_the_question_and_another_mode_replaces_it() {
    let mut keeper = keeper(Monitor, Basis::AsAsked);
    keeper.handle(Event::Requested(grant(Active, false)), NOW).unwrap();
    effects(&mut keeper);
    let rebound = Grant { controller_fingerprint: Some("sha-256 cd".into()), ..grant(Active, false) };
    keeper.handle(Event::Requested(rebound), NOW + 1).unwrap();
    assert_eq!(effects(&mut keeper), vec![], "still asking");
    keeper.handle(Event::Answered(Answer::Accept(Active)), NOW + 2).unwrap();
    let bound = keeper.effective().and_then(|grant| grant.controller_fingerprint);
    assert_eq!(bound.as_deref(), Some("sha-256 cd"), "the newest grant's controller");

    let mut keeper = self::keeper(Monitor, Basis::AsAsked);
    keeper.handle(Event::Requested(grant(Active, false)), NOW).unwrap();
    effects(&mut keeper);
    keeper.handle(Event::Requested(grant(Monitor, false)), NOW + 1).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(done[0], Effect::Withdraw);
    assert_eq!(reports(&done), vec![ModeStep::Refused { mode: Active, reason: ModeRefusal::Superseded }]);
    assert_eq!(applied(&done), Some((Monitor, Monitor.access())));
}

#[test]
fn a_grant_for_another_technician_or_session_is_refused() {
    let mut keeper = keeper(Active, Basis::AsAsked);
    let stranger = Grant { technician_id: "t2".into(), ..grant(Monitor, false) };
    assert_eq!(keeper.handle(Event::Requested(stranger), NOW), Err(Refusal::ForeignGrant));
    let elsewhere = Grant { session_id: "s2".into(), ..grant(Monitor, false) };
    assert_eq!(keeper.handle(Event::Requested(elsewhere), NOW), Err(Refusal::ForeignGrant));
    assert_eq!((keeper.in_force(), effects(&mut keeper)), (Active, vec![]));
}

#[test]
fn a_grant_binding_an_offer_never_widens_but_may_narrow() {
    let mut keeper = keeper(Monitor, Basis::AsAsked);
    // The grant the offer came with before the person picked Monitor: held.
    keeper.handle(Event::Bound(grant(Active, false)), NOW).unwrap();
    let done = effects(&mut keeper);
    assert_eq!((reports(&done), applied(&done)), (vec![], Some((Monitor, Monitor.access()))));
    assert!(!asked(&done));
    // A narrower one (the policy changed) narrows.
    keeper.handle(Event::Bound(grant(SessionMode::Chat, false)), NOW).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(reports(&done), vec![ModeStep::InForce { mode: SessionMode::Chat, by: ModeChangedBy::Technician }]);
    assert_eq!(applied(&done), Some((SessionMode::Chat, SessionMode::Chat.access())));
}

#[test]
fn a_reloaded_page_drops_the_open_question_and_the_same_page_keeps_it() {
    let mut keeper = keeper(Monitor, Basis::AsAsked);
    keeper.handle(Event::Requested(grant(Active, false)), NOW).unwrap();
    effects(&mut keeper);
    // The same controller's next offer (an ICE restart): still asking.
    keeper.handle(Event::Bound(grant(Monitor, false)), NOW + 1).unwrap();
    assert_eq!(keeper.asking_for(), Some(Active));
    effects(&mut keeper);
    let reloaded = Grant { controller_fingerprint: Some("sha-256 ef".into()), ..grant(Monitor, false) };
    keeper.handle(Event::Bound(reloaded), NOW + 2).unwrap();
    let done = effects(&mut keeper);
    assert_eq!(done[0], Effect::Withdraw);
    assert_eq!(reports(&done), vec![ModeStep::Refused { mode: Active, reason: ModeRefusal::Superseded }]);
    let bound = keeper.effective().and_then(|grant| grant.controller_fingerprint);
    assert_eq!(bound.as_deref(), Some("sha-256 ef"));
}
