//! A session's life, driven by hand: every moment is a number the test
//! chooses and every effect is read back in order. One behaviour per test;
//! several are bugs the earlier timer tasks had (named in each test).

use std::time::Duration;
use tether_shared::mode::SessionMode;
use tether_shared::session_lifecycle::{Effect, Event, Party, Phase, Refusal, SessionLifecycle, Step, Timings};
use tether_shared::signal::{ServerToController, Signal};

const T0: i64 = 1_700_000_000_000;
const SECOND: i64 = 1000;

fn timings() -> Timings {
    Timings {
        request_timeout: Duration::from_secs(60),
        reload_grace: Duration::from_secs(30),
        answer_grace: Duration::from_secs(2),
    }
}

fn opened() -> SessionLifecycle {
    SessionLifecycle::open(timings(), T0)
}

fn effects(session: &mut SessionLifecycle) -> Vec<Effect> {
    std::iter::from_fn(|| session.poll_effect()).collect()
}

fn answer() -> Signal {
    Signal::Answer { negotiation: 1, sdp: "v=0".into() }
}

fn attach(session: &mut SessionLifecycle, attachment: u64, now: i64) {
    session.handle(Event::ControllerAttached { attachment, source: None }, now).expect("attach");
}

/// The `reason` of the one end in `effects`, checking it is there once.
fn end_reason(effects: &[Effect]) -> (String, Party) {
    let ends: Vec<_> = effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Record(Step::Ended { reason, by, .. }) => Some((reason.clone(), by.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(ends.len(), 1, "exactly one end: {effects:?}");
    ends[0].clone()
}

fn ended(reason: &str) -> ServerToController {
    ServerToController::Ended { reason: reason.into() }
}

fn bye(reason: &str) -> Signal {
    Signal::Bye { reason: reason.into() }
}

#[test]
fn an_answer_starts_the_session_and_reaches_the_controller_after_the_record() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::FromTarget(answer()), T0 + SECOND).expect("answer");
    assert_eq!(session.phase(), &Phase::Active);
    assert_eq!(
        effects(&mut session),
        vec![Effect::Record(Step::Started), Effect::ToController(ServerToController::Signal { signal: answer() })]
    );
    assert_eq!(session.next_deadline(), None, "a live session with its controller waits for nothing");
}

#[test]
fn a_controller_that_never_connects_ends_the_session_at_the_request_timeout() {
    let mut session = opened();
    assert_eq!(session.next_deadline(), Some(T0 + 60 * SECOND));
    session.handle(Event::Tick, T0 + 60 * SECOND - 1).expect("tick");
    assert!(effects(&mut session).is_empty());
    session.handle(Event::Tick, T0 + 60 * SECOND).expect("tick");
    let reason = "the technician's controller did not connect within 60 s";
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::Ended { reason: reason.into(), by: Party::System, at: None }),
            Effect::ToTarget(bye(reason)),
            Effect::ToController(ended(reason)),
            Effect::Close,
        ]
    );
}

#[test]
fn a_target_that_never_answers_ends_the_session_at_the_request_timeout() {
    let mut session = opened();
    attach(&mut session, 1, T0 + SECOND);
    session.handle(Event::Tick, T0 + 60 * SECOND).expect("tick");
    assert_eq!(end_reason(&effects(&mut session)).0, "the target did not answer within 60 s");
}

#[test]
fn a_late_answer_finds_the_session_ended_without_a_tick() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    assert_eq!(session.handle(Event::FromTarget(answer()), T0 + 60 * SECOND), Err(Refusal::Ended));
    let effects = effects(&mut session);
    assert_eq!(end_reason(&effects).0, "the target did not answer within 60 s");
    assert!(!effects.contains(&Effect::Record(Step::Started)), "{effects:?}");
}

#[test]
fn asking_the_user_suspends_the_request_timeout_and_tells_the_controller() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::UserAsked { timeout_secs: 120 }, T0 + 50 * SECOND).expect("ask");
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::UserAsked { timeout_secs: 120 }),
            Effect::ToController(ServerToController::AwaitingUser { timeout_secs: 120 }),
        ]
    );
    assert_eq!(session.next_deadline(), Some(T0 + 50 * SECOND + 122 * SECOND), "the prompt's time plus a grace");
    session.handle(Event::Tick, T0 + 100 * SECOND).expect("past the request timeout");
    assert!(!session.is_ended());
}

