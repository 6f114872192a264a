//! A policy form's inputs as typed and the [`Policy`] they describe,
//! checked with the server's own rules (`SessionPolicy::validate`,
//! `AccessRules::validate`) so each field can say what is wrong with it.
//! Pure: unit-tested natively.

use serde::Serialize;
use tether_shared::access::AccessSet;
use tether_shared::access_policy::{AccessRules, Policy};
use tether_shared::connection_code::countdown_text;
use tether_shared::mode::{ModeSet, SessionMode};
use tether_shared::policy::{InvalidPolicy, SessionPolicy};

/// A policy field typed as a number, which can be wrong on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    CodeLifetime,
    WrongGuesses,
    AcceptanceTimeout,
    ServerLoss,
    IdleTimeout,
    MaxFileSize,
}

impl Field {
    /// Every numeric field, in the form's order.
    pub const ALL: [Field; 6] = [
        Field::CodeLifetime,
        Field::WrongGuesses,
        Field::AcceptanceTimeout,
        Field::ServerLoss,
        Field::IdleTimeout,
        Field::MaxFileSize,
    ];

    /// Whether leaving the field empty means "no limit".
    pub fn may_be_empty(self) -> bool {
        matches!(self, Field::IdleTimeout | Field::MaxFileSize)
    }

    /// The field `validate` named by its JSON name.
    pub fn named(json_name: &str) -> Option<Self> {
        match json_name {
            "code_lifetime_secs" => Some(Field::CodeLifetime),
            "max_wrong_guesses" => Some(Field::WrongGuesses),
            "acceptance_timeout_secs" => Some(Field::AcceptanceTimeout),
            "server_loss_timeout_secs" => Some(Field::ServerLoss),
            "idle_timeout_secs" => Some(Field::IdleTimeout),
            "max_file_mib" => Some(Field::MaxFileSize),
            _ => None,
        }
    }

    /// `policy` with this field set to `value`.
    fn set(self, policy: Policy, value: u32) -> Policy {
        let (session, access) = (policy.session, policy.access);
        match self {
            Field::CodeLifetime => Policy { session: SessionPolicy { code_lifetime_secs: value, ..session }, ..policy },
            Field::WrongGuesses => Policy { session: SessionPolicy { max_wrong_guesses: value, ..session }, ..policy },
            Field::AcceptanceTimeout => {
                Policy { session: SessionPolicy { acceptance_timeout_secs: value, ..session }, ..policy }
            }
            Field::ServerLoss => {
                Policy { session: SessionPolicy { server_loss_timeout_secs: value, ..session }, ..policy }
            }
            Field::IdleTimeout => Policy { access: AccessRules { idle_timeout_secs: Some(value), ..access }, ..policy },
            Field::MaxFileSize => Policy { access: AccessRules { max_file_mib: Some(value), ..access }, ..policy },
        }
    }

    /// What the number counts, for messages.
    pub fn unit(self) -> &'static str {
        match self {
            Field::WrongGuesses => "tries",
            Field::MaxFileSize => "MiB",
            _ => "seconds",
        }
    }
}

/// The form's inputs as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    pub code_lifetime: String,
    pub wrong_guesses: String,
    pub user_acceptance: bool,
    pub acceptance_timeout: String,
    pub server_loss: String,
    pub allowed_modes: ModeSet,
    pub assent_each_time: AccessSet,
    pub unattended: bool,
    /// Empty for no idle limit.
    pub idle_timeout: String,
    pub recording: bool,
    /// Empty for no file size limit.
    pub max_file_size: String,
}

impl Typed {
    /// The inputs showing `policy`.
    pub fn of(policy: &Policy) -> Self {
        let (session, access) = (&policy.session, &policy.access);
        Typed {
            code_lifetime: session.code_lifetime_secs.to_string(),
            wrong_guesses: session.max_wrong_guesses.to_string(),
            user_acceptance: session.user_acceptance,
            acceptance_timeout: session.acceptance_timeout_secs.to_string(),
            server_loss: session.server_loss_timeout_secs.to_string(),
            allowed_modes: access.allowed_modes,
            assent_each_time: access.assent_each_time,
            unattended: access.unattended,
            idle_timeout: access.idle_timeout_secs.map(|secs| secs.to_string()).unwrap_or_default(),
            recording: access.recording,
            max_file_size: access.max_file_mib.map(|mib| mib.to_string()).unwrap_or_default(),
        }
    }

    /// The text typed into `field`.
    pub fn text(&self, field: Field) -> &str {
        match field {
            Field::CodeLifetime => &self.code_lifetime,
            Field::WrongGuesses => &self.wrong_guesses,
            Field::AcceptanceTimeout => &self.acceptance_timeout,
            Field::ServerLoss => &self.server_loss,
            Field::IdleTimeout => &self.idle_timeout,
            Field::MaxFileSize => &self.max_file_size,
        }
    }
}

/// What is wrong, and with which field (`None`: one this form does not
/// show, so the form as a whole).
pub type Problem = (Option<Field>, String);

