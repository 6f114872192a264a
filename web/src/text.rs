//! Small text helpers for messages shown to people.

/// The message with its first letter in upper case, as the server's
/// messages and validation errors start in lower case.
pub fn capitalize(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The message as a sentence: capitalized, with a full stop unless it
/// already ends with punctuation.
pub fn sentence(message: &str) -> String {
    let text = capitalize(message.trim());
    if text.is_empty() || text.ends_with(['.', '!', '?', '…']) { text } else { format!("{text}.") }
}

#[cfg(test)]
mod tests {
    use super::{capitalize, sentence};

    #[test]
    fn sentences_end_once() {
        assert_eq!(sentence("this agent cannot stream yet"), "This agent cannot stream yet.");
        assert_eq!(sentence("Declined by the user."), "Declined by the user.");
        assert_eq!(sentence(" no? "), "No?");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn capitalizes_the_first_letter_only() {
        assert_eq!(capitalize("wrong password"), "Wrong password");
        assert_eq!(capitalize("Already"), "Already");
        assert_eq!(capitalize("élan"), "Élan");
        assert_eq!(capitalize(""), "");
    }
}
