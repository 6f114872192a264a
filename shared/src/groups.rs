//! Technician groups and target (computer) groups as the API shows and
//! takes them, and the rule for a group's name. What groups decide is in
//! [`crate::policy_assignment`].

use serde::{Deserialize, Serialize};

use crate::access_policy::Policy;

/// Longest group name, in characters.
pub const MAX_GROUP_NAME_CHARS: usize = 64;

/// Which kind of group: of technicians (accounts) or of targets (enrolled
/// computers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    Technician,
    Target,
}

/// A group's name, trimmed, if it is 1 to [`MAX_GROUP_NAME_CHARS`]
/// printable characters; else the sentence saying why not.
pub fn group_name(name: &str) -> Result<&str, &'static str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_GROUP_NAME_CHARS || name.chars().any(char::is_control) {
        return Err("name must be 1 to 64 printable characters");
    }
    Ok(name)
}

/// A group or member named in a list: its id and what people call it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// A group with its members (usernames for technicians, computer names for
/// targets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub members: Vec<Named>,
}

/// `POST /api/{technician,target}-groups` and `PATCH …/{id}` (rename).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupRequest {
    pub name: String,
}

/// One policy assignment as listed: the pair and its policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentView {
    pub id: String,
    pub technician_group: Named,
    pub target_group: Named,
    pub policy: Policy,
}

/// `POST /api/policy-assignments`: a policy for a pair that has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignmentRequest {
    pub technician_group: String,
    pub target_group: String,
    pub policy: Policy,
}

/// `GET /api/policies/effective?technician=ID&target=ID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectiveQuery {
    pub technician: String,
    pub target: String,
}

/// What a technician may do on a computer, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectivePolicyView {
    /// The merged policy; `None` is no access at all.
    pub policy: Option<Policy>,
    /// The assignments it merges; empty when the default applies alone.
    pub from_assignments: Vec<AssignmentView>,
    /// Whether the default policy is what applies (no pair matched).
    pub from_default: bool,
    /// Whether the technician may open a session (some mode is allowed).
    pub reachable: bool,
}

/// An enrolled computer, as the administrator's Computers page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComputerView {
    pub id: String,
    /// The administrator's name for it, else the host name it reports.
    pub name: String,
    /// The administrator's name, if one was given.
    pub display_name: Option<String>,
    /// The host name the agent reports.
    pub hostname: String,
    pub groups: Vec<Named>,
    /// Last time the agent was connected, Unix milliseconds.
    pub last_seen_at: Option<i64>,
    pub agent_version: String,
    pub online: bool,
    pub enrolled_at: i64,
}

/// `PATCH /api/computers/{id}`: fields left out stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateComputerRequest {
    /// A new display name; empty goes back to the host name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The target groups the computer belongs to, replacing the old ones.
    #[serde(default)]
    pub groups: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(group_name("  Helpdesk "), Ok("Helpdesk"));
        assert!(group_name("   ").is_err());
        assert!(group_name(&"x".repeat(65)).is_err());
        assert!(group_name("a\nb").is_err());
        assert_eq!(group_name(&"x".repeat(64)).map(str::len), Ok(64));
    }
}