/// The policy the inputs describe, or every field's problem: not a whole
/// number, or out of range. Each field is range-checked by `validate` on
/// the default policy with that field alone changed (the default is valid,
/// so a refusal is that field's), then the whole policy once more. An empty
/// idle or file size limit is no limit.
pub fn checked(typed: &Typed) -> Result<Policy, Vec<Problem>> {
    let mut policy = Policy {
        session: SessionPolicy { user_acceptance: typed.user_acceptance, ..SessionPolicy::default() },
        access: AccessRules {
            allowed_modes: typed.allowed_modes,
            assent_each_time: typed.assent_each_time,
            unattended: typed.unattended,
            idle_timeout_secs: None,
            recording: typed.recording,
            max_file_mib: None,
        },
    };
    let mut problems = Vec::new();
    for field in Field::ALL {
        let text = typed.text(field).trim();
        if field.may_be_empty() && text.is_empty() {
            continue;
        }
        let Ok(value) = text.parse::<u32>() else {
            problems.push((Some(field), format!("Enter a whole number of {}.", field.unit())));
            continue;
        };
        match field.set(Policy::default(), value).validate() {
            Ok(()) => policy = field.set(policy, value),
            Err(invalid) => problems.push(out_of_range(&invalid)),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    policy.validate().map_err(|invalid| vec![out_of_range(&invalid)])?;
    Ok(policy)
}

/// `validate`'s refusal as the field's inline message.
pub fn out_of_range(invalid: &InvalidPolicy) -> Problem {
    match Field::named(invalid.field) {
        Some(field) => (Some(field), format!("Must be between {} and {} {}.", invalid.min, invalid.max, field.unit())),
        None => (None, invalid.to_string()),
    }
}

/// A number of seconds as the code window's countdown shows it, `15:00 min`
/// (`1:00:00 h` from an hour), if it is one.
pub fn as_clock(seconds: &str) -> Option<String> {
    let seconds = seconds.trim().parse::<u32>().ok()?;
    let unit = if seconds >= 3600 { "h" } else { "min" };
    Some(format!("{} {unit}", countdown_text(i64::from(seconds) * 1000, 0)))
}

/// A mode's or a kind of access's name on the wire (`file_transfer`), for
/// test ids.
pub fn wire_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|name| name.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The modes a policy allows, in words (`Monitor, Chat`; `none`).
pub fn modes_text(modes: ModeSet) -> String {
    let names: Vec<&str> = modes.iter().map(SessionMode::name).collect();
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(code_lifetime: &str, wrong_guesses: &str, acceptance_timeout: &str) -> Typed {
        Typed {
            code_lifetime: code_lifetime.to_owned(),
            wrong_guesses: wrong_guesses.to_owned(),
            acceptance_timeout: acceptance_timeout.to_owned(),
            server_loss: "15".to_owned(),
            user_acceptance: false,
            ..Typed::of(&Policy::default())
        }
    }

    #[test]
    fn the_inputs_become_a_policy_when_the_server_would_take_it() {
        let policy = checked(&typed(" 600 ", "3", "60")).map_err(|problems| format!("{problems:?}"));
        let session = SessionPolicy {
            code_lifetime_secs: 600,
            max_wrong_guesses: 3,
            user_acceptance: false,
            acceptance_timeout_secs: 60,
            server_loss_timeout_secs: 15,
        };
        assert_eq!(policy, Ok(Policy { session, access: AccessRules::default() }));
        let no_limit = Typed { idle_timeout: " ".into(), allowed_modes: ModeSet::empty(), ..typed("600", "3", "60") };
        let policy = checked(&no_limit).map_err(|problems| format!("{problems:?}"));
        assert_eq!(policy.map(|p| (p.access.idle_timeout_secs, p.access.allowed_modes)), Ok((None, ModeSet::empty())));
    }

    #[test]
    fn a_policy_shows_as_it_reads_back() {
        let mut policy = Policy::default();
        policy.access.recording = true;
        policy.access.idle_timeout_secs = Some(600);
        assert_eq!(checked(&Typed::of(&policy)), Ok(policy));
    }

    #[test]
    fn each_field_says_what_is_wrong_with_it() {
        assert_eq!(
            checked(&typed("", "x", "1.5")),
            Err(vec![
                (Some(Field::CodeLifetime), "Enter a whole number of seconds.".to_owned()),
                (Some(Field::WrongGuesses), "Enter a whole number of tries.".to_owned()),
                (Some(Field::AcceptanceTimeout), "Enter a whole number of seconds.".to_owned()),
            ])
        );
        assert_eq!(
            checked(&typed("9", "", "601")),
            Err(vec![
                (Some(Field::CodeLifetime), "Must be between 10 and 86400 seconds.".to_owned()),
                (Some(Field::WrongGuesses), "Enter a whole number of tries.".to_owned()),
                (Some(Field::AcceptanceTimeout), "Must be between 10 and 600 seconds.".to_owned()),
            ])
        );
        assert_eq!(
            checked(&typed("600", "21", "60")),
            Err(vec![(Some(Field::WrongGuesses), "Must be between 1 and 20 tries.".to_owned())])
        );
        let idle = Typed { idle_timeout: "30".into(), ..typed("600", "3", "60") };
        assert_eq!(
            checked(&idle),
            Err(vec![(Some(Field::IdleTimeout), "Must be between 60 and 86400 seconds.".to_owned())])
        );
    }

    #[test]
    fn every_field_validate_names_has_an_input() {
        for field in Field::ALL {
            let named = field.set(Policy::default(), 0).validate().map_err(|invalid| Field::named(invalid.field));
            assert_eq!(named, Err(Some(field)));
        }
        let unknown = InvalidPolicy { field: "later_field", min: 1, max: 2 };
        assert_eq!(out_of_range(&unknown), (None, "later_field must be between 1 and 2".to_owned()));
    }

    #[test]
    fn lifetimes_read_as_a_clock_and_names_as_on_the_wire() {
        assert_eq!(as_clock("900").as_deref(), Some("15:00 min"));
        assert_eq!(as_clock("3600").as_deref(), Some("1:00:00 h"));
        assert_eq!(as_clock("ten"), None);
        assert_eq!(wire_name(&SessionMode::FileTransfer), "file_transfer");
        assert_eq!(modes_text(ModeSet::of(&[SessionMode::Monitor, SessionMode::Chat])), "Monitor, Chat");
        assert_eq!(modes_text(ModeSet::empty()), "none");
    }
}