/// Before: a user who accepted just before the request timeout had the
/// session ended as "the target did not answer" by the first timer.
#[test]
fn accepting_just_before_the_request_timeout_gives_the_answer_a_full_timeout() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::UserAsked { timeout_secs: 120 }, T0 + SECOND).expect("ask");
    session.handle(Event::UserAccepted { mode: None }, T0 + 59 * SECOND).expect("accept");
    assert_eq!(session.next_deadline(), Some(T0 + 119 * SECOND));
    session.handle(Event::Tick, T0 + 61 * SECOND).expect("tick");
    assert!(!session.is_ended(), "the first request timeout no longer applies");
    session.handle(Event::FromTarget(answer()), T0 + 62 * SECOND).expect("answer");
    assert_eq!(session.phase(), &Phase::Active);
}

/// Before: ask → accept → ask again left the session waiting and later
/// killed it.
#[test]
fn a_second_question_after_an_answer_is_refused() {
    let mut session = opened();
    session.handle(Event::UserAsked { timeout_secs: 60 }, T0).expect("ask");
    session.handle(Event::UserAccepted { mode: None }, T0 + SECOND).expect("accept");
    assert_eq!(
        session.handle(Event::UserAsked { timeout_secs: 60 }, T0 + 2 * SECOND),
        Err(Refusal::OutOfPlace { event: "user asked", phase: "accepted by the user" })
    );
    assert_eq!(session.phase(), &Phase::Accepted { until: T0 + 61 * SECOND });
}

#[test]
fn answers_nobody_asked_for_are_refused() {
    let mut session = opened();
    for event in [Event::UserAccepted { mode: None }, Event::UserRejected, Event::UserNoAnswer] {
        assert!(matches!(session.handle(event, T0), Err(Refusal::OutOfPlace { .. })));
    }
    assert!(effects(&mut session).is_empty());
}

#[test]
fn a_prompt_with_an_impossible_timeout_is_refused() {
    let mut session = opened();
    assert_eq!(session.handle(Event::UserAsked { timeout_secs: 0 }, T0), Err(Refusal::BadTimeout(0)));
    assert_eq!(session.handle(Event::UserAsked { timeout_secs: 601 }, T0), Err(Refusal::BadTimeout(601)));
    assert!(matches!(session.phase(), Phase::Requested { .. }));
}

#[test]
fn no_answer_to_the_offer_passes_while_the_user_is_asked() {
    let mut session = opened();
    session.handle(Event::UserAsked { timeout_secs: 60 }, T0).expect("ask");
    effects(&mut session);
    assert!(matches!(session.handle(Event::FromTarget(answer()), T0 + 1), Err(Refusal::OutOfPlace { .. })));
    assert!(effects(&mut session).is_empty(), "the answer is not relayed");
}

#[test]
fn a_rejection_is_recorded_then_ends_the_session_without_a_bye_to_the_target() {
    let mut session = opened();
    session.handle(Event::UserAsked { timeout_secs: 60 }, T0).expect("ask");
    effects(&mut session);
    session.handle(Event::UserRejected, T0 + SECOND).expect("reject");
    let reason = "the user at the target rejected the session";
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::UserRejected),
            Effect::Record(Step::Ended { reason: reason.into(), by: Party::Target, at: None }),
            Effect::ToController(ended(reason)),
            Effect::Close,
        ]
    );
}

#[test]
fn a_target_silent_past_its_prompt_is_ended_by_the_server() {
    let mut session = opened();
    session.handle(Event::UserAsked { timeout_secs: 10 }, T0).expect("ask");
    session.handle(Event::Tick, T0 + 12 * SECOND).expect("tick");
    assert_eq!(
        end_reason(&effects(&mut session)),
        ("the user at the target did not answer within 10 s".into(), Party::System)
    );
}

#[test]
fn a_reloaded_controller_within_the_grace_keeps_the_session_and_is_recorded() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::FromTarget(answer()), T0 + SECOND).expect("answer");
    session.handle(Event::ControllerLeft { attachment: 1 }, T0 + 10 * SECOND).expect("left");
    assert_eq!(session.next_deadline(), Some(T0 + 40 * SECOND));
    effects(&mut session);
    session
        .handle(Event::ControllerAttached { attachment: 2, source: Some("127.0.0.1".into()) }, T0 + 39 * SECOND)
        .expect("re-attach");
    assert_eq!(effects(&mut session), vec![Effect::Record(Step::Reattached { source: Some("127.0.0.1".into()) })]);
    assert_eq!(session.next_deadline(), None);
}

