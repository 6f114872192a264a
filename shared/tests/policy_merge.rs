//! Policies merged to the most restrictive: one test per field's rule,
//! then properties over many generated policies (merging never loosens;
//! order and repetition do not matter). Plus the policy document's JSON:
//! defaults, old documents, validation.

use tether_shared::access::{Access, AccessSet};
use tether_shared::access_policy::{AccessRules, Policy, merge_most_restrictive};
use tether_shared::mode::{ModeSet, PRECEDENCE, SessionMode};
use tether_shared::policy::SessionPolicy;

fn with_session(change: impl FnOnce(&mut SessionPolicy)) -> Policy {
    let mut policy = Policy::default();
    change(&mut policy.session);
    policy
}

fn with_access(change: impl FnOnce(&mut AccessRules)) -> Policy {
    let mut policy = Policy::default();
    change(&mut policy.access);
    policy
}

fn merged(policies: &[Policy]) -> Policy {
    merge_most_restrictive(policies).expect("some policy applies")
}

#[test]
fn no_policy_means_no_access() {
    assert_eq!(merge_most_restrictive(&[]), None);
}

#[test]
fn one_policy_is_itself() {
    let policy = with_access(|rules| rules.recording = true);
    assert_eq!(merge_most_restrictive(&[policy]), Some(policy));
}

#[test]
fn allowed_modes_are_those_every_policy_allows() {
    use SessionMode::*;
    let a = with_access(|rules| rules.allowed_modes = ModeSet::of(&[Active, Monitor, Chat]));
    let b = with_access(|rules| rules.allowed_modes = ModeSet::of(&[Monitor, Chat, FileTransfer]));
    let none = with_access(|rules| rules.allowed_modes = ModeSet::empty());
    assert_eq!(merged(&[a, b]).access.allowed_modes, ModeSet::of(&[Monitor, Chat]));
    assert_eq!(merged(&[a, b, none]).access.allowed_modes, ModeSet::empty(), "a deny policy denies");
}

#[test]
fn acceptance_is_required_if_any_policy_requires_it() {
    let asks = with_session(|session| session.user_acceptance = true);
    let trusts = with_session(|session| session.user_acceptance = false);
    let table = [(vec![trusts, trusts], false), (vec![trusts, asks], true), (vec![asks, trusts], true)];
    for (policies, expected) in table {
        assert_eq!(merged(&policies).session.user_acceptance, expected, "{policies:?}");
    }
}

