//! Fuzzes both control-channel decoders: arbitrary bytes are refused with a
//! reason or decoded into a message whose numbers are in range and that
//! survives a round trip, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_shared::control::{
    AgentToController, MAX_CURSOR_SIDE, MAX_SCREEN_SIDE, decode_from_agent, decode_from_controller, encode,
};
use tether_shared::monitor::MAX_MONITORS;
use tether_shared::privacy::PrivacyState;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode_from_controller(data) {
        assert_eq!(decode_from_controller(encode(&message).as_bytes()), Ok(message));
    }
    if let Ok(message) = decode_from_agent(data) {
        match &message {
            AgentToController::Applied { screen_width, screen_height, .. } => {
                assert!(*screen_width <= MAX_SCREEN_SIDE && *screen_height <= MAX_SCREEN_SIDE);
            }
            AgentToController::Cursor { x, y, .. } => assert!(*x <= MAX_SCREEN_SIDE && *y <= MAX_SCREEN_SIDE),
            AgentToController::CursorShape(shape) => {
                assert!(shape.width <= MAX_CURSOR_SIDE && shape.height <= MAX_CURSOR_SIDE);
                assert!(shape.hot_x < shape.width && shape.hot_y < shape.height);
            }
            AgentToController::Monitors { monitors, .. } => {
                assert!(monitors.len() <= MAX_MONITORS);
                assert!(monitors.iter().all(|m| m.width >= 1 && m.x <= MAX_SCREEN_SIDE && !m.name.is_empty()));
            }
            AgentToController::Privacy { state: PrivacyState::On { monitors } } => {
                assert!((1..=MAX_MONITORS).contains(&usize::try_from(*monitors).unwrap_or(usize::MAX)));
            }
            AgentToController::LocalUse { .. }
            | AgentToController::Lock { .. }
            | AgentToController::Privacy { .. }
            | AgentToController::Path { .. } => {}
        }
        assert_eq!(decode_from_agent(encode(&message).as_bytes()), Ok(message));
    }
});