#[test]
fn a_controller_away_past_the_grace_ends_the_session() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::FromTarget(answer()), T0 + SECOND).expect("answer");
    session.handle(Event::ControllerLeft { attachment: 1 }, T0 + 10 * SECOND).expect("left");
    session.handle(Event::Tick, T0 + 40 * SECOND).expect("tick");
    assert_eq!(
        end_reason(&effects(&mut session)).0,
        "the technician's controller disconnected and did not return within 30 s"
    );
}

#[test]
fn a_replaced_controller_leaving_does_not_start_the_grace() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    attach(&mut session, 2, T0 + SECOND);
    assert_eq!(
        session.handle(Event::ControllerLeft { attachment: 1 }, T0 + 2 * SECOND),
        Err(Refusal::StaleAttachment(1))
    );
    session.handle(Event::FromTarget(answer()), T0 + 3 * SECOND).expect("answer");
    assert_eq!(session.next_deadline(), None);
    assert_eq!(
        session.handle(Event::ControllerAttached { attachment: 1, source: None }, T0 + 4 * SECOND),
        Err(Refusal::StaleAttachment(1)),
        "an older attachment cannot take over again"
    );
}

/// Before: which of three timers fired first decided the audited reason.
#[test]
fn the_earliest_deadline_decides_the_end_reason() {
    // The controller leaves while the user is asked; the grace ends first.
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::UserAsked { timeout_secs: 600 }, T0).expect("ask");
    session.handle(Event::ControllerLeft { attachment: 1 }, T0 + SECOND).expect("left");
    session.handle(Event::Tick, T0 + 700 * SECOND).expect("long after both deadlines");
    assert_eq!(
        end_reason(&effects(&mut session)).0,
        "the technician's controller disconnected and did not return within 30 s"
    );

    // The prompt's time is up first.
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::UserAsked { timeout_secs: 5 }, T0).expect("ask");
    session.handle(Event::ControllerLeft { attachment: 1 }, T0 + SECOND).expect("left");
    session.handle(Event::Tick, T0 + 700 * SECOND).expect("long after both deadlines");
    assert_eq!(end_reason(&effects(&mut session)).0, "the user at the target did not answer within 5 s");
}

/// Before: two concurrent ends could both be audited.
#[test]
fn a_session_ends_once_whatever_comes_after() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::FromTarget(answer()), T0).expect("answer");
    effects(&mut session);
    session.handle(Event::ControllerBye { reason: "done".into() }, T0 + SECOND).expect("bye");
    let first = effects(&mut session);
    assert_eq!(end_reason(&first), ("done".into(), Party::Technician));
    assert!(first.contains(&Effect::ToTarget(bye("done"))), "the target is told: {first:?}");
    for event in [
        Event::TargetGone,
        Event::FromTarget(bye("x")),
        Event::ServerStopping,
        Event::Revoked { by: Party::System, reason: "y".into() },
        Event::ControllerBye { reason: "again".into() },
    ] {
        assert_eq!(session.handle(event, T0 + 2 * SECOND), Err(Refusal::Ended));
    }
    assert_eq!(session.handle(Event::Tick, T0 + 999 * SECOND), Ok(()));
    assert!(effects(&mut session).is_empty());
    assert_eq!(session.next_deadline(), None);
}

#[test]
fn a_target_that_leaves_is_not_told_but_the_controller_is() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::TargetGone, T0 + SECOND).expect("gone");
    let reason = "the target disconnected";
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::Ended { reason: reason.into(), by: Party::Target, at: None }),
            Effect::ToController(ended(reason)),
            Effect::Close,
        ]
    );
}

