//! The connection-code lifecycle, driven by hand with a paused clock: every
//! moment is a number the test chooses, and no socket or timer is involved.

use std::time::Duration;

use tether_shared::connection_code::{Change, CodeLifecycle, CodePolicy, CodeState, Event, Refusal, countdown_text};

const T0: i64 = 1_700_000_000_000;
const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;

fn issued() -> CodeLifecycle {
    CodeLifecycle::issue(CodePolicy::default(), T0)
}

fn waiting(expires_at: i64) -> CodeState {
    CodeState::Waiting { expires_at }
}

#[test]
fn a_new_code_waits_fifteen_minutes_then_expires() {
    let mut code = issued();
    assert_eq!(code.state(), waiting(T0 + 15 * MINUTE));
    assert_eq!(code.next_deadline(), Some(T0 + 15 * MINUTE));
    assert_eq!(countdown_text(T0 + 15 * MINUTE, T0), "15:00");

    let almost = T0 + 15 * MINUTE - 1;
    assert_eq!(code.handle(Event::Tick, almost), Ok(Change { from: code.state(), to: code.state() }));
    assert_eq!(
        code.handle(Event::Tick, T0 + 15 * MINUTE),
        Ok(Change { from: waiting(T0 + 15 * MINUTE), to: CodeState::Expired })
    );
    assert_eq!(code.next_deadline(), None);
    assert!(code.state().is_final());
}

#[test]
fn the_lifetime_comes_from_the_policy() {
    let policy = CodePolicy { lifetime: Duration::from_secs(30), ..CodePolicy::default() };
    let mut code = CodeLifecycle::issue(policy, T0);
    assert_eq!(code.state(), waiting(T0 + 30 * SECOND));
    assert_eq!(code.handle(Event::Redeem, T0 + 30 * SECOND), Err(Refusal::Expired));
}

#[test]
fn expiry_is_enforced_without_a_tick() {
    let mut code = issued();
    let late = T0 + 15 * MINUTE;
    assert_eq!(code.handle(Event::Redeem, late), Err(Refusal::Expired));
    assert_eq!(code.state(), CodeState::Expired, "the refusal still records the expiry");
    assert_eq!(code.handle(Event::Extend, late + 1), Err(Refusal::Expired), "an expired code cannot be revived");
    assert_eq!(code.handle(Event::RequestNew, late + 1), Err(Refusal::Expired));
}

#[test]
fn extend_resets_the_timer() {
    let mut code = issued();
    let at = T0 + 14 * MINUTE;
    assert_eq!(
        code.handle(Event::Extend, at),
        Ok(Change { from: waiting(T0 + 15 * MINUTE), to: waiting(at + 15 * MINUTE) })
    );
    assert_eq!(countdown_text(at + 15 * MINUTE, at), "15:00");
    assert_eq!(code.handle(Event::Tick, T0 + 20 * MINUTE).map(|change| change.to), Ok(waiting(at + 15 * MINUTE)));
    assert!(code.handle(Event::Redeem, at + 15 * MINUTE - 1).is_ok(), "still redeemable just before the new deadline");
}

#[test]
fn request_new_kills_the_old_code_at_once_and_starts_a_full_timer() {
    let mut old = issued();
    let at = T0 + 10 * MINUTE;
    let mut new = old.request_new(at).expect("a waiting code can be replaced");
    assert_eq!(old.state(), CodeState::Replaced);
    assert_eq!(new.state(), waiting(at + 15 * MINUTE));
    assert_eq!(new.policy(), old.policy());
    assert_eq!(old.handle(Event::Redeem, at), Err(Refusal::Withdrawn(CodeState::Replaced)));
    assert!(new.handle(Event::Redeem, at + 1).is_ok());
}

#[test]
fn cancel_kills_the_code_and_is_idempotent() {
    let mut code = issued();
    assert_eq!(code.handle(Event::Cancel, T0 + SECOND).map(|change| change.to), Ok(CodeState::Cancelled));
    assert_eq!(code.handle(Event::Cancel, T0 + 2 * SECOND).map(|change| change.to), Ok(CodeState::Cancelled));
    let refusal = code.handle(Event::Redeem, T0 + 3 * SECOND);
    assert_eq!(refusal, Err(Refusal::Withdrawn(CodeState::Cancelled)));
    assert_eq!(
        refusal.map_err(|refusal| refusal.to_string()),
        Err("the connection code is no longer valid (cancelled)".into())
    );
    assert_eq!(code.handle(Event::Extend, T0 + 3 * SECOND), Err(Refusal::Withdrawn(CodeState::Cancelled)));
}

