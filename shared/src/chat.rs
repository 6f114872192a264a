//! Chat in a session (seed: "a log is automatically kept of any chat
//! activity"): lines typed by the technician or the person at the
//! computer. Chat travels over the signalling sockets, not a data channel,
//! so the server records every line in the audit log, in order, before
//! either end sees it — in every mode (each includes chat) and before any
//! picture flows. [`check_text`] is the one rule for what a line may hold.

use serde::{Deserialize, Serialize};

/// The name lines from the person at the computer carry.
pub const PERSON_NAME: &str = "The person at the computer";

/// Most lines a page keeps of one session's chat (the audit log keeps
/// them all).
pub const MAX_KEPT_LINES: usize = 200;

/// Longest line, in characters.
pub const MAX_CHAT_CHARS: usize = 2000;

/// Who typed a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The session's technician.
    Technician,
    /// The person at the computer.
    Person,
}

/// A line as the server relays it to both ends, after recording it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatLine {
    pub from: Speaker,
    /// The name to show: the technician's, or [`PERSON_NAME`].
    pub name: String,
    pub text: String,
    /// When the server recorded it, Unix milliseconds.
    pub at: i64,
}

/// Why a line was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadChat {
    #[error("a chat message needs some text")]
    Empty,
    #[error("a chat message holds at most {MAX_CHAT_CHARS} characters")]
    TooLong,
    #[error("a chat message may not hold control characters")]
    ControlCharacters,
}

/// The line to send for `typed`: trimmed, 1 to [`MAX_CHAT_CHARS`]
/// characters, no control characters but line breaks and tabs.
pub fn check_text(typed: &str) -> Result<String, BadChat> {
    let text = typed.trim();
    if text.is_empty() {
        return Err(BadChat::Empty);
    }
    if text.chars().count() > MAX_CHAT_CHARS {
        return Err(BadChat::TooLong);
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(BadChat::ControlCharacters);
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_trimmed_and_holds_printable_text_of_bounded_length() {
        assert_eq!(check_text("  hello\n"), Ok("hello".to_owned()));
        assert_eq!(check_text("two\nlines\tand a tab"), Ok("two\nlines\tand a tab".to_owned()));
        assert_eq!(check_text("héllo — ✓"), Ok("héllo — ✓".to_owned()));
        assert_eq!(check_text(" \n\t "), Err(BadChat::Empty));
        assert_eq!(check_text(&"é".repeat(MAX_CHAT_CHARS)).map(|text| text.chars().count()), Ok(MAX_CHAT_CHARS));
        assert_eq!(check_text(&"a".repeat(MAX_CHAT_CHARS + 1)), Err(BadChat::TooLong));
        for bad in ["bell\u{7}", "escape\u{1b}[31m", "null\0", "cr\rlf"] {
            assert_eq!(check_text(bad), Err(BadChat::ControlCharacters), "{bad:?}");
        }
    }
}
