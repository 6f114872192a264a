//! Session modes: what each may use, and the choice of a mode when policy
//! allows only some (seed: bigfix-broker-session.txt — "the next enabled
//! session mode is used"), never escalating. One behaviour per test.

use tether_shared::access::{Access, AccessSet};
use tether_shared::mode::{ModeSet, PRECEDENCE, SessionMode, choices_for_person, select};

use SessionMode::{Active, Chat, FileTransfer, Guidance, Monitor};

fn modes(list: &[SessionMode]) -> ModeSet {
    ModeSet::of(list)
}

#[test]
fn precedence_is_the_seeds_order() {
    assert_eq!(PRECEDENCE, [Active, Guidance, Monitor, Chat, FileTransfer]);
    assert_eq!(ModeSet::all().iter().collect::<Vec<_>>(), PRECEDENCE);
    for (rank, mode) in PRECEDENCE.into_iter().enumerate() {
        assert_eq!(mode.rank(), rank, "{mode:?}");
    }
}

#[test]
fn modes_have_snake_case_names_and_sets_are_arrays() {
    assert_eq!(serde_json::to_string(&FileTransfer).expect("serialize"), r#""file_transfer""#);
    assert_eq!(
        serde_json::to_string(&modes(&[FileTransfer, Active])).expect("serialize"),
        r#"["active","file_transfer"]"#
    );
    assert!(serde_json::from_str::<ModeSet>(r#"["active","control"]"#).is_err(), "unknown mode");
    assert!(serde_json::from_str::<ModeSet>(r#"["chat","chat"]"#).is_err(), "repeated mode");
}

#[test]
fn what_each_mode_may_use() {
    let table = [
        (Active, AccessSet::all()),
        (Guidance, AccessSet::of(&[Access::View, Access::Chat, Access::Draw])),
        (Monitor, AccessSet::of(&[Access::View, Access::Chat])),
        (Chat, AccessSet::of(&[Access::Chat])),
        (FileTransfer, AccessSet::of(&[Access::FileTransfer, Access::Chat])),
    ];
    for (mode, access) in table {
        assert_eq!(mode.access(), access, "{mode:?}");
    }
}

#[test]
fn only_active_controls_the_computer() {
    let controlling: Vec<_> = PRECEDENCE.into_iter().filter(|mode| mode.access().contains(Access::Control)).collect();
    assert_eq!(controlling, [Active], "Guidance points and draws but never injects input");
}

#[test]
fn an_allowed_request_is_kept() {
    for mode in PRECEDENCE {
        assert_eq!(select(mode, &ModeSet::all()), Some(mode));
        assert_eq!(select(mode, &modes(&[mode])), Some(mode));
    }
}

#[test]
fn without_active_the_next_allowed_mode_is_used_in_the_seeds_order() {
    let table = [
        (modes(&[Guidance, Monitor, Chat, FileTransfer]), Some(Guidance)),
        (modes(&[Monitor, Chat, FileTransfer]), Some(Monitor)),
        (modes(&[Chat, FileTransfer]), Some(Chat)),
        (modes(&[FileTransfer]), Some(FileTransfer)),
        (modes(&[Guidance, FileTransfer]), Some(Guidance)),
        (modes(&[Monitor, FileTransfer]), Some(Monitor)),
        (ModeSet::empty(), None),
    ];
    for (allowed, expected) in table {
        assert_eq!(select(Active, &allowed), expected, "allowed {allowed:?}");
    }
}

#[test]
fn a_fallback_is_never_a_mode_before_the_requested_one() {
    assert_eq!(select(Monitor, &modes(&[Active, Guidance])), None);
    assert_eq!(select(Chat, &modes(&[Active, Guidance, Monitor])), None);
    assert_eq!(select(Guidance, &modes(&[Active, Monitor])), Some(Monitor));
}

#[test]
fn a_fallback_never_uses_access_the_requested_mode_lacks() {
    // A request to watch or to chat must not turn into a file transfer.
    assert_eq!(select(Monitor, &modes(&[FileTransfer])), None);
    assert_eq!(select(Chat, &modes(&[FileTransfer])), None);
    assert_eq!(select(Guidance, &modes(&[FileTransfer])), None);
    assert_eq!(select(Monitor, &modes(&[Chat, FileTransfer])), Some(Chat));
}

#[test]
fn a_selected_mode_never_escalates_for_any_request_and_policy() {
    for requested in PRECEDENCE {
        for bits in 0..32_u32 {
            let allowed: ModeSet = PRECEDENCE.into_iter().filter(|mode| bits & (1 << mode.rank()) != 0).collect();
            if let Some(chosen) = select(requested, &allowed) {
                assert!(allowed.contains(chosen), "{requested:?} in {allowed:?} chose {chosen:?}");
                assert!(chosen.rank() >= requested.rank(), "{requested:?} in {allowed:?} chose {chosen:?}");
                assert!(chosen.access().is_subset(requested.access()), "{requested:?} in {allowed:?} chose {chosen:?}");
            }
        }
    }
}

#[test]
fn the_person_may_pick_an_allowed_mode_below_the_offered_one() {
    let table = [
        (Active, ModeSet::all(), modes(&[Guidance, Monitor, Chat, FileTransfer])),
        (Active, modes(&[Active, Monitor, Chat]), modes(&[Monitor, Chat])),
        (Guidance, ModeSet::all(), modes(&[Monitor, Chat])),
        (Monitor, ModeSet::all(), modes(&[Chat])),
        (Chat, ModeSet::all(), ModeSet::empty()),
        (FileTransfer, ModeSet::all(), ModeSet::empty()),
        (Active, modes(&[Active]), ModeSet::empty()),
    ];
    for (offered, allowed, choices) in table {
        assert_eq!(choices_for_person(offered, &allowed), choices, "offered {offered:?}, allowed {allowed:?}");
    }
}

#[test]
fn the_persons_choices_leave_out_the_offered_mode_and_everything_above_it() {
    let choices = choices_for_person(Monitor, &ModeSet::all());
    for above_or_same in [Active, Guidance, Monitor] {
        assert!(!choices.contains(above_or_same), "{above_or_same:?}");
    }
}

#[test]
fn every_mode_has_a_name_and_a_line_for_the_person() {
    let lines: Vec<String> =
        PRECEDENCE.into_iter().map(|mode| format!("{}: {}", mode.name(), mode.description())).collect();
    assert_eq!(
        lines,
        [
            "Active: The technician sees your screen and uses your mouse and keyboard.",
            "Guidance: The technician sees your screen and points or draws on it; only you use your mouse and keyboard.",
            "Monitor: The technician sees your screen but cannot use your mouse or keyboard.",
            "Chat: You and the technician exchange chat messages; nothing else is shared.",
            "File transfer: The technician sends and takes files; your screen is not shared.",
        ]
    );
}

#[test]
fn a_modes_key_is_its_wire_name_and_reads_back() {
    for mode in PRECEDENCE {
        assert_eq!(serde_json::to_value(mode).expect("a mode serializes"), serde_json::json!(mode.key()));
        assert_eq!(SessionMode::from_key(mode.key()), Some(mode));
    }
    assert_eq!(SessionMode::from_key("root"), None);
    assert_eq!(SessionMode::from_key("Monitor"), None, "keys are exact");
}

#[test]
fn a_mode_is_within_itself_and_narrower_only_than_modes_holding_all_it_uses() {
    for mode in PRECEDENCE {
        assert!(mode.is_within(mode) && !mode.is_narrower_than(mode), "{mode:?}");
    }
    assert!(Monitor.is_narrower_than(Active) && Chat.is_narrower_than(Monitor));
    assert!(Monitor.is_narrower_than(Guidance), "same access, later in precedence");
    assert!(!Guidance.is_narrower_than(Monitor), "Guidance draws on the screen");
    assert!(!FileTransfer.is_narrower_than(Monitor) && !Monitor.is_narrower_than(FileTransfer));
}
