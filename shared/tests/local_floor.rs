//! The agent's local settings are a floor the server's policy cannot
//! lower: "always ask" and "never unattended" win over any policy, and the
//! floor never loosens anything. One behaviour per test.

use tether_shared::access_policy::Policy;
use tether_shared::local_floor::LocalFloor;

fn policy(user_acceptance: bool, unattended: bool) -> Policy {
    let mut policy = Policy::default();
    policy.session.user_acceptance = user_acceptance;
    policy.access.unattended = unattended;
    policy
}

fn floor(always_ask: bool, never_unattended: bool) -> LocalFloor {
    LocalFloor { always_ask, never_unattended }
}

#[test]
fn always_ask_makes_the_person_accept_even_when_policy_does_not_ask() {
    let table = [(false, true), (true, true)];
    for (policy_asks, expected) in table {
        let applied = floor(true, false).apply(policy(policy_asks, false));
        assert_eq!(applied.session.user_acceptance, expected, "policy asks: {policy_asks}");
    }
}

#[test]
fn never_unattended_wins_over_a_policy_that_allows_unattended_sessions() {
    let applied = floor(false, true).apply(policy(false, true));
    assert!(!applied.access.unattended);
}

#[test]
fn without_a_floor_the_policy_decides() {
    for user_acceptance in [false, true] {
        for unattended in [false, true] {
            let original = policy(user_acceptance, unattended);
            assert_eq!(LocalFloor::NONE.apply(original), original);
        }
    }
}

#[test]
fn a_floor_never_loosens_a_policy() {
    for user_acceptance in [false, true] {
        for unattended in [false, true] {
            let original = policy(user_acceptance, unattended);
            for settings in [floor(false, false), floor(true, false), floor(false, true), floor(true, true)] {
                let applied = settings.apply(original);
                assert!(applied.is_at_least_as_restrictive_as(&original), "{settings:?} loosened {original:?}");
                assert_eq!(settings.apply(applied), applied, "applying twice changes nothing more");
            }
        }
    }
}

#[test]
fn the_floor_touches_nothing_else() {
    let mut original = policy(false, true);
    original.access.recording = true;
    original.access.idle_timeout_secs = None;
    let applied = LocalFloor::default().apply(original);
    assert!(applied.access.recording);
    assert_eq!(applied.access.idle_timeout_secs, None);
    assert_eq!(applied.access.allowed_modes, original.access.allowed_modes);
    assert_eq!(applied.session.code_lifetime_secs, original.session.code_lifetime_secs);
}

#[test]
fn an_unconfigured_agent_asks_and_stays_attended() {
    assert_eq!(LocalFloor::default(), floor(true, true));
    let read: LocalFloor = serde_json::from_str("{}").expect("empty settings");
    assert_eq!(read, LocalFloor::default());
    let opened: LocalFloor = serde_json::from_str(r#"{"always_ask":false,"never_unattended":false}"#).expect("parse");
    assert_eq!(opened, LocalFloor::NONE);
    assert!(serde_json::from_str::<LocalFloor>(r#"{"trust_server":true}"#).is_err(), "unknown settings are refused");
}
