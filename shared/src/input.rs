//! Remote input: the events the controller sends over the input data
//! channel, and the strict decoder the agent runs on every message before
//! anything reaches the operating system.
//!
//! Events are small JSON objects tagged by `t`. Keys are named by the DOM
//! `KeyboardEvent.code` they come from (layout-independent physical keys),
//! and only codes in [`Key`] are accepted. Coordinates are in the target
//! display's pixels and must lie on it.

use serde::{Deserialize, Serialize};

/// Largest input message accepted, in bytes.
pub const MAX_INPUT_MESSAGE_BYTES: usize = 1024;
/// Most characters one `text` event may carry.
pub const MAX_TEXT_CHARS: usize = 256;
/// Largest wheel movement in one event, in notches per axis.
pub const MAX_WHEEL_NOTCHES: i32 = 20;

/// A mouse button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MouseButton {
    Left,
    Middle,
    Right,
    Back,
    Forward,
}

macro_rules! keys {
    ($($variant:ident = $code:literal,)*) => {
        /// A physical key, named after its DOM `KeyboardEvent.code`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Key {
            $(#[doc = $code] $variant,)*
        }

        impl Key {
            /// Every key, for tables and tests.
            pub const ALL: &'static [Key] = &[$(Key::$variant,)*];

            /// The DOM `code` string.
            pub fn code(self) -> &'static str {
                match self {
                    $(Key::$variant => $code,)*
                }
            }

            /// The key for a DOM `code`, if it is one we handle.
            pub fn from_code(code: &str) -> Option<Key> {
                match code {
                    $($code => Some(Key::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

keys! {
    KeyA = "KeyA", KeyB = "KeyB", KeyC = "KeyC", KeyD = "KeyD", KeyE = "KeyE", KeyF = "KeyF",
    KeyG = "KeyG", KeyH = "KeyH", KeyI = "KeyI", KeyJ = "KeyJ", KeyK = "KeyK", KeyL = "KeyL",
    KeyM = "KeyM", KeyN = "KeyN", KeyO = "KeyO", KeyP = "KeyP", KeyQ = "KeyQ", KeyR = "KeyR",
    KeyS = "KeyS", KeyT = "KeyT", KeyU = "KeyU", KeyV = "KeyV", KeyW = "KeyW", KeyX = "KeyX",
    KeyY = "KeyY", KeyZ = "KeyZ",
    Digit0 = "Digit0", Digit1 = "Digit1", Digit2 = "Digit2", Digit3 = "Digit3", Digit4 = "Digit4",
    Digit5 = "Digit5", Digit6 = "Digit6", Digit7 = "Digit7", Digit8 = "Digit8", Digit9 = "Digit9",
    Minus = "Minus", Equal = "Equal", BracketLeft = "BracketLeft", BracketRight = "BracketRight",
    Backslash = "Backslash", Semicolon = "Semicolon", Quote = "Quote", Backquote = "Backquote",
    Comma = "Comma", Period = "Period", Slash = "Slash", IntlBackslash = "IntlBackslash",
    Enter = "Enter", Escape = "Escape", Backspace = "Backspace", Tab = "Tab", Space = "Space",
    CapsLock = "CapsLock",
    F1 = "F1", F2 = "F2", F3 = "F3", F4 = "F4", F5 = "F5", F6 = "F6", F7 = "F7", F8 = "F8",
    F9 = "F9", F10 = "F10", F11 = "F11", F12 = "F12",
    PrintScreen = "PrintScreen", ScrollLock = "ScrollLock", Pause = "Pause",
    Insert = "Insert", Delete = "Delete", Home = "Home", End = "End", PageUp = "PageUp", PageDown = "PageDown",
    ArrowUp = "ArrowUp", ArrowDown = "ArrowDown", ArrowLeft = "ArrowLeft", ArrowRight = "ArrowRight",
    NumLock = "NumLock", NumpadDivide = "NumpadDivide", NumpadMultiply = "NumpadMultiply",
    NumpadSubtract = "NumpadSubtract", NumpadAdd = "NumpadAdd", NumpadEnter = "NumpadEnter",
    NumpadDecimal = "NumpadDecimal", Numpad0 = "Numpad0", Numpad1 = "Numpad1", Numpad2 = "Numpad2",
    Numpad3 = "Numpad3", Numpad4 = "Numpad4", Numpad5 = "Numpad5", Numpad6 = "Numpad6",
    Numpad7 = "Numpad7", Numpad8 = "Numpad8", Numpad9 = "Numpad9",
    ShiftLeft = "ShiftLeft", ShiftRight = "ShiftRight", ControlLeft = "ControlLeft",
    ControlRight = "ControlRight", AltLeft = "AltLeft", AltRight = "AltRight",
    MetaLeft = "MetaLeft", MetaRight = "MetaRight", ContextMenu = "ContextMenu",
}

impl Key {
    /// Whether this is a modifier (released by [`InputEvent::ReleaseAll`]).
    pub fn is_modifier(self) -> bool {
        matches!(
            self,
            Key::ShiftLeft
                | Key::ShiftRight
                | Key::ControlLeft
                | Key::ControlRight
                | Key::AltLeft
                | Key::AltRight
                | Key::MetaLeft
                | Key::MetaRight
        )
    }
}

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Key::from_code(&code).ok_or_else(|| serde::de::Error::custom(format!("unknown key code {code:?}")))
    }
}

/// One input event from the controller. Added in protocol version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum InputEvent {
    /// The pointer moved to `(x, y)` on the target display.
    MouseMove { x: u32, y: u32 },
    /// A button went down or up at `(x, y)`.
    MouseButton { button: MouseButton, down: bool, x: u32, y: u32 },
    /// The wheel turned, in notches; positive `dy` scrolls down, positive `dx` right.
    Wheel { dx: i32, dy: i32 },
    /// A physical key went down or up.
    Key { key: Key, down: bool },
    /// Text to type as is (from paste or an input method).
    Text { text: String },
    /// Ctrl-Alt-Del (the secure attention sequence).
    SecureAttention,
    /// Release every key and button the controller may hold (focus lost).
    ReleaseAll,
}

/// The target display's size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScreenSize {
    pub width: u32,
    pub height: u32,
}

/// Why an input message was refused. The session goes on; the agent logs
/// the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputRejected {
    /// Longer than [`MAX_INPUT_MESSAGE_BYTES`].
    #[error("input message of {0} bytes is over the {MAX_INPUT_MESSAGE_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not a well-formed event (bad JSON, unknown type or key, extra fields).
    #[error("malformed input message: {0}")]
    Malformed(String),
    /// A position outside the display.
    #[error("position ({x}, {y}) is outside the {width}x{height} display")]
    OffScreen { x: u32, y: u32, width: u32, height: u32 },
    /// A wheel movement beyond [`MAX_WHEEL_NOTCHES`].
    #[error("wheel movement ({dx}, {dy}) is beyond ±{MAX_WHEEL_NOTCHES} notches")]
    WheelTooFar { dx: i32, dy: i32 },
    /// Empty text, control characters other than tab and newline, or more than [`MAX_TEXT_CHARS`].
    #[error("text must be 1 to {MAX_TEXT_CHARS} printable characters")]
    BadText,
}

/// Decodes and checks one input message against the display it targets.
pub fn decode_input(bytes: &[u8], screen: ScreenSize) -> Result<InputEvent, InputRejected> {
    if bytes.len() > MAX_INPUT_MESSAGE_BYTES {
        return Err(InputRejected::TooLarge(bytes.len()));
    }
    let event: InputEvent = serde_json::from_slice(bytes).map_err(|err| InputRejected::Malformed(err.to_string()))?;
    let on_screen = |x: u32, y: u32| {
        if x < screen.width && y < screen.height {
            Ok(())
        } else {
            Err(InputRejected::OffScreen { x, y, width: screen.width, height: screen.height })
        }
    };
    match &event {
        InputEvent::MouseMove { x, y } | InputEvent::MouseButton { x, y, .. } => on_screen(*x, *y)?,
        InputEvent::Wheel { dx, dy } => {
            if dx.abs() > MAX_WHEEL_NOTCHES || dy.abs() > MAX_WHEEL_NOTCHES {
                return Err(InputRejected::WheelTooFar { dx: *dx, dy: *dy });
            }
        }
        InputEvent::Text { text } => {
            let count = text.chars().count();
            let printable = text.chars().all(|c| !c.is_control() || c == '\t' || c == '\n');
            if count == 0 || count > MAX_TEXT_CHARS || !printable {
                return Err(InputRejected::BadText);
            }
        }
        InputEvent::Key { .. } | InputEvent::SecureAttention | InputEvent::ReleaseAll => {}
    }
    Ok(event)
}

/// Encodes an event for the data channel.
pub fn encode_input(event: &InputEvent) -> String {
    // Serialising these plain enums cannot fail.
    serde_json::to_string(event).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: ScreenSize = ScreenSize { width: 1280, height: 720 };

    fn round_trip(event: InputEvent) {
        let text = encode_input(&event);
        assert_eq!(decode_input(text.as_bytes(), SCREEN), Ok(event), "{text}");
    }

    #[test]
    fn every_variant_round_trips() {
        round_trip(InputEvent::MouseMove { x: 0, y: 719 });
        for button in
            [MouseButton::Left, MouseButton::Middle, MouseButton::Right, MouseButton::Back, MouseButton::Forward]
        {
            round_trip(InputEvent::MouseButton { button, down: true, x: 1279, y: 0 });
        }
        round_trip(InputEvent::Wheel { dx: -3, dy: 20 });
        for &key in Key::ALL {
            round_trip(InputEvent::Key { key, down: false });
        }
        round_trip(InputEvent::Text { text: "héllo\twörld\n".into() });
        round_trip(InputEvent::SecureAttention);
        round_trip(InputEvent::ReleaseAll);
    }

    #[test]
    fn wire_format_is_stable() {
        assert_eq!(
            encode_input(&InputEvent::Key { key: Key::KeyA, down: true }),
            r#"{"t":"key","key":"KeyA","down":true}"#
        );
        assert_eq!(encode_input(&InputEvent::MouseMove { x: 5, y: 6 }), r#"{"t":"mouse_move","x":5,"y":6}"#);
        assert_eq!(encode_input(&InputEvent::SecureAttention), r#"{"t":"secure_attention"}"#);
    }

    #[test]
    fn hostile_messages_are_refused() {
        let reject = |text: &str| decode_input(text.as_bytes(), SCREEN).expect_err(text);
        assert!(matches!(reject("not json"), InputRejected::Malformed(_)));
        assert!(matches!(reject(r#"{"t":"format_disk"}"#), InputRejected::Malformed(_)));
        assert!(matches!(reject(r#"{"t":"key","key":"KeyÆ","down":true}"#), InputRejected::Malformed(_)));
        assert!(matches!(reject(r#"{"t":"key","key":"KeyA","down":true,"repeat":9}"#), InputRejected::Malformed(_)));
        assert!(matches!(reject(r#"{"t":"mouse_move","x":-1,"y":0}"#), InputRejected::Malformed(_)));
        assert_eq!(
            reject(r#"{"t":"mouse_move","x":1280,"y":0}"#),
            InputRejected::OffScreen { x: 1280, y: 0, width: 1280, height: 720 }
        );
        assert_eq!(reject(r#"{"t":"wheel","dx":0,"dy":1000}"#), InputRejected::WheelTooFar { dx: 0, dy: 1000 });
        assert_eq!(reject(r#"{"t":"text","text":""}"#), InputRejected::BadText);
        assert_eq!(reject(r#"{"t":"text","text":"a\u0007b"}"#), InputRejected::BadText);
        let long = format!(r#"{{"t":"text","text":"{}"}}"#, "x".repeat(2000));
        assert_eq!(reject(&long), InputRejected::TooLarge(long.len()));
    }

    #[test]
    fn key_codes_are_unique() {
        for (i, a) in Key::ALL.iter().enumerate() {
            assert_eq!(Key::from_code(a.code()), Some(*a));
            assert!(Key::ALL[i + 1..].iter().all(|b| a.code() != b.code()));
        }
    }
}
