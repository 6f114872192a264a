//! Who may do what: a [`Policy`] is the administrator's rules for a session
//! between one group of technicians and one group of computers — the
//! session rules of [`SessionPolicy`] (codes, acceptance, server loss) and
//! the access rules of [`AccessRules`] (modes, per-access assent,
//! unattended sessions, idle limit, recording). When several policies apply
//! to a session they combine into the most restrictive
//! ([`merge_most_restrictive`]); when none applies there is no access.
//!
//! The global [`SessionPolicy`] stored today becomes a policy's `session`
//! part unchanged ([`Policy::from`]); each part reads missing fields as
//! their defaults and refuses unknown ones, so stored documents keep
//! reading as fields are added.

use core::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::access::{Access, AccessSet};
use crate::mode::ModeSet;
use crate::policy::{InvalidPolicy, SessionPolicy};

/// Everything a policy decides about a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Code lifetime and wrong tries, whether the person must accept the
    /// session and how long they have (no answer in time is a refusal),
    /// and the agent's server-loss limit.
    pub session: SessionPolicy,
    /// Which modes and kinds of access, and on what terms.
    pub access: AccessRules,
}

/// What a policy lets a technician do on a computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessRules {
    /// The modes a session may run in; the requested one falls back through
    /// these ([`crate::mode::select`]). Empty allows no session at all — a
    /// deliberate "no access" for a pair of groups.
    pub allowed_modes: ModeSet,
    /// Kinds of access the person at the computer must assent to each time
    /// the technician asks for them, even within an accepted session.
    /// Default: screen, control, file transfer and system information, the
    /// seed's "user assent before each type of access".
    pub assent_each_time: AccessSet,
    /// Whether a technician may start a session on the computer without
    /// anyone there having typed a connection code (an unattended session).
    pub unattended: bool,
    /// How long a session may see no input or chat from the technician
    /// before it ends, in seconds; `None` for no limit. Default 30 minutes.
    pub idle_timeout_secs: Option<u32>,
    /// Whether the session's screen may be recorded. Off by default (the
    /// seed's "globally disabled … due to privacy concerns").
    pub recording: bool,
    /// The largest file either way, in MiB; `None` for no limit. Default
    /// 10 GiB.
    pub max_file_mib: Option<u32>,
}

impl AccessRules {
    /// Allowed idle limits: one minute to 24 hours.
    pub const IDLE_TIMEOUT_SECS: RangeInclusive<u32> = 60..=24 * 60 * 60;
    /// Allowed file size limits: 1 MiB to 1 TiB.
    pub const MAX_FILE_MIB: RangeInclusive<u32> = 1..=1024 * 1024;

    /// The largest file, in bytes; `None` for no limit.
    pub fn max_file_bytes(&self) -> Option<u64> {
        self.max_file_mib.map(|mib| u64::from(mib) * 1024 * 1024)
    }

    /// Checks every field with a range; the message names the field.
    pub fn validate(&self) -> Result<(), InvalidPolicy> {
        match self.idle_timeout_secs {
            Some(secs) if !Self::IDLE_TIMEOUT_SECS.contains(&secs) => Err(InvalidPolicy {
                field: "idle_timeout_secs",
                min: *Self::IDLE_TIMEOUT_SECS.start(),
                max: *Self::IDLE_TIMEOUT_SECS.end(),
            }),
            _ => Ok(()),
        }?;
        match self.max_file_mib {
            Some(mib) if !Self::MAX_FILE_MIB.contains(&mib) => Err(InvalidPolicy {
                field: "max_file_mib",
                min: *Self::MAX_FILE_MIB.start(),
                max: *Self::MAX_FILE_MIB.end(),
            }),
            _ => Ok(()),
        }
    }
}

impl Default for AccessRules {
    fn default() -> Self {
        AccessRules {
            allowed_modes: ModeSet::all(),
            assent_each_time: AccessSet::of(&[
                Access::View,
                Access::Control,
                Access::FileTransfer,
                Access::SystemInfo,
                Access::LocalInputLock,
                Access::PrivacyScreen,
                Access::Draw,
            ]),
            unattended: false,
            idle_timeout_secs: Some(30 * 60),
            recording: false,
            max_file_mib: Some(10 * 1024),
        }
    }
}

impl Policy {
    /// Checks both parts; the first field out of range is named.
    pub fn validate(&self) -> Result<(), InvalidPolicy> {
        self.session.validate()?;
        self.access.validate()
    }

    /// The more restrictive of two policies, field by field (see
    /// [`merge_most_restrictive`]).
    #[must_use]
    pub fn most_restrictive_with(&self, other: &Policy) -> Policy {
        // Every field is named, not `..`-filled: a new field does not
        // compile until it has a merge rule.
        let (a, b) = (&self.session, &other.session);
        let session = SessionPolicy {
            code_lifetime_secs: a.code_lifetime_secs.min(b.code_lifetime_secs),
            max_wrong_guesses: a.max_wrong_guesses.min(b.max_wrong_guesses),
            user_acceptance: a.user_acceptance || b.user_acceptance,
            acceptance_timeout_secs: a.acceptance_timeout_secs.min(b.acceptance_timeout_secs),
            server_loss_timeout_secs: a.server_loss_timeout_secs.min(b.server_loss_timeout_secs),
        };
        let (a, b) = (&self.access, &other.access);
        let access = AccessRules {
            allowed_modes: a.allowed_modes.intersection(b.allowed_modes),
            assent_each_time: a.assent_each_time.union(b.assent_each_time),
            unattended: a.unattended && b.unattended,
            idle_timeout_secs: shorter_limit(a.idle_timeout_secs, b.idle_timeout_secs),
            recording: a.recording && b.recording,
            max_file_mib: shorter_limit(a.max_file_mib, b.max_file_mib),
        };
        Policy { session, access }
    }

    /// Whether this policy allows nothing `other` forbids: merging `other`
    /// into it changes nothing.
    pub fn is_at_least_as_restrictive_as(&self, other: &Policy) -> bool {
        self.most_restrictive_with(other) == *self
    }
}

impl From<SessionPolicy> for Policy {
    /// The stored global session policy, with the default access rules.
    fn from(session: SessionPolicy) -> Self {
        Policy { session, access: AccessRules::default() }
    }
}

/// The one policy a session obeys when every policy in `policies` applies
/// to it, each field at its most restrictive:
///
/// | field | merged as |
/// | --- | --- |
/// | allowed modes | the modes every policy allows |
/// | user acceptance | required if any requires it |
/// | acceptance, idle, server-loss timeouts; code lifetime; wrong tries | the smallest (no idle limit only if none has one) |
/// | assent each time | every kind any policy asks assent for |
/// | unattended, recording | only if every policy allows it |
///
/// `None` when no policy applies: no access at all, never a default.
/// Merged policies of valid ones are valid: each field is one of theirs, or
/// a union or intersection of sets.
pub fn merge_most_restrictive(policies: &[Policy]) -> Option<Policy> {
    let (first, rest) = policies.split_first()?;
    Some(rest.iter().fold(*first, |merged, policy| merged.most_restrictive_with(policy)))
}

/// The shorter of two optional limits, `None` meaning no limit.
fn shorter_limit(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (limit, None) | (None, limit) => limit,
    }
}
