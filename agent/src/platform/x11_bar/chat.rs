//! Chat on the session bar, pure: what a key does to the line being typed
//! (from its X keysym), and the line itself — at most
//! [`tether_shared::chat::MAX_CHAT_CHARS`], sent with Enter, dropped with
//! Escape. The bar's thread feeds it key presses and draws what it holds.

use tether_shared::chat::MAX_CHAT_CHARS;

/// What one key press means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character to type.
    Char(char),
    /// Erase the last character.
    Erase,
    /// Send the line.
    Send,
    /// Close the chat row.
    Close,
}

/// The key an X keysym stands for, if it means anything here: Latin-1
/// characters are their own keysyms, other characters `0x0100_0000` plus
/// their code point.
pub fn key_of(keysym: u32) -> Option<Key> {
    match keysym {
        0xff08 => Some(Key::Erase),
        0xff0d | 0xff8d => Some(Key::Send),
        0xff1b => Some(Key::Close),
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(keysym).map(Key::Char),
        0x0100_0100..=0x0110_ffff => char::from_u32(keysym - 0x0100_0000).filter(|c| !c.is_control()).map(Key::Char),
        _ => None,
    }
}

/// The line being typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatField {
    typed: String,
}

/// What a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    /// The line changed (or not): draw it again.
    Changed,
    /// Send this line (already taken out of the field).
    Send(String),
    /// Close the chat row.
    Close,
}

impl ChatField {
    /// The line so far.
    pub fn text(&self) -> &str {
        &self.typed
    }

    /// Applies `key`.
    pub fn press(&mut self, key: Key) -> Typed {
        match key {
            Key::Char(c) if self.typed.chars().count() < MAX_CHAT_CHARS => {
                self.typed.push(c);
                Typed::Changed
            }
            Key::Char(_) => Typed::Changed,
            Key::Erase => {
                self.typed.pop();
                Typed::Changed
            }
            Key::Send if self.typed.trim().is_empty() => Typed::Changed,
            Key::Send => Typed::Send(std::mem::take(&mut self.typed)),
            Key::Close => Typed::Close,
        }
    }

    /// The end of the line that fits `columns` characters, with a cursor.
    pub fn visible(&self, columns: usize) -> String {
        let shown = format!("> {}_", self.typed);
        let count = shown.chars().count();
        shown.chars().skip(count.saturating_sub(columns)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keysyms_become_keys() {
        assert_eq!(key_of(0x61), Some(Key::Char('a')));
        assert_eq!(key_of(0xe9), Some(Key::Char('é')));
        assert_eq!(key_of(0x0100_20ac), Some(Key::Char('€')));
        assert_eq!(key_of(0xff0d), Some(Key::Send));
        assert_eq!(key_of(0xff8d), Some(Key::Send), "keypad Enter");
        assert_eq!(key_of(0xff08), Some(Key::Erase));
        assert_eq!(key_of(0xff1b), Some(Key::Close));
        assert_eq!(key_of(0xffe1), None, "Shift alone types nothing");
        assert_eq!(key_of(0x0100_001b), None, "no control characters");
    }

    #[test]
    fn a_line_is_typed_erased_and_sent_once() {
        let mut field = ChatField::default();
        for c in "Hi!x".chars() {
            assert_eq!(field.press(Key::Char(c)), Typed::Changed);
        }
        field.press(Key::Erase);
        assert_eq!(field.visible(4), "Hi!_", "the end of the line shows");
        assert_eq!(field.visible(80), "> Hi!_");
        assert_eq!(field.press(Key::Send), Typed::Send("Hi!".into()));
        assert_eq!(field.text(), "");
        assert_eq!(field.press(Key::Send), Typed::Changed, "nothing to send");
        assert_eq!(field.press(Key::Close), Typed::Close);
        for _ in 0..MAX_CHAT_CHARS + 5 {
            field.press(Key::Char('a'));
        }
        assert_eq!(field.text().chars().count(), MAX_CHAT_CHARS);
    }
}
