//! Rules for user-supplied account fields, checked identically by the web
//! form (for a quick hint) and by the server (which decides).

/// Why a field was refused. The message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidField {
    /// Usernames are 3–64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
    #[error(
        "username must be 3 to 64 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit"
    )]
    Username,
    /// Display names are 1–100 printable characters.
    #[error("display name must be 1 to 100 characters with no control characters")]
    DisplayName,
    /// Passwords are 12–256 bytes and differ from the username.
    #[error("password must be 12 to 256 characters and differ from the username")]
    Password,
}

/// Smallest accepted password length, in characters.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Largest accepted password length, in bytes (bounds hashing work).
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Checks a username.
pub fn username(name: &str) -> Result<(), InvalidField> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
    let starts_well = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if (3..=64).contains(&name.len()) && starts_well && name.chars().all(allowed) {
        Ok(())
    } else {
        Err(InvalidField::Username)
    }
}

/// Checks a display name.
pub fn display_name(name: &str) -> Result<(), InvalidField> {
    let count = name.chars().count();
    if (1..=100).contains(&count) && !name.chars().any(char::is_control) && !name.trim().is_empty() {
        Ok(())
    } else {
        Err(InvalidField::DisplayName)
    }
}

/// Checks a new password for the account `username`.
pub fn password(password: &str, username: &str) -> Result<(), InvalidField> {
    if password.chars().count() >= MIN_PASSWORD_CHARS
        && password.len() <= MAX_PASSWORD_BYTES
        && !password.eq_ignore_ascii_case(username)
    {
        Ok(())
    } else {
        Err(InvalidField::Password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for good in ["alice", "bob.smith", "t-1", "a_b"] {
            assert_eq!(username(good), Ok(()), "{good}");
        }
        for bad in ["", "ab", "Alice", ".alice", "al ice", "../etc", "a\u{0}b", &"x".repeat(65)] {
            assert_eq!(username(bad), Err(InvalidField::Username), "{bad:?}");
        }
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("Alice Smith"), Ok(()));
        assert_eq!(display_name("   "), Err(InvalidField::DisplayName));
        assert_eq!(display_name("a\nb"), Err(InvalidField::DisplayName));
        assert_eq!(display_name(&"é".repeat(101)), Err(InvalidField::DisplayName));
    }

    #[test]
    fn passwords() {
        assert_eq!(password("correct horse battery", "alice"), Ok(()));
        assert_eq!(password("short", "alice"), Err(InvalidField::Password));
        assert_eq!(password("alicealicealice", "alicealicealice"), Err(InvalidField::Password));
        assert_eq!(password(&"x".repeat(257), "alice"), Err(InvalidField::Password));
    }
}