#[test]
fn a_target_that_ended_alone_is_recorded_with_its_own_time() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::FromTarget(answer()), T0).expect("answer");
    effects(&mut session);
    let reason = "the agent heard nothing from the server for 15 s".to_owned();
    session
        .handle(Event::TargetEndedAlone { reason: reason.clone(), at: T0 + 20 * SECOND }, T0 + 90 * SECOND)
        .expect("ended alone");
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::Ended { reason: reason.clone(), by: Party::Target, at: Some(T0 + 20 * SECOND) }),
            Effect::ToController(ended(&reason)),
            Effect::Close,
        ]
    );
}

#[test]
fn the_targets_bye_ends_the_session_with_its_reason() {
    let mut session = opened();
    session.handle(Event::FromTarget(bye("the person ended it")), T0).expect("bye");
    assert_eq!(end_reason(&effects(&mut session)).0, "the target ended it: the person ended it");
}

#[test]
fn a_revocation_ends_the_session_by_whoever_revoked_it_and_tells_both_ends() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::FromTarget(answer()), T0).expect("answer");
    effects(&mut session);
    let admin = Party::Account { id: "u1".into(), name: "admin".into() };
    let reason = "ended by administrator admin";
    session.handle(Event::Revoked { by: admin.clone(), reason: reason.into() }, T0 + SECOND).expect("revoke");
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::Ended { reason: reason.into(), by: admin, at: None }),
            Effect::ToTarget(bye(reason)),
            Effect::ToController(ended(reason)),
            Effect::Close,
        ]
    );
}

#[test]
fn a_shutdown_tells_both_ends_why() {
    let mut session = opened();
    session.handle(Event::ServerStopping, T0).expect("stop");
    let effects = effects(&mut session);
    assert_eq!(end_reason(&effects), ("the server is shutting down".into(), Party::System));
    assert!(effects.contains(&Effect::ToTarget(bye("the server is shutting down"))));
    assert!(effects.contains(&Effect::ToController(ended("the server is shutting down"))));
}

#[test]
fn a_controller_attaching_while_the_user_is_asked_learns_so() {
    let mut session = opened();
    session.handle(Event::UserAsked { timeout_secs: 60 }, T0).expect("ask");
    effects(&mut session);
    attach(&mut session, 1, T0 + SECOND);
    assert_eq!(
        effects(&mut session),
        vec![Effect::ToController(ServerToController::AwaitingUser { timeout_secs: 60 })]
    );
}

#[test]
fn the_mode_the_person_chose_reaches_the_controller_now_and_after_a_reattach() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::UserAsked { timeout_secs: 60 }, T0).expect("ask");
    effects(&mut session);
    session.handle(Event::UserAccepted { mode: Some(SessionMode::Monitor) }, T0 + SECOND).expect("accept");
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::UserAccepted { mode: Some(SessionMode::Monitor) }),
            Effect::ToController(ServerToController::ModeChosen { mode: SessionMode::Monitor }),
        ]
    );
    assert_eq!(session.chosen_mode(), Some(SessionMode::Monitor));
    attach(&mut session, 2, T0 + 2 * SECOND);
    let told = effects(&mut session);
    assert!(
        told.contains(&Effect::ToController(ServerToController::ModeChosen { mode: SessionMode::Monitor })),
        "{told:?}"
    );
}

#[test]
fn an_agent_that_names_no_mode_leaves_the_controller_untold() {
    let mut session = opened();
    attach(&mut session, 1, T0);
    session.handle(Event::UserAsked { timeout_secs: 60 }, T0).expect("ask");
    effects(&mut session);
    session.handle(Event::UserAccepted { mode: None }, T0 + SECOND).expect("accept");
    assert_eq!(effects(&mut session), vec![Effect::Record(Step::UserAccepted { mode: None })]);
    assert_eq!(session.chosen_mode(), None);
}

#[test]
fn candidates_pass_but_offers_from_the_target_do_not() {
    let mut session = opened();
    let candidate =
        Signal::Candidate { candidate: "c".into(), sdp_mid: None, sdp_mline_index: None, negotiation: Some(1) };
    session.handle(Event::FromTarget(candidate.clone()), T0).expect("candidate");
    assert_eq!(effects(&mut session), vec![Effect::ToController(ServerToController::Signal { signal: candidate })]);
    let offer = Signal::Offer { negotiation: 1, sdp: "v=0".into() };
    assert!(matches!(session.handle(Event::FromTarget(offer), T0), Err(Refusal::OutOfPlace { .. })));
}