#[test]
fn a_code_is_redeemed_once_then_follows_the_session_to_active() {
    let mut code = issued();
    let redeemed = T0 + 3 * MINUTE;
    let deadline = redeemed + 2 * MINUTE;
    assert_eq!(code.handle(Event::Redeem, redeemed).map(|c| c.to), Ok(CodeState::TargetConnected { deadline }));
    assert_eq!(code.handle(Event::Redeem, redeemed + 1), Err(Refusal::AlreadyUsed));
    assert_eq!(
        code.handle(Event::Extend, redeemed + 1),
        Err(Refusal::NotNow { event: Event::Extend, state: CodeState::TargetConnected { deadline } })
    );
    let prompted = redeemed + 5 * SECOND;
    assert_eq!(
        code.handle(Event::AcceptancePrompted, prompted).map(|c| c.to),
        Ok(CodeState::AwaitingAcceptance { deadline: prompted + 2 * MINUTE })
    );
    assert_eq!(code.state().label(), "awaiting user acceptance");
    assert_eq!(code.handle(Event::UserAccepted, prompted + 10 * SECOND).map(|c| c.to), Ok(CodeState::Active));
    assert_eq!(code.handle(Event::Redeem, prompted + 11 * SECOND), Err(Refusal::AlreadyUsed));
    let answered = code.handle(Event::SessionStarted, prompted + 12 * SECOND);
    assert_eq!(answered, Ok(Change { from: CodeState::Active, to: CodeState::Active }), "the answer changes nothing");
    assert_eq!(code.handle(Event::Tick, T0 + 60 * MINUTE).map(|c| c.to), Ok(CodeState::Active), "active never expires");
    assert_eq!(
        code.handle(Event::Cancel, T0 + 60 * MINUTE),
        Err(Refusal::NotNow { event: Event::Cancel, state: CodeState::Active })
    );
}

#[test]
fn a_target_without_acceptance_goes_straight_to_active() {
    let mut code = issued();
    code.handle(Event::Redeem, T0).expect("redeem");
    assert_eq!(code.handle(Event::SessionStarted, T0 + SECOND).map(|c| c.to), Ok(CodeState::Active));
}

#[test]
fn the_user_can_reject() {
    let mut code = issued();
    code.handle(Event::Redeem, T0).expect("redeem");
    code.handle(Event::AcceptancePrompted, T0).expect("prompt");
    assert_eq!(code.handle(Event::UserRejected, T0 + SECOND).map(|c| c.to), Ok(CodeState::Rejected));
    assert_eq!(
        code.handle(Event::UserAccepted, T0 + 2 * SECOND),
        Err(Refusal::NotNow { event: Event::UserAccepted, state: CodeState::Rejected })
    );
    assert_eq!(code.handle(Event::Redeem, T0 + 2 * SECOND), Err(Refusal::AlreadyUsed));
}

#[test]
fn an_unanswered_prompt_expires() {
    let mut code = issued();
    code.handle(Event::Redeem, T0).expect("redeem");
    code.handle(Event::AcceptancePrompted, T0 + SECOND).expect("prompt");
    assert_eq!(code.next_deadline(), Some(T0 + SECOND + 2 * MINUTE));
    assert_eq!(code.handle(Event::UserAccepted, T0 + SECOND + 2 * MINUTE), Err(Refusal::Expired));
    assert_eq!(code.state().label(), "expired");
}

#[test]
fn a_session_that_ends_before_it_started_ends_its_code_at_once() {
    for prompted in [false, true] {
        let mut code = issued();
        code.handle(Event::Redeem, T0).expect("redeem");
        if prompted {
            code.handle(Event::AcceptancePrompted, T0).expect("prompt");
        }
        assert_eq!(code.handle(Event::SessionEnded, T0 + SECOND).map(|c| c.to), Ok(CodeState::Ended));
        assert!(code.state().is_final());
        assert_eq!(code.state().label(), "ended before the session started");
        assert_eq!(code.handle(Event::Redeem, T0 + 2 * SECOND), Err(Refusal::AlreadyUsed));
    }
    // Any other code is left as it is: a live session's, a refused one's.
    let mut active = issued();
    active.handle(Event::Redeem, T0).expect("redeem");
    active.handle(Event::SessionStarted, T0).expect("start");
    assert_eq!(active.handle(Event::SessionEnded, T0 + MINUTE).map(|c| c.to), Ok(CodeState::Active));
    let mut rejected = issued();
    rejected.handle(Event::Redeem, T0).expect("redeem");
    rejected.handle(Event::AcceptancePrompted, T0).expect("prompt");
    rejected.handle(Event::UserRejected, T0).expect("reject");
    assert_eq!(rejected.handle(Event::SessionEnded, T0 + SECOND).map(|c| c.to), Ok(CodeState::Rejected));
}

