//! Fuzzes the connection-code parsers the agent runs on what a person typed
//! or pasted: any text is refused with a reason or read as a code (or link)
//! whose printed forms parse back to the same code, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_shared::connection_code::{CodeInput, ConnectionCode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(code) = ConnectionCode::parse(text) {
        assert_eq!(code.digits().len(), 9);
        assert_eq!(ConnectionCode::parse(&code.to_string()), Ok(code));
        assert_eq!(ConnectionCode::parse(&code.digits()), Ok(code));
    }
    if let Ok(input) = CodeInput::parse(text) {
        let again = match &input.server {
            Some(server) => CodeInput::parse(&input.code.url(server)),
            None => CodeInput::parse(&input.code.to_string()),
        };
        assert_eq!(again, Ok(input));
    }
});