#[test]
fn every_step_names_its_audit_action_and_code_event() {
    use tether_shared::connection_code::Event as Code;
    let table = [
        (Step::UserAsked { timeout_secs: 1 }, "session.user_asked", Some(Code::AcceptancePrompted)),
        (Step::UserAccepted { mode: None }, "session.user_accepted", Some(Code::UserAccepted)),
        (Step::UserRejected, "session.user_rejected", Some(Code::UserRejected)),
        (Step::UserNoAnswer, "session.user_no_answer", Some(Code::AcceptanceTimedOut)),
        (Step::Started, "session.start", Some(Code::SessionStarted)),
        (Step::Reattached { source: None }, "session.reattach", None),
        (Step::Ended { reason: "r".into(), by: Party::System, at: None }, "session.end", Some(Code::SessionEnded)),
    ];
    for (step, action, code) in table {
        assert_eq!(step.action(), action);
        assert_eq!(step.code_event().map(|(event, _)| event), code, "{step:?}");
    }
}

#[test]
fn an_unasked_session_runs_in_its_granted_mode_and_the_controller_hears_it() {
    let mut session = opened().granting(SessionMode::Active);
    attach(&mut session, 1, T0);
    effects(&mut session);
    session.handle(Event::FromTarget(answer()), T0 + SECOND).expect("answer");
    let told = effects(&mut session);
    assert!(told.contains(&Effect::ToController(ServerToController::ModeChosen { mode: SessionMode::Active })));
    assert_eq!(session.chosen_mode(), Some(SessionMode::Active));
}

#[test]
fn a_mode_request_is_recorded_then_granted_only_in_a_live_session_and_for_another_mode() {
    use tether_shared::signal::{ModeChangedBy, ModeRefusal, ModeStep};
    let mut session = opened().granting(SessionMode::Monitor);
    attach(&mut session, 1, T0);
    session
        .handle(Event::ModeRequested { requested: SessionMode::Active, granted: SessionMode::Active }, T0)
        .expect("too early is told");
    let early = effects(&mut session);
    assert!(
        matches!(&early[..], [Effect::ToController(ServerToController::Error { message })] if message.contains("once the session has started")),
        "{early:?}"
    );
    session.handle(Event::FromTarget(answer()), T0 + SECOND).expect("answer");
    effects(&mut session);
    session
        .handle(Event::ModeRequested { requested: SessionMode::Monitor, granted: SessionMode::Monitor }, T0 + SECOND)
        .expect("same mode is told");
    assert!(matches!(&effects(&mut session)[..], [Effect::ToController(ServerToController::Error { .. })]));
    // The policy gives Monitor for Active: the session is already in it.
    session
        .handle(Event::ModeRequested { requested: SessionMode::Active, granted: SessionMode::Monitor }, T0 + SECOND)
        .expect("policy told");
    assert!(matches!(&effects(&mut session)[..], [Effect::ToController(ServerToController::Error { .. })]));

    session
        .handle(Event::ModeRequested { requested: SessionMode::Active, granted: SessionMode::Active }, T0 + 2 * SECOND)
        .expect("request");
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::ModeRequested { requested: SessionMode::Active, granted: SessionMode::Active }),
            Effect::GrantMode(SessionMode::Active),
        ]
    );
    let asking = ModeStep::Asking { mode: SessionMode::Active, timeout_secs: 30 };
    session.handle(Event::TargetMode(asking), T0 + 3 * SECOND).expect("asking");
    assert_eq!(
        effects(&mut session),
        vec![Effect::Record(Step::Mode(asking)), Effect::ToController(ServerToController::ModeChange { step: asking }),]
    );
    let bad = ModeStep::Asking { mode: SessionMode::Active, timeout_secs: 0 };
    assert_eq!(session.handle(Event::TargetMode(bad), T0 + 3 * SECOND), Err(Refusal::BadTimeout(0)));
    let changed = ModeStep::InForce { mode: SessionMode::Active, by: ModeChangedBy::Person };
    session.handle(Event::TargetMode(changed), T0 + 4 * SECOND).expect("in force");
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::Mode(changed)),
            Effect::ToController(ServerToController::ModeChange { step: changed }),
            Effect::ToController(ServerToController::ModeChosen { mode: SessionMode::Active }),
        ]
    );
    assert_eq!(session.chosen_mode(), Some(SessionMode::Active));
    let refused = ModeStep::Refused { mode: SessionMode::Guidance, reason: ModeRefusal::Rejected };
    session.handle(Event::TargetMode(refused), T0 + 5 * SECOND).expect("refused");
    assert_eq!(effects(&mut session).len(), 2, "recorded and told");
    assert_eq!(session.chosen_mode(), Some(SessionMode::Active), "a refusal changes nothing");
}

