//! Fuzzes the signalling messages both WebSockets parse (each direction's
//! enum), the SDP fingerprint reader the agent runs on every offer and the
//! chat line check both ends' lines go through: arbitrary bytes are
//! refused or parsed into a message that survives a round trip, never a
//! panic, and an accepted chat line is within its limits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tether_shared::chat::{MAX_CHAT_CHARS, check_text};
use tether_shared::signal::{AgentToServer, ControllerToServer, ServerToAgent, ServerToController, dtls_fingerprint};

fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(text: &str) {
    if let Ok(message) = serde_json::from_str::<T>(text) {
        let again = serde_json::to_string(&message).expect("a parsed message serialises");
        assert_eq!(serde_json::from_str::<T>(&again).expect("and parses again"), message);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    round_trips::<ControllerToServer>(text);
    round_trips::<AgentToServer>(text);
    round_trips::<ServerToAgent>(text);
    round_trips::<ServerToController>(text);
    if let Ok(line) = check_text(text) {
        assert!(!line.is_empty() && line.chars().count() <= MAX_CHAT_CHARS);
        assert!(!line.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        assert_eq!(check_text(&line).as_deref(), Ok(line.as_str()), "a checked line checks again unchanged");
    }
    if let Some(fingerprint) = dtls_fingerprint(text) {
        assert!(!fingerprint.is_empty() && !fingerprint.chars().any(|c| c.is_ascii_uppercase()));
    }
});
