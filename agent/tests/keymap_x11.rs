//! The physical-key table against a real X server: on Xvfb's default (US,
//! evdev) keymap, every key's X keycode carries the keysym that key has.

#![allow(clippy::unwrap_used)]

mod common;

use common::Xvfb;
use tether_agent::inject::keymap::x11_keycode;
use tether_shared::input::Key;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::ConnectionExt;

/// The first (unshifted) keysym of each key on a US layout.
fn us_keysym(key: Key) -> u32 {
    let letter = |c: char| u32::from(c);
    match key {
        Key::KeyA => letter('a'),
        Key::KeyB => letter('b'),
        Key::KeyC => letter('c'),
        Key::KeyD => letter('d'),
        Key::KeyE => letter('e'),
        Key::KeyF => letter('f'),
        Key::KeyG => letter('g'),
        Key::KeyH => letter('h'),
        Key::KeyI => letter('i'),
        Key::KeyJ => letter('j'),
        Key::KeyK => letter('k'),
        Key::KeyL => letter('l'),
        Key::KeyM => letter('m'),
        Key::KeyN => letter('n'),
        Key::KeyO => letter('o'),
        Key::KeyP => letter('p'),
        Key::KeyQ => letter('q'),
        Key::KeyR => letter('r'),
        Key::KeyS => letter('s'),
        Key::KeyT => letter('t'),
        Key::KeyU => letter('u'),
        Key::KeyV => letter('v'),
        Key::KeyW => letter('w'),
        Key::KeyX => letter('x'),
        Key::KeyY => letter('y'),
        Key::KeyZ => letter('z'),
        Key::Digit0 => letter('0'),
        Key::Digit1 => letter('1'),
        Key::Digit2 => letter('2'),
        Key::Digit3 => letter('3'),
        Key::Digit4 => letter('4'),
        Key::Digit5 => letter('5'),
        Key::Digit6 => letter('6'),
        Key::Digit7 => letter('7'),
        Key::Digit8 => letter('8'),
        Key::Digit9 => letter('9'),
        Key::Minus => letter('-'),
        Key::Equal => letter('='),
        Key::BracketLeft => letter('['),
        Key::BracketRight => letter(']'),
        Key::Backslash => letter('\\'),
        Key::Semicolon => letter(';'),
        Key::Quote => letter('\''),
        Key::Backquote => letter('`'),
        Key::Comma => letter(','),
        Key::Period => letter('.'),
        Key::Slash => letter('/'),
        Key::IntlBackslash => letter('<'),
        Key::Space => letter(' '),
        Key::Enter => 0xff0d,
        Key::Escape => 0xff1b,
        Key::Backspace => 0xff08,
        Key::Tab => 0xff09,
        Key::CapsLock => 0xffe5,
        Key::F1 => 0xffbe,
        Key::F2 => 0xffbf,
        Key::F3 => 0xffc0,
        Key::F4 => 0xffc1,
        Key::F5 => 0xffc2,
        Key::F6 => 0xffc3,
        Key::F7 => 0xffc4,
        Key::F8 => 0xffc5,
        Key::F9 => 0xffc6,
        Key::F10 => 0xffc7,
        Key::F11 => 0xffc8,
        Key::F12 => 0xffc9,
        Key::PrintScreen => 0xff61,
        Key::ScrollLock => 0xff14,
        Key::Pause => 0xff13,
        Key::Insert => 0xff63,
        Key::Delete => 0xffff,
        Key::Home => 0xff50,
        Key::End => 0xff57,
        Key::PageUp => 0xff55,
        Key::PageDown => 0xff56,
        Key::ArrowUp => 0xff52,
        Key::ArrowDown => 0xff54,
        Key::ArrowLeft => 0xff51,
        Key::ArrowRight => 0xff53,
        Key::NumLock => 0xff7f,
        Key::NumpadDivide => 0xffaf,
        Key::NumpadMultiply => 0xffaa,
        Key::NumpadSubtract => 0xffad,
        Key::NumpadAdd => 0xffab,
        Key::NumpadEnter => 0xff8d,
        // With Num Lock off, the keypad's first level is navigation.
        Key::NumpadDecimal => 0xff9f,
        Key::Numpad0 => 0xff9e,
        Key::Numpad1 => 0xff9c,
        Key::Numpad2 => 0xff99,
        Key::Numpad3 => 0xff9b,
        Key::Numpad4 => 0xff96,
        Key::Numpad5 => 0xff9d,
        Key::Numpad6 => 0xff98,
        Key::Numpad7 => 0xff95,
        Key::Numpad8 => 0xff97,
        Key::Numpad9 => 0xff9a,
        Key::ShiftLeft => 0xffe1,
        Key::ShiftRight => 0xffe2,
        Key::ControlLeft => 0xffe3,
        Key::ControlRight => 0xffe4,
        Key::AltLeft => 0xffe9,
        Key::AltRight => 0xffea,
        Key::MetaLeft => 0xffeb,
        Key::MetaRight => 0xffec,
        Key::ContextMenu => 0xff67,
    }
}

#[test]
fn every_key_presses_the_key_it_names() {
    let xvfb = Xvfb::start(64, 64);
    let (conn, _) = x11rb::connect(Some(&xvfb.display)).unwrap();
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let mapping = conn.get_keyboard_mapping(min, max - min + 1).unwrap().reply().unwrap();
    let per_keycode = usize::from(mapping.keysyms_per_keycode);
    let wrong: Vec<String> = Key::ALL
        .iter()
        .filter_map(|&key| {
            let keycode = u8::try_from(x11_keycode(key)).unwrap();
            let first = mapping.keysyms[usize::from(keycode - min) * per_keycode];
            (first != us_keysym(key)).then(|| format!("{key:?}: keycode {keycode} has keysym {first:#x}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
