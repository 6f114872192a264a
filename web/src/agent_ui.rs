//! The end user's agent page (`/agent`) as plain logic: the per-launch key
//! from the address's fragment, and the live check of a typed code.

use tether_shared::connection_code::CodeInput;

/// The agent's per-launch key from a location fragment (`#key=…`, possibly
/// among other `&`-separated pairs); `None` when absent or empty.
pub fn key_from_fragment(fragment: &str) -> Option<String> {
    fragment
        .trim_start_matches('#')
        .split('&')
        .find_map(|pair| pair.strip_prefix("key="))
        .filter(|key| !key.is_empty())
        .map(str::to_owned)
}

/// What the code field holds, checked as the user types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Nothing typed yet: no error shown, nothing to send.
    Empty,
    /// Not a code; the sentence says why.
    Invalid(String),
    /// A code (or a code's link), shown back grouped.
    Valid {
        /// `123 456 789`.
        grouped: String,
        /// The server a link names.
        server: Option<String>,
    },
}

impl CodeCheck {
    /// Checks `input` with [`CodeInput::parse`].
    pub fn of(input: &str) -> Self {
        if input.trim().is_empty() {
            return CodeCheck::Empty;
        }
        match CodeInput::parse(input) {
            Ok(parsed) => CodeCheck::Valid { grouped: parsed.code.to_string(), server: parsed.server },
            Err(error) => CodeCheck::Invalid(crate::text::sentence(&error.to_string())),
        }
    }

    /// Whether Connect may be pressed.
    pub fn is_valid(&self) -> bool {
        matches!(self, CodeCheck::Valid { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_comes_from_the_fragment() {
        assert_eq!(key_from_fragment("#key=abc123").as_deref(), Some("abc123"));
        assert_eq!(key_from_fragment("#x=1&key=k-2").as_deref(), Some("k-2"));
        assert_eq!(key_from_fragment("key=k"), Some("k".to_owned()));
        assert_eq!(key_from_fragment("#key="), None);
        assert_eq!(key_from_fragment(""), None);
        assert_eq!(key_from_fragment("#nokey=1"), None);
    }

    #[test]
    fn codes_are_checked_as_typed() {
        assert_eq!(CodeCheck::of("  "), CodeCheck::Empty);
        assert_eq!(CodeCheck::of("123-456 789"), CodeCheck::Valid { grouped: "123 456 789".into(), server: None });
        assert_eq!(
            CodeCheck::of("https://t.example/connect/123-456-789"),
            CodeCheck::Valid { grouped: "123 456 789".into(), server: Some("https://t.example".into()) }
        );
        assert_eq!(CodeCheck::of("12345"), CodeCheck::Invalid("A connection code has 9 digits; this has 5.".into()));
        let CodeCheck::Invalid(message) = CodeCheck::of("12a") else { panic!("12a is not a code") };
        assert!(message.contains("not a digit"), "{message}");
        assert!(!CodeCheck::of("12a").is_valid());
    }
}
