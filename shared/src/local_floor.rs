//! The agent's own settings as a floor under every policy: whatever the
//! server's effective [`Policy`] says, a computer whose operator chose
//! "always ask" asks its person to accept every session, and one set to
//! "never unattended" admits no session that nobody there started. The
//! agent applies its floor to the policy it receives ([`LocalFloor::apply`])
//! and enforces the result itself; the server can raise the bar, never
//! lower it.

use serde::{Deserialize, Serialize};

use crate::access_policy::Policy;

/// The agent's local settings that no policy can loosen. Read from the
/// agent's own configuration: missing fields take the safe defaults,
/// unknown ones are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalFloor {
    /// The person at the computer accepts or rejects every session, even
    /// when the policy does not require it.
    pub always_ask: bool,
    /// No unattended session, even when the policy allows one: a session
    /// starts only from a connection code typed at this computer.
    pub never_unattended: bool,
}

impl Default for LocalFloor {
    /// Both on: a computer is opened to unattended or unasked sessions by
    /// its operator's deliberate choice, never by default.
    fn default() -> Self {
        LocalFloor { always_ask: true, never_unattended: true }
    }
}

impl LocalFloor {
    /// No floor: the policy alone decides (an operator's explicit choice,
    /// e.g. a kiosk run with `--unattended`).
    pub const NONE: LocalFloor = LocalFloor { always_ask: false, never_unattended: false };

    /// The policy this computer obeys: `effective` raised to the floor.
    /// Only ever tightens — the result is at least as restrictive as
    /// `effective` — and applying it twice changes nothing more.
    #[must_use]
    pub fn apply(self, effective: Policy) -> Policy {
        let mut policy = effective;
        policy.session.user_acceptance |= self.always_ask;
        policy.access.unattended &= !self.never_unattended;
        policy
    }
}
