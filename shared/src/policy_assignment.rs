//! Which policies apply to a session: an administrator assigns a
//! [`Policy`] to pairs of groups (technicians of one group working on
//! computers of another), and a default to every pair without one. A
//! technician and a computer each belong to any number of groups; every
//! assignment for a pair of their groups applies, merged to the most
//! restrictive ([`PolicyAssignments::effective`]).

use serde::{Deserialize, Serialize};

use crate::access_policy::{Policy, merge_most_restrictive};

/// One policy given to one pair of groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The technicians' group id.
    pub technician_group: String,
    /// The computers' (targets') group id.
    pub target_group: String,
    /// What those technicians may do on those computers.
    pub policy: Policy,
}

/// Every assignment an installation has, and its default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyAssignments {
    /// The policies given to pairs of groups.
    pub pairs: Vec<Assignment>,
    /// The policy for a technician and a computer none of whose groups are
    /// paired; `None` gives such pairs no access at all.
    pub default: Option<Policy>,
}

impl PolicyAssignments {
    /// The policies that apply when a technician in `technician_groups`
    /// works on a computer in `target_groups`: every assignment pairing one
    /// of each, in the order they are listed, or else the default alone.
    pub fn applicable<T: AsRef<str>, U: AsRef<str>>(
        &self,
        technician_groups: &[T],
        target_groups: &[U],
    ) -> Vec<Policy> {
        let paired: Vec<Policy> =
            self.matching(technician_groups, target_groups).into_iter().map(|pair| pair.policy).collect();
        if paired.is_empty() { self.default.into_iter().collect() } else { paired }
    }

    /// The assignments pairing one of `technician_groups` with one of
    /// `target_groups`, in the order they are listed (empty: the default
    /// applies).
    pub fn matching<T: AsRef<str>, U: AsRef<str>>(
        &self,
        technician_groups: &[T],
        target_groups: &[U],
    ) -> Vec<&Assignment> {
        self.pairs
            .iter()
            .filter(|pair| {
                member(technician_groups, &pair.technician_group) && member(target_groups, &pair.target_group)
            })
            .collect()
    }

    /// The one policy such a session obeys: the applicable ones merged to
    /// the most restrictive; `None` means no access.
    pub fn effective<T: AsRef<str>, U: AsRef<str>>(
        &self,
        technician_groups: &[T],
        target_groups: &[U],
    ) -> Option<Policy> {
        merge_most_restrictive(&self.applicable(technician_groups, target_groups))
    }
}

/// Whether `id` is one of `groups`, compared exactly.
fn member<T: AsRef<str>>(groups: &[T], id: &str) -> bool {
    groups.iter().any(|group| group.as_ref() == id)
}
