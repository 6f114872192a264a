//! Kinds of access and their sets: the JSON a policy or grant carries, the
//! set operations merging and checking rely on, and the words a prompt
//! shows. One behaviour per test.

use tether_shared::access::{Access, AccessSet};

fn set(kinds: &[Access]) -> AccessSet {
    AccessSet::of(kinds)
}

#[test]
fn each_kind_has_a_snake_case_name() {
    let names: Vec<String> = Access::ALL.iter().map(|kind| serde_json::to_string(kind).expect("serialize")).collect();
    assert_eq!(
        names,
        [
            r#""view""#,
            r#""control""#,
            r#""file_transfer""#,
            r#""system_info""#,
            r#""clipboard""#,
            r#""chat""#,
            r#""privacy_screen""#,
            r#""local_input_lock""#,
            r#""draw""#
        ]
    );
}

#[test]
fn a_set_is_a_json_array_in_declaration_order_whatever_the_insertion_order() {
    let chat_then_view = set(&[Access::Chat, Access::View]);
    assert_eq!(serde_json::to_string(&chat_then_view).expect("serialize"), r#"["view","chat"]"#);
    assert_eq!(chat_then_view.iter().collect::<Vec<_>>(), [Access::View, Access::Chat]);
}

#[test]
fn a_set_reads_back_what_it_wrote() {
    let table = [AccessSet::empty(), set(&[Access::Clipboard]), set(&[Access::View, Access::Chat]), AccessSet::all()];
    for original in table {
        let text = serde_json::to_string(&original).expect("serialize");
        assert_eq!(serde_json::from_str::<AccessSet>(&text).expect("parse"), original, "{text}");
    }
}

#[test]
fn reading_a_set_refuses_unknown_names_repeats_and_other_shapes() {
    let table = [
        (r#"["view","elevate"]"#, "unknown name"),
        (r#"["view","view"]"#, "listed twice"),
        (r#"["View"]"#, "names are snake_case"),
        (r#""view""#, "not an array"),
        (r#"{"view":true}"#, "not an array"),
        (r#"[1]"#, "not a name"),
        ("null", "not an array"),
    ];
    for (json, why) in table {
        assert!(serde_json::from_str::<AccessSet>(json).is_err(), "{json} should be refused: {why}");
    }
}

#[test]
fn repeats_in_code_count_once() {
    let twice = set(&[Access::View, Access::View]);
    assert_eq!(twice.len(), 1);
    let mut growing = AccessSet::empty();
    assert!(growing.insert(Access::Chat), "new");
    assert!(!growing.insert(Access::Chat), "already there");
    assert_eq!(growing, set(&[Access::Chat]));
}

#[test]
fn union_and_intersection() {
    let screen = set(&[Access::View, Access::Control]);
    let talk = set(&[Access::View, Access::Chat]);
    assert_eq!(screen.union(talk), set(&[Access::View, Access::Control, Access::Chat]));
    assert_eq!(screen.intersection(talk), set(&[Access::View]));
    assert_eq!(screen.difference(talk), set(&[Access::Control]));
    assert_eq!(screen.intersection(set(&[Access::Chat])), AccessSet::empty());
}

#[test]
fn contains_and_subsets() {
    let screen = set(&[Access::View, Access::Control]);
    assert!(screen.contains(Access::Control));
    assert!(!screen.contains(Access::Clipboard));
    let table = [
        (AccessSet::empty(), screen, true),
        (set(&[Access::View]), screen, true),
        (screen, screen, true),
        (screen, set(&[Access::View]), false),
        (set(&[Access::Chat]), screen, false),
        (screen, AccessSet::all(), true),
    ];
    for (part, whole, expected) in table {
        assert_eq!(part.is_subset(whole), expected, "{part:?} ⊆ {whole:?}");
    }
}

#[test]
fn removing_takes_a_kind_out_once() {
    let mut screen = set(&[Access::View, Access::Control]);
    assert!(screen.remove(Access::Control));
    assert!(!screen.remove(Access::Control));
    assert_eq!(screen, set(&[Access::View]));
    assert!(!AccessSet::empty().contains(Access::View));
    assert!(AccessSet::empty().is_empty());
}

#[test]
fn every_kind_reads_as_a_prompt_to_the_person() {
    let prompts: Vec<String> =
        Access::ALL.iter().map(|kind| format!("The technician wants to {}.", kind.describe())).collect();
    assert_eq!(
        prompts,
        [
            "The technician wants to see your screen.",
            "The technician wants to use your mouse and keyboard.",
            "The technician wants to send files to and take files from your computer.",
            "The technician wants to read your computer's system information.",
            "The technician wants to read and change your clipboard.",
            "The technician wants to chat with you.",
            "The technician wants to hide your screen from the room and lock your mouse and keyboard while they work.",
            "The technician wants to lock your mouse and keyboard for a while.",
            "The technician wants to point and draw on your screen.",
        ]
    );
}

#[test]
fn a_set_debugs_as_its_kinds() {
    assert_eq!(format!("{:?}", set(&[Access::Chat, Access::View])), "{View, Chat}");
}
