//! Agent enrollment as the admin sees it: a token's state, the validity the
//! form asks for, and the commands to run on the computer being enrolled.

use tether_shared::agent::EnrollmentTokenView;

/// Longest validity the server accepts, in minutes (30 days).
pub const MAX_TTL_MINUTES: u32 = 43_200;
/// Most agents one token may enroll.
pub const MAX_USES: u32 = 10_000;
/// Longest label the server accepts, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// Where an enrollment token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    /// Agents can still enroll with it.
    Active,
    /// Its validity has run out.
    Expired,
    /// As many agents as allowed have enrolled with it.
    UsedUp,
    /// An administrator revoked it.
    Revoked,
}

impl TokenStatus {
    /// The status of `token` at `now_ms`. A revoked token stays "revoked"
    /// whatever else is true of it; "used up" wins over "expired" because it
    /// says more about what happened.
    pub fn of(token: &EnrollmentTokenView, now_ms: i64) -> Self {
        if token.revoked {
            TokenStatus::Revoked
        } else if token.uses >= token.max_uses {
            TokenStatus::UsedUp
        } else if token.expires_at <= now_ms {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }

    /// Stable name for `data-status` attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::UsedUp => "used-up",
            TokenStatus::Revoked => "revoked",
        }
    }

    /// A human label.
    pub fn label(self) -> &'static str {
        match self {
            TokenStatus::Active => "Active",
            TokenStatus::Expired => "Expired",
            TokenStatus::UsedUp => "Used up",
            TokenStatus::Revoked => "Revoked",
        }
    }
}

/// The unit of the form's "valid for" amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlUnit {
    Minutes,
    Hours,
    Days,
}

impl TtlUnit {
    /// Every unit, in the order the form lists them.
    pub const ALL: [TtlUnit; 3] = [TtlUnit::Minutes, TtlUnit::Hours, TtlUnit::Days];

    /// Stable name for `<option value>`.
    pub fn as_str(self) -> &'static str {
        match self {
            TtlUnit::Minutes => "minutes",
            TtlUnit::Hours => "hours",
            TtlUnit::Days => "days",
        }
    }

    /// The unit named by [`TtlUnit::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        TtlUnit::ALL.into_iter().find(|unit| unit.as_str() == name)
    }

    /// A human label.
    pub fn label(self) -> &'static str {
        match self {
            TtlUnit::Minutes => "Minutes",
            TtlUnit::Hours => "Hours",
            TtlUnit::Days => "Days",
        }
    }

    fn minutes(self) -> u32 {
        match self {
            TtlUnit::Minutes => 1,
            TtlUnit::Hours => 60,
            TtlUnit::Days => 24 * 60,
        }
    }
}

/// The validity typed into the form, in minutes, or why it is refused.
pub fn ttl_minutes(amount: &str, unit: TtlUnit) -> Result<u32, &'static str> {
    let amount: u32 = amount.trim().parse().map_err(|_| "Enter a whole number.")?;
    match amount.checked_mul(unit.minutes()) {
        Some(0) => Err("Must be at least 1 minute."),
        Some(minutes) if minutes <= MAX_TTL_MINUTES => Ok(minutes),
        _ => Err("At most 30 days."),
    }
}

/// The form's "max uses", or why it is refused.
pub fn max_uses(text: &str) -> Result<u32, &'static str> {
    match text.trim().parse::<u32>() {
        Ok(uses) if (1..=MAX_USES).contains(&uses) => Ok(uses),
        _ => Err("Enter a number from 1 to 10000."),
    }
}

/// The form's label, trimmed, or why it is refused.
pub fn label(text: &str) -> Result<String, &'static str> {
    let label = text.trim();
    if label.is_empty() {
        Err("Name what the token is for, e.g. \"Library PCs\".")
    } else if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        Err("At most 100 printable characters.")
    } else {
        Ok(label.to_owned())
    }
}

/// The command that enrolls an agent with `token` at the server `origin`,
/// ready to paste into a POSIX shell.
pub fn enroll_command(origin: &str, token: &str) -> String {
    format!("tether-agent enroll --server {} --token {}", shell_word(origin), shell_word(token))
}

/// `word` as one shell word: unchanged when it holds only characters no
/// shell treats specially (as URLs and tokens normally do), else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The command that starts an enrolled agent.
pub const RUN_COMMAND: &str = "tether-agent run";

#[cfg(test)]
mod tests {
    use super::*;

    fn token(uses: u32, max_uses: u32, expires_at: i64, revoked: bool) -> EnrollmentTokenView {
        EnrollmentTokenView {
            id: "t1".into(),
            label: "Lab".into(),
            created_by: "admin".into(),
            created_at: 0,
            expires_at,
            max_uses,
            uses,
            revoked,
            groups: Vec::new(),
        }
    }

    #[test]
    fn status_of_tokens() {
        assert_eq!(TokenStatus::of(&token(0, 1, 2_000, false), 1_000), TokenStatus::Active);
        assert_eq!(TokenStatus::of(&token(0, 1, 1_000, false), 1_000), TokenStatus::Expired);
        assert_eq!(TokenStatus::of(&token(1, 1, 2_000, false), 1_000), TokenStatus::UsedUp);
        assert_eq!(TokenStatus::of(&token(1, 1, 500, false), 1_000), TokenStatus::UsedUp);
        assert_eq!(TokenStatus::of(&token(1, 1, 500, true), 1_000), TokenStatus::Revoked);
        assert_eq!(TokenStatus::of(&token(0, 5, 2_000, true), 1_000), TokenStatus::Revoked);
    }

    #[test]
    fn validity_in_minutes() {
        assert_eq!(ttl_minutes("90", TtlUnit::Minutes), Ok(90));
        assert_eq!(ttl_minutes(" 2 ", TtlUnit::Hours), Ok(120));
        assert_eq!(ttl_minutes("30", TtlUnit::Days), Ok(MAX_TTL_MINUTES));
        assert_eq!(ttl_minutes("31", TtlUnit::Days), Err("At most 30 days."));
        assert_eq!(ttl_minutes("4294967295", TtlUnit::Days), Err("At most 30 days."));
        assert_eq!(ttl_minutes("0", TtlUnit::Hours), Err("Must be at least 1 minute."));
        assert_eq!(ttl_minutes("1.5", TtlUnit::Hours), Err("Enter a whole number."));
        assert_eq!(ttl_minutes("", TtlUnit::Hours), Err("Enter a whole number."));
        for unit in TtlUnit::ALL {
            assert_eq!(TtlUnit::parse(unit.as_str()), Some(unit));
        }
        assert_eq!(TtlUnit::parse("weeks"), None);
    }

    #[test]
    fn uses_and_labels() {
        assert_eq!(max_uses("1"), Ok(1));
        assert_eq!(max_uses("10000"), Ok(MAX_USES));
        assert!(max_uses("0").is_err() && max_uses("10001").is_err() && max_uses("-1").is_err());
        assert_eq!(label("  Library PCs "), Ok("Library PCs".to_owned()));
        assert!(label("   ").is_err());
        assert!(label(&"x".repeat(101)).is_err());
        assert!(label("tab\there").is_err());
    }

    #[test]
    fn commands() {
        assert_eq!(
            enroll_command("https://tether.example:8443", "abc_DEF-123"),
            "tether-agent enroll --server https://tether.example:8443 --token abc_DEF-123"
        );
        assert_eq!(
            enroll_command("http://[::1]:8080", "it's"),
            r"tether-agent enroll --server 'http://[::1]:8080' --token 'it'\''s'"
        );
        assert_eq!(RUN_COMMAND, "tether-agent run");
    }
}