#[test]
fn every_time_limit_and_count_takes_the_smallest() {
    type Field = (&'static str, fn(&mut SessionPolicy, u32), fn(&SessionPolicy) -> u32);
    let fields: [Field; 4] = [
        ("code_lifetime_secs", |s, v| s.code_lifetime_secs = v, |s| s.code_lifetime_secs),
        ("max_wrong_guesses", |s, v| s.max_wrong_guesses = v, |s| s.max_wrong_guesses),
        ("acceptance_timeout_secs", |s, v| s.acceptance_timeout_secs = v, |s| s.acceptance_timeout_secs),
        ("server_loss_timeout_secs", |s, v| s.server_loss_timeout_secs = v, |s| s.server_loss_timeout_secs),
    ];
    for (name, set, get) in fields {
        let small = with_session(|session| set(session, 11));
        let large = with_session(|session| set(session, 99));
        assert_eq!(get(&merged(&[small, large]).session), 11, "{name}");
        assert_eq!(get(&merged(&[large, small]).session), 11, "{name}");
    }
}

#[test]
fn the_idle_limit_is_the_shortest_and_none_only_if_no_policy_has_one() {
    let table = [
        (None, None, None),
        (None, Some(600), Some(600)),
        (Some(600), None, Some(600)),
        (Some(600), Some(120), Some(120)),
    ];
    for (a, b, expected) in table {
        let a = with_access(|rules| rules.idle_timeout_secs = a);
        let b = with_access(|rules| rules.idle_timeout_secs = b);
        assert_eq!(merged(&[a, b]).access.idle_timeout_secs, expected, "{a:?} {b:?}");
    }
}

#[test]
fn assent_is_asked_for_every_kind_any_policy_asks_for() {
    let screen = with_access(|rules| rules.assent_each_time = AccessSet::of(&[Access::View]));
    let files = with_access(|rules| rules.assent_each_time = AccessSet::of(&[Access::FileTransfer]));
    let nothing = with_access(|rules| rules.assent_each_time = AccessSet::empty());
    assert_eq!(
        merged(&[screen, files, nothing]).access.assent_each_time,
        AccessSet::of(&[Access::View, Access::FileTransfer])
    );
}

#[test]
fn unattended_sessions_only_if_every_policy_allows_them() {
    let yes = with_access(|rules| rules.unattended = true);
    let no = with_access(|rules| rules.unattended = false);
    let table = [(vec![yes, yes], true), (vec![yes, no], false), (vec![no, yes], false), (vec![no, no], false)];
    for (policies, expected) in table {
        assert_eq!(merged(&policies).access.unattended, expected, "{policies:?}");
    }
}

#[test]
fn recording_only_if_every_policy_allows_it() {
    let yes = with_access(|rules| rules.recording = true);
    let no = with_access(|rules| rules.recording = false);
    let table = [(vec![yes, yes], true), (vec![yes, no], false), (vec![no, yes], false)];
    for (policies, expected) in table {
        assert_eq!(merged(&policies).access.recording, expected, "{policies:?}");
    }
}

/// A deterministic spread of policies touching every field: a small
/// xorshift generator, so the test needs no new dependency.
fn sample_policies(count: usize) -> Vec<Policy> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move |below: u32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        u32::try_from(state % u64::from(below)).expect("below a u32")
    };
    (0..count)
        .map(|_| Policy {
            session: SessionPolicy {
                code_lifetime_secs: 10 + next(3000),
                max_wrong_guesses: 1 + next(20),
                user_acceptance: next(2) == 1,
                acceptance_timeout_secs: 10 + next(590),
                server_loss_timeout_secs: 10 + next(290),
            },
            access: AccessRules {
                allowed_modes: PRECEDENCE.into_iter().filter(|_| next(2) == 1).collect(),
                assent_each_time: Access::ALL.into_iter().filter(|_| next(2) == 1).collect(),
                unattended: next(2) == 1,
                idle_timeout_secs: if next(3) == 0 { None } else { Some(60 + next(3600)) },
                recording: next(2) == 1,
                max_file_mib: if next(3) == 0 { None } else { Some(1 + next(100_000)) },
            },
        })
        .collect()
}

#[test]
fn merging_never_loosens_any_policy_it_includes() {
    let policies = sample_policies(40);
    for a in &policies {
        for b in &policies {
            let both = merged(&[*a, *b]);
            assert!(both.is_at_least_as_restrictive_as(a), "{both:?} looser than {a:?}");
            assert!(both.is_at_least_as_restrictive_as(b), "{both:?} looser than {b:?}");
        }
    }
}

/// `policy` with every field loosened a step: longer limits, more tries,
/// no acceptance, every mode, no assent, unattended and recording allowed,
/// files of any size.
fn loosened(policy: &Policy) -> Policy {
    let session = &policy.session;
    Policy {
        session: SessionPolicy {
            code_lifetime_secs: session.code_lifetime_secs + 60,
            max_wrong_guesses: session.max_wrong_guesses + 1,
            user_acceptance: false,
            acceptance_timeout_secs: session.acceptance_timeout_secs + 10,
            server_loss_timeout_secs: session.server_loss_timeout_secs + 5,
        },
        access: AccessRules {
            allowed_modes: ModeSet::all(),
            assent_each_time: AccessSet::empty(),
            unattended: true,
            idle_timeout_secs: None,
            recording: true,
            max_file_mib: None,
        },
    }
}

