//! Which policies apply to a technician and a computer: assignments to
//! pairs of groups, merged when several apply, the default when none does.
//! One behaviour per test.

use tether_shared::access_policy::Policy;
use tether_shared::mode::{ModeSet, SessionMode};
use tether_shared::policy_assignment::{Assignment, PolicyAssignments};

fn allowing(modes: &[SessionMode]) -> Policy {
    let mut policy = Policy::default();
    policy.access.allowed_modes = ModeSet::of(modes);
    policy
}

fn pair(technician_group: &str, target_group: &str, policy: Policy) -> Assignment {
    Assignment { technician_group: technician_group.into(), target_group: target_group.into(), policy }
}

fn book(default: Option<Policy>) -> PolicyAssignments {
    use SessionMode::*;
    PolicyAssignments {
        pairs: vec![
            pair("helpdesk", "laptops", allowing(&[Active, Guidance, Monitor, Chat])),
            pair("helpdesk", "finance", allowing(&[Monitor, Chat])),
            pair("admins", "servers", allowing(&[Active])),
        ],
        default,
    }
}

fn modes(policy: Option<Policy>) -> Option<ModeSet> {
    policy.map(|policy| policy.access.allowed_modes)
}

#[test]
fn a_paired_technician_and_computer_get_that_pairs_policy() {
    use SessionMode::*;
    let effective = book(None).effective(&["helpdesk"], &["laptops"]);
    assert_eq!(modes(effective), Some(ModeSet::of(&[Active, Guidance, Monitor, Chat])));
}

#[test]
fn several_applying_pairs_merge_to_the_most_restrictive() {
    use SessionMode::*;
    let effective = book(None).effective(&["helpdesk"], &["laptops", "finance"]);
    assert_eq!(modes(effective), Some(ModeSet::of(&[Monitor, Chat])));
    let none_in_common = book(None).effective(&["helpdesk", "admins"], &["finance", "servers"]);
    assert_eq!(modes(none_in_common), Some(ModeSet::empty()), "both pairs apply; no mode both allow");
}

#[test]
fn an_unpaired_technician_and_computer_get_the_default() {
    let default = allowing(&[SessionMode::Chat]);
    let table = [(vec!["helpdesk"], vec!["servers"]), (vec!["admins"], vec!["laptops"]), (vec![], vec!["laptops"])];
    for (technician_groups, target_groups) in table {
        let applicable = book(Some(default)).applicable(&technician_groups, &target_groups);
        assert_eq!(applicable, vec![default], "{technician_groups:?} × {target_groups:?}");
    }
}

#[test]
fn without_a_default_an_unpaired_session_has_no_access() {
    assert_eq!(book(None).effective(&["helpdesk"], &["servers"]), None);
    assert_eq!(PolicyAssignments::default().effective::<&str, &str>(&[], &[]), None);
}

#[test]
fn the_default_does_not_apply_where_a_pair_does() {
    let default = allowing(&[SessionMode::Chat]);
    let applicable = book(Some(default)).applicable(&["admins"], &["servers"]);
    assert_eq!(applicable, vec![allowing(&[SessionMode::Active])]);
}

#[test]
fn group_ids_match_exactly() {
    assert_eq!(book(None).effective(&["Helpdesk"], &["laptops"]), None);
    assert_eq!(book(None).effective(&["helpdesk "], &["laptops"]), None);
}

#[test]
fn assignments_travel_as_json() {
    let original = book(Some(Policy::default()));
    let text = serde_json::to_string(&original).expect("serialize");
    assert_eq!(serde_json::from_str::<PolicyAssignments>(&text).expect("parse"), original);
    let empty: PolicyAssignments = serde_json::from_str("{}").expect("parse");
    assert_eq!(empty, PolicyAssignments::default());
    assert!(serde_json::from_str::<PolicyAssignments>(r#"{"pairs":[],"fallback":null}"#).is_err());
}
