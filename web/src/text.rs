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

#[cfg(test)]
mod tests {
    use super::capitalize;

    #[test]
    fn capitalizes_the_first_letter_only() {
        assert_eq!(capitalize("wrong password"), "Wrong password");
        assert_eq!(capitalize("Already"), "Already");
        assert_eq!(capitalize("élan"), "Élan");
        assert_eq!(capitalize(""), "");
    }
}
