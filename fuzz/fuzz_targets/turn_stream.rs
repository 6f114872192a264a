//! Fuzzes the cutting of a TURN stream into messages: arbitrary bytes are
//! cut into messages that lie within what was read, each at least a
//! header long and its padding under four bytes, or refused; never a
//! panic, never a message past the bytes there are.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_shared::turn_stream::{next_message, padding, relayed_address};

fuzz_target!(|data: &[u8]| {
    let _ = relayed_address(data);
    let mut rest = data;
    while let Ok(Some(framed)) = next_message(rest) {
        assert!(framed.message >= 4 && framed.message <= framed.on_stream && framed.on_stream <= rest.len());
        assert!(framed.on_stream - framed.message < 4);
        assert_eq!(framed.message + padding(&rest[..framed.message]), framed.on_stream);
        let _ = relayed_address(&rest[..framed.message]);
        rest = &rest[framed.on_stream..];
    }
});
