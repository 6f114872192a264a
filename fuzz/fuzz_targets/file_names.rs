//! Fuzzes the file-name checks: any name they accept stays inside its folder,
//! within the length limit, and the names derived from it (numbered copies and
//! the partial-download name) are accepted too, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_shared::files::name::{
    MAX_NAME_BYTES, SafeName, check_file_name, check_path_component, numbered, partial_name,
};

fn assert_contained(name: &str) {
    assert!(!name.contains(['/', '\\', '\0']), "{name:?}");
    assert!(name != "." && name != "..");
    assert!(!name.is_empty() && name.len() <= MAX_NAME_BYTES, "{name:?}");
}

fn assert_browsable(name: &str) {
    assert_contained(name);
    assert_eq!(check_path_component(name).map(SafeName::into_string).as_deref(), Ok(name));
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(component) = check_path_component(text) {
        assert_eq!(component.as_str(), text);
        assert_contained(component.as_str());
    }
    if let Ok(name) = check_file_name(text) {
        assert_eq!(name.as_str(), text);
        assert_contained(name.as_str());
        assert!(check_path_component(text).is_ok());
        for n in 1..3 {
            let copy = numbered(&name, n);
            assert_browsable(copy.as_str());
            assert!(check_file_name(copy.as_str()).is_ok(), "{copy}");
        }
        assert_browsable(&partial_name(&name));
    }
});