#[test]
fn merging_with_a_more_permissive_policy_changes_nothing() {
    for strict in sample_policies(200) {
        let permissive = loosened(&strict);
        assert_eq!(merged(&[strict, permissive]), strict);
        assert_eq!(merged(&[permissive, strict]), strict);
        assert!(!permissive.is_at_least_as_restrictive_as(&strict));
    }
}

#[test]
fn the_order_and_repetition_of_policies_do_not_matter() {
    let policies = sample_policies(12);
    for a in &policies {
        for b in &policies {
            assert_eq!(merged(&[*a, *b]), merged(&[*b, *a]), "commutative");
            assert_eq!(merged(&[*a, *a]), *a, "idempotent");
            for c in &policies {
                assert_eq!(merged(&[*a, *b, *c]), merged(&[*c, *a, *b]), "associative");
            }
        }
    }
}

#[test]
fn merging_valid_policies_gives_a_valid_one() {
    let policies = sample_policies(30);
    for policy in &policies {
        assert_eq!(policy.validate(), Ok(()), "{policy:?}");
    }
    assert_eq!(merged(&policies).validate(), Ok(()));
}

#[test]
fn the_default_allows_every_mode_asks_for_the_seeds_kinds_and_stays_attended() {
    let rules = AccessRules::default();
    assert_eq!(rules.allowed_modes, ModeSet::all());
    assert_eq!(
        rules.assent_each_time,
        AccessSet::of(&[
            Access::View,
            Access::Control,
            Access::FileTransfer,
            Access::SystemInfo,
            Access::LocalInputLock,
            Access::PrivacyScreen,
            Access::Draw,
        ])
    );
    assert!(!rules.unattended);
    assert!(!rules.recording);
    assert_eq!(rules.idle_timeout_secs, Some(1800));
    assert_eq!(Policy::default().validate(), Ok(()));
}

#[test]
fn the_stored_session_policy_becomes_a_policy_with_default_access_rules() {
    let stored: SessionPolicy = serde_json::from_str(r#"{"code_lifetime_secs":60}"#).expect("old document");
    let policy = Policy::from(stored);
    assert_eq!(policy.session, stored);
    assert_eq!(policy.access, AccessRules::default());
    let nested: Policy = serde_json::from_str(r#"{"session":{"code_lifetime_secs":60}}"#).expect("parse");
    assert_eq!(nested, policy);
}

#[test]
fn a_policy_document_round_trips_and_refuses_unknown_fields() {
    let policy = with_access(|rules| {
        rules.allowed_modes = ModeSet::of(&[SessionMode::Monitor]);
        rules.idle_timeout_secs = None;
    });
    let text = serde_json::to_string(&policy).expect("serialize");
    assert_eq!(serde_json::from_str::<Policy>(&text).expect("parse"), policy, "{text}");
    assert!(serde_json::from_str::<Policy>(r#"{"access":{"unlock":true}}"#).is_err());
    assert!(serde_json::from_str::<Policy>(r#"{"allowed_modes":["active"]}"#).is_err(), "access rules are nested");
    assert!(serde_json::from_str::<Policy>(r#"{"access":{"allowed_modes":["root"]}}"#).is_err());
}

#[test]
fn an_idle_limit_out_of_range_is_named() {
    for secs in [0, 59, 24 * 60 * 60 + 1] {
        let policy = with_access(|rules| rules.idle_timeout_secs = Some(secs));
        assert_eq!(
            policy.validate().map_err(|invalid| invalid.to_string()),
            Err("idle_timeout_secs must be between 60 and 86400".to_owned()),
            "{secs}"
        );
    }
    let bad_session = with_session(|session| session.max_wrong_guesses = 0);
    assert_eq!(bad_session.validate().map_err(|invalid| invalid.field), Err("max_wrong_guesses"));
}
