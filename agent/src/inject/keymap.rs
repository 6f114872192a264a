//! Physical keys to the keycodes enigo's `Keyboard::raw` presses on X11.
//!
//! The controller names keys by DOM `KeyboardEvent.code`, a physical
//! position, not a character. Pressing the same physical key here (Linux
//! evdev code + 8 = the X keycode) lets this machine's own keyboard layout
//! decide the character, as if the key had been pressed locally: a German
//! technician helping a German user types `z` with the key labelled Z.
//! Mapping to characters instead (`enigo::Key::Unicode`) would type through
//! a US layout and get such keys wrong.

use tether_shared::input::Key;

/// Offset from a Linux evdev key code to the X keycode of the same key.
const X_KEYCODE_OFFSET: u16 = 8;

/// The X keycode of `key`, for `enigo::Keyboard::raw`.
pub fn x11_keycode(key: Key) -> u16 {
    evdev_code(key) + X_KEYCODE_OFFSET
}

/// The Linux evdev code (`linux/input-event-codes.h`) of a physical key.
fn evdev_code(key: Key) -> u16 {
    match key {
        Key::Escape => 1,
        Key::Digit1 => 2,
        Key::Digit2 => 3,
        Key::Digit3 => 4,
        Key::Digit4 => 5,
        Key::Digit5 => 6,
        Key::Digit6 => 7,
        Key::Digit7 => 8,
        Key::Digit8 => 9,
        Key::Digit9 => 10,
        Key::Digit0 => 11,
        Key::Minus => 12,
        Key::Equal => 13,
        Key::Backspace => 14,
        Key::Tab => 15,
        Key::KeyQ => 16,
        Key::KeyW => 17,
        Key::KeyE => 18,
        Key::KeyR => 19,
        Key::KeyT => 20,
        Key::KeyY => 21,
        Key::KeyU => 22,
        Key::KeyI => 23,
        Key::KeyO => 24,
        Key::KeyP => 25,
        Key::BracketLeft => 26,
        Key::BracketRight => 27,
        Key::Enter => 28,
        Key::ControlLeft => 29,
        Key::KeyA => 30,
        Key::KeyS => 31,
        Key::KeyD => 32,
        Key::KeyF => 33,
        Key::KeyG => 34,
        Key::KeyH => 35,
        Key::KeyJ => 36,
        Key::KeyK => 37,
        Key::KeyL => 38,
        Key::Semicolon => 39,
        Key::Quote => 40,
        Key::Backquote => 41,
        Key::ShiftLeft => 42,
        Key::Backslash => 43,
        Key::KeyZ => 44,
        Key::KeyX => 45,
        Key::KeyC => 46,
        Key::KeyV => 47,
        Key::KeyB => 48,
        Key::KeyN => 49,
        Key::KeyM => 50,
        Key::Comma => 51,
        Key::Period => 52,
        Key::Slash => 53,
        Key::ShiftRight => 54,
        Key::NumpadMultiply => 55,
        Key::AltLeft => 56,
        Key::Space => 57,
        Key::CapsLock => 58,
        Key::F1 => 59,
        Key::F2 => 60,
        Key::F3 => 61,
        Key::F4 => 62,
        Key::F5 => 63,
        Key::F6 => 64,
        Key::F7 => 65,
        Key::F8 => 66,
        Key::F9 => 67,
        Key::F10 => 68,
        Key::NumLock => 69,
        Key::ScrollLock => 70,
        Key::Numpad7 => 71,
        Key::Numpad8 => 72,
        Key::Numpad9 => 73,
        Key::NumpadSubtract => 74,
        Key::Numpad4 => 75,
        Key::Numpad5 => 76,
        Key::Numpad6 => 77,
        Key::NumpadAdd => 78,
        Key::Numpad1 => 79,
        Key::Numpad2 => 80,
        Key::Numpad3 => 81,
        Key::Numpad0 => 82,
        Key::NumpadDecimal => 83,
        Key::IntlBackslash => 86,
        Key::F11 => 87,
        Key::F12 => 88,
        Key::NumpadEnter => 96,
        Key::ControlRight => 97,
        Key::NumpadDivide => 98,
        Key::PrintScreen => 99,
        Key::AltRight => 100,
        Key::Home => 102,
        Key::ArrowUp => 103,
        Key::PageUp => 104,
        Key::ArrowLeft => 105,
        Key::ArrowRight => 106,
        Key::End => 107,
        Key::ArrowDown => 108,
        Key::PageDown => 109,
        Key::Insert => 110,
        Key::Delete => 111,
        Key::Pause => 119,
        Key::MetaLeft => 125,
        Key::MetaRight => 126,
        Key::ContextMenu => 127,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_key_maps_to_its_own_x_keycode() {
        let mut seen = HashMap::new();
        for &key in Key::ALL {
            let code = x11_keycode(key);
            assert!((9..=255).contains(&code), "{key:?} → {code} is not an X keycode");
            if let Some(other) = seen.insert(code, key) {
                panic!("{key:?} and {other:?} both map to keycode {code}");
            }
        }
        assert_eq!(seen.len(), Key::ALL.len());
    }

    #[test]
    fn well_known_keys() {
        assert_eq!(x11_keycode(Key::KeyA), 38);
        assert_eq!(x11_keycode(Key::Delete), 119);
        assert_eq!(x11_keycode(Key::ArrowLeft), 113);
        assert_eq!(x11_keycode(Key::ControlLeft), 37);
        assert_eq!(x11_keycode(Key::AltLeft), 64);
    }
}