#[test]
fn a_policy_change_narrows_a_live_session_or_ends_it() {
    use tether_shared::mode::ModeSet;
    let admin = Party::Account { id: "a1".into(), name: "admin".into() };
    let live_in = |mode| {
        let mut session = opened().granting(mode);
        attach(&mut session, 1, T0);
        session.handle(Event::FromTarget(answer()), T0).expect("answer");
        effects(&mut session);
        session
    };
    let live = || live_in(SessionMode::Active);
    let changed = |allowed: &[SessionMode]| Event::PolicyChanged { allowed: ModeSet::of(allowed), by: admin.clone() };

    let mut still = live();
    still.handle(changed(&[SessionMode::Active, SessionMode::Chat]), T0).expect("policy");
    assert_eq!(effects(&mut still), vec![], "the mode in force is still allowed");

    let mut narrowed = live();
    narrowed.handle(changed(&[SessionMode::Monitor, SessionMode::Chat]), T0).expect("policy");
    assert_eq!(
        effects(&mut narrowed),
        vec![
            Effect::Record(Step::PolicyNarrowed {
                from: SessionMode::Active,
                to: SessionMode::Monitor,
                by: admin.clone()
            }),
            Effect::GrantMode(SessionMode::Monitor),
        ]
    );

    // File transfer is not "less" than Monitor: it would show files instead of the screen.
    let mut nothing_below = live_in(SessionMode::Monitor);
    nothing_below.handle(changed(&[SessionMode::Active, SessionMode::FileTransfer]), T0).expect("policy");
    let ended = effects(&mut nothing_below);
    assert!(end_reason(&ended).0.contains("no longer allows Monitor mode"), "{ended:?}");

    // A request the person has not answered yet, for a mode the policy now forbids, is replaced.
    let mut asking = live_in(SessionMode::Monitor);
    let request = Event::ModeRequested { requested: SessionMode::Active, granted: SessionMode::Active };
    asking.handle(request, T0).expect("request");
    effects(&mut asking);
    asking.handle(changed(&[SessionMode::Monitor, SessionMode::Chat]), T0).expect("policy");
    assert_eq!(effects(&mut asking), vec![Effect::GrantMode(SessionMode::Monitor)]);
    asking.handle(changed(&[SessionMode::Monitor]), T0).expect("policy");
    assert_eq!(effects(&mut asking), vec![], "only once");

    let mut no_policy = live();
    no_policy.handle(changed(&[]), T0).expect("policy");
    assert_eq!(end_reason(&effects(&mut no_policy)), ("no policy allows this session any more".into(), admin));
}

#[test]
fn chat_is_recorded_then_sent_to_both_ends_once_the_session_is_accepted() {
    use tether_shared::chat::Speaker;
    let mut session = opened();
    attach(&mut session, 1, T0);
    let hello = || Event::Chat { from: Speaker::Technician, text: "hello".into() };
    session.handle(hello(), T0).expect("told");
    assert!(
        matches!(&effects(&mut session)[..], [Effect::ToController(ServerToController::Error { message })] if message.starts_with("Chat opens")),
        "before the person accepted"
    );
    let early = Event::Chat { from: Speaker::Person, text: "hi".into() };
    assert!(matches!(session.handle(early, T0), Err(Refusal::OutOfPlace { .. })));

    session.handle(Event::FromTarget(answer()), T0 + SECOND).expect("answer");
    effects(&mut session);
    session.handle(hello(), T0 + 2 * SECOND).expect("chat");
    assert_eq!(
        effects(&mut session),
        vec![
            Effect::Record(Step::Chat { from: Speaker::Technician, text: "hello".into() }),
            Effect::Chat { from: Speaker::Technician, text: "hello".into(), at: T0 + 2 * SECOND },
        ]
    );
    assert_eq!(Step::Chat { from: Speaker::Person, text: "hi".into() }.by(), Party::Target);
}
