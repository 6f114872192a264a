//! Account roles and what each one may do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The role of an account. Each account has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages users, roles, policies, brokers and agent enrollment.
    Admin,
    /// Opens sessions to targets and assists end users.
    Technician,
    /// Reads the audit log and verifies its integrity; changes nothing.
    Auditor,
}

impl Role {
    /// Every role, in the order the UI lists them.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Technician, Role::Auditor];

    /// The stable lower-case name used in the database, tokens and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Technician => "technician",
            Role::Auditor => "auditor",
        }
    }

    /// A human label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Technician => "Technician",
            Role::Auditor => "Auditor",
        }
    }

    /// Whether this role may manage accounts.
    pub fn can_manage_users(self) -> bool {
        self == Role::Admin
    }

    /// Whether this role may set policies and brokers (what sessions follow
    /// and through which relays they go).
    pub fn can_manage_policies(self) -> bool {
        self == Role::Admin
    }

    /// Whether this role may enroll agents (issue enrollment tokens).
    pub fn can_enroll_agents(self) -> bool {
        self == Role::Admin
    }

    /// Whether this role may read groups, computers and policies (admins
    /// to change them, auditors to know who could do what).
    pub fn can_read_policies(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// Whether this role may read and verify the audit log. Admins may not:
    /// auditing is kept apart from administration (separation of duties).
    pub fn can_read_audit(self) -> bool {
        self == Role::Auditor
    }

    /// Whether this role may open sessions to targets.
    pub fn can_open_sessions(self) -> bool {
        self == Role::Technician
    }

    /// Whether this role sees every technician's sessions (administrators
    /// to end them, auditors to read them); technicians see their own.
    pub fn can_see_all_sessions(self) -> bool {
        matches!(self, Role::Admin | Role::Auditor)
    }

    /// Whether this role may end anyone's live session.
    pub fn can_end_any_session(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not the name of a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected admin, technician or auditor")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|role| role.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            let json = serde_json::to_string(&role).expect("serialize");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn duties_are_separated() {
        assert!(Role::Admin.can_manage_users() && !Role::Admin.can_read_audit());
        assert!(Role::Auditor.can_read_audit() && !Role::Auditor.can_manage_users());
        assert!(Role::Technician.can_open_sessions() && !Role::Technician.can_read_audit());
        assert!(Role::Auditor.can_see_all_sessions() && !Role::Auditor.can_end_any_session());
        assert!(Role::Admin.can_see_all_sessions() && Role::Admin.can_end_any_session());
        assert!(!Role::Technician.can_see_all_sessions() && !Role::Technician.can_end_any_session());
    }
}