#[test]
fn the_target_reports_an_unanswered_prompt_before_the_server_notices() {
    let mut code = issued();
    code.handle(Event::Redeem, T0).expect("redeem");
    code.handle(Event::AcceptancePrompted, T0 + SECOND).expect("prompt");
    assert_eq!(code.handle(Event::AcceptanceTimedOut, T0 + MINUTE).map(|c| c.to), Ok(CodeState::Expired));
    assert_eq!(code.handle(Event::UserAccepted, T0 + MINUTE), Err(Refusal::Expired));
    let mut waiting = issued();
    assert_eq!(
        waiting.handle(Event::AcceptanceTimedOut, T0),
        Err(Refusal::NotNow { event: Event::AcceptanceTimedOut, state: waiting.state() })
    );
}

#[test]
fn the_technician_can_cancel_while_the_target_sets_up() {
    let mut code = issued();
    code.handle(Event::Redeem, T0).expect("redeem");
    assert_eq!(code.handle(Event::Cancel, T0 + SECOND).map(|c| c.to), Ok(CodeState::Cancelled));
    assert_eq!(code.handle(Event::SessionStarted, T0 + 2 * SECOND), Err(Refusal::Withdrawn(CodeState::Cancelled)));
}

#[test]
fn wrong_tries_aimed_at_a_code_void_it() {
    let mut code = issued();
    for guess in 1..5 {
        assert_eq!(code.handle(Event::WrongGuess, T0 + guess).map(|c| c.to), Ok(waiting(T0 + 15 * MINUTE)));
        assert_eq!(code.wrong_guesses(), u32::try_from(guess).expect("small"));
    }
    assert_eq!(code.handle(Event::WrongGuess, T0 + 5).map(|c| c.to), Ok(CodeState::Voided));
    assert_eq!(code.handle(Event::Redeem, T0 + 6), Err(Refusal::Withdrawn(CodeState::Voided)));
    assert_eq!(code.state().label(), "void after too many wrong tries");
}

#[test]
fn wrong_tries_at_a_used_code_change_nothing() {
    let mut code = issued();
    code.handle(Event::Redeem, T0).expect("redeem");
    let state = code.state();
    for guess in 0..10 {
        assert_eq!(code.handle(Event::WrongGuess, T0 + guess).map(|c| c.to), Ok(state));
    }
    assert_eq!(code.wrong_guesses(), 0);
}

#[test]
fn a_stored_lifecycle_resumes_where_it_was() {
    let policy = CodePolicy { max_wrong_guesses: 3, ..CodePolicy::default() };
    let mut code = CodeLifecycle::restore(policy, waiting(T0 + MINUTE), 2);
    assert_eq!(code.handle(Event::WrongGuess, T0).map(|c| c.to), Ok(CodeState::Voided));
}

#[test]
fn states_serialize_for_the_window() {
    let cases = [
        (waiting(T0), r#"{"status":"waiting","expires_at":1700000000000}"#),
        (
            CodeState::AwaitingAcceptance { deadline: T0 },
            r#"{"status":"awaiting_acceptance","deadline":1700000000000}"#,
        ),
        (CodeState::Voided, r#"{"status":"voided"}"#),
        (CodeState::Ended, r#"{"status":"ended"}"#),
    ];
    for (state, json) in cases {
        assert_eq!(serde_json::to_string(&state).expect("serialize"), json);
        assert_eq!(serde_json::from_str::<CodeState>(json).expect("parse"), state);
        assert_eq!(json.split('"').nth(3), Some(state.as_str()));
    }
    assert!(serde_json::from_str::<CodeState>(r#"{"status":"waiting","expires_at":1,"extra":1}"#).is_err());
}

#[test]
fn refusals_read_well() {
    assert_eq!(Refusal::Expired.to_string(), "the connection code has expired");
    assert_eq!(Refusal::AlreadyUsed.to_string(), "the connection code has already been used");
    assert_eq!(
        Refusal::NotNow { event: Event::Extend, state: CodeState::Active }.to_string(),
        "cannot extend when the code is active"
    );
}
