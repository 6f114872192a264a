//! The public page a connection link opens (`/connect/<code>`) as plain
//! logic: whether an address is such a link, the code it holds, and the
//! words that tell the person at the computer what to do with it.
//!
//! The words are for someone who is not a technician: no addresses and no
//! jargon.

use tether_shared::connection_code::{ConnectionCode, URL_PATH};

/// Shown instead of everything else when the link holds no valid code.
pub const INVALID_LINK: &str = "This link does not contain a valid connection code. Ask your technician for a new one.";

/// The sentence before the two ways to use the code.
pub const INTRODUCTION: &str = "Your technician gave you this code so they can help you. Use it on the computer \
     you need help with, in one of two ways.";

/// The first way: the agent's page, already open.
pub const AGENT_PAGE_STEP: &str =
    "If the Tether agent's page is open on that computer, type the code there and choose Connect.";

/// How to open the agent's page, under [`AGENT_PAGE_STEP`].
pub const AGENT_PAGE_HINT: &str = "To open that page, run tether-agent ui in a terminal.";

/// The second way: the command, shown under this sentence.
pub const TERMINAL_STEP: &str = "Or open a terminal on that computer and run this command:";

/// What happens once the code is entered, in the order it happens.
pub const AFTERWARDS: [&str; 3] = [
    "You may be asked to accept the session first. You can also choose to allow less, for example letting the \
     technician only see your screen.",
    "You can end the session at any time: choose End session on the agent's page, or press Ctrl+C in the terminal.",
    "The code expires after a few minutes and works for one session only. If it no longer works, ask your \
     technician for a new one.",
];

/// The code part of `path` when `path` is a connection link's
/// (`/connect/123-456-789`, with or without a trailing `/`); `Some("")` for
/// `/connect` itself, and `None` for every other page.
pub fn code_in_path(path: &str) -> Option<&str> {
    let prefix = URL_PATH.trim_end_matches('/');
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        return Some("");
    }
    let code = rest.strip_prefix('/')?;
    Some(code.strip_suffix('/').unwrap_or(code))
}

/// What the page shows for the code part of its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectLink {
    /// A valid code: how to use it.
    Code(Instructions),
    /// Not a code: only [`INVALID_LINK`].
    Invalid,
}

impl ConnectLink {
    /// The page for `code` (already percent-decoded), read with
    /// [`ConnectionCode::parse`]: spaces and dashes are allowed between the
    /// digits, anything else makes the link invalid.
    pub fn read(code: &str) -> Self {
        match ConnectionCode::parse(code) {
            Ok(code) => ConnectLink::Code(Instructions::for_code(code)),
            // Why it is not a code helps someone typing one, not someone
            // who followed a link: they need a new link, whatever is wrong.
            Err(_) => ConnectLink::Invalid,
        }
    }
}

/// The code as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instructions {
    /// Grouped for reading and typing: `123 456 789`.
    pub code: String,
    /// The terminal command that enters it: `tether-agent connect "123 456 789"`.
    pub command: String,
}

impl Instructions {
    /// The grouped code and its command.
    pub fn for_code(code: ConnectionCode) -> Self {
        let grouped = code.to_string();
        Instructions { command: format!("tether-agent connect \"{grouped}\""), code: grouped }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_connection_links_are_recognised() {
        assert_eq!(code_in_path("/connect/123-456-789"), Some("123-456-789"));
        assert_eq!(code_in_path("/connect/123456789/"), Some("123456789"));
        assert_eq!(code_in_path("/connect/123%20456%20789"), Some("123%20456%20789"));
        assert_eq!(code_in_path("/connect/1/2"), Some("1/2"));
        assert_eq!(code_in_path("/connect/"), Some(""));
        assert_eq!(code_in_path("/connect"), Some(""));
        assert_eq!(code_in_path("/connections"), None);
        assert_eq!(code_in_path("/"), None);
        assert_eq!(code_in_path("/agent"), None);
        assert_eq!(code_in_path("/broker/connect/123456789"), None);
    }

    #[test]
    fn a_valid_code_is_grouped_and_put_in_the_command() {
        let expected = ConnectLink::Code(Instructions {
            code: "123 456 789".into(),
            command: "tether-agent connect \"123 456 789\"".into(),
        });
        for code in ["123-456-789", "123456789", "123 456 789", " 123 - 456 - 789 "] {
            assert_eq!(ConnectLink::read(code), expected, "{code:?}");
        }
        let Some(leading_zeros) = ConnectionCode::from_value(7) else { panic!("7 is a code") };
        assert_eq!(Instructions::for_code(leading_zeros).code, "000 000 007");
    }

    #[test]
    fn anything_else_is_an_invalid_link() {
        for code in ["", "12345678", "1234567890", "123-456-78x", "123%20456%20789", "1/2", "../agent"] {
            assert_eq!(ConnectLink::read(code), ConnectLink::Invalid, "{code:?}");
        }
    }

    #[test]
    fn the_words_are_for_the_person_not_a_technician() {
        let words = [INVALID_LINK, INTRODUCTION, AGENT_PAGE_STEP, AGENT_PAGE_HINT, TERMINAL_STEP]
            .into_iter()
            .chain(AFTERWARDS)
            .collect::<Vec<_>>();
        for jargon in ["http", "://", "127.0.0.1", "localhost", "broker", "server", "WebRTC", "API", "URL"] {
            for sentence in &words {
                assert!(!sentence.contains(jargon), "{jargon:?} in {sentence:?}");
            }
        }
        let all = words.join(" ");
        for promise in ["accept", "allow less", "end the session at any time", "expires", "one session only"] {
            assert!(all.contains(promise), "the page does not say {promise:?}");
        }
    }
}
