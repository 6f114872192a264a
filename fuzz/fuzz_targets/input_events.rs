//! Fuzzes the agent's input-event decoder: arbitrary bytes are refused with
//! a reason or decoded into an event that lies on the screen and survives a
//! round trip, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_shared::input::{InputEvent, ScreenSize, decode_input, encode_input};

const SCREEN: ScreenSize = ScreenSize { width: 1920, height: 1080 };

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = decode_input(data, SCREEN) {
        if let InputEvent::MouseMove { x, y } | InputEvent::MouseButton { x, y, .. } = event {
            assert!(x < SCREEN.width && y < SCREEN.height);
        }
        assert_eq!(decode_input(encode_input(&event).as_bytes(), SCREEN), Ok(event));
    }
});
