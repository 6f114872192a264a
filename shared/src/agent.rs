//! Agents as the server and the technician see them: what an agent reports
//! about its machine, enrollment, and the target list.

use serde::{Deserialize, Serialize};

/// Longest accepted text field an agent reports (hostname, OS, user).
pub const MAX_INFO_FIELD_CHARS: usize = 128;
/// Most displays an agent may report.
pub const MAX_DISPLAYS: usize = 16;

/// One display of the target machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayInfo {
    /// Stable name, e.g. `:0` or `DP-1`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub primary: bool,
}

/// What an agent reports about its machine, at enrollment and each connect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentInfo {
    pub hostname: String,
    /// Operating system and version, e.g. `Debian GNU/Linux 12`.
    pub os: String,
    /// The logged-in user, if any.
    pub os_user: String,
    pub agent_version: String,
    pub displays: Vec<DisplayInfo>,
}

/// Why an [`AgentInfo`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("agent info invalid: {0}")]
pub struct InvalidAgentInfo(pub &'static str);

impl AgentInfo {
    /// Checks lengths and ranges so hostile agents cannot store junk.
    pub fn validate(&self) -> Result<(), InvalidAgentInfo> {
        let text_ok = |s: &str| s.chars().count() <= MAX_INFO_FIELD_CHARS && !s.chars().any(char::is_control);
        if self.hostname.is_empty() || !text_ok(&self.hostname) {
            return Err(InvalidAgentInfo("hostname must be 1 to 128 printable characters"));
        }
        if !text_ok(&self.os) || !text_ok(&self.os_user) || !text_ok(&self.agent_version) {
            return Err(InvalidAgentInfo("os, os_user and agent_version must be at most 128 printable characters"));
        }
        if self.displays.len() > MAX_DISPLAYS {
            return Err(InvalidAgentInfo("too many displays"));
        }
        let display_ok = |d: &DisplayInfo| {
            !d.name.is_empty() && text_ok(&d.name) && (1..=16384).contains(&d.width) && (1..=16384).contains(&d.height)
        };
        if !self.displays.iter().all(display_ok) {
            return Err(InvalidAgentInfo("each display needs a name and a size from 1 to 16384 pixels"));
        }
        Ok(())
    }
}

/// `POST /api/enrollment-tokens` (admin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEnrollmentTokenRequest {
    /// What the token is for, e.g. "Library PCs".
    pub label: String,
    /// Minutes until the token expires, 1 to 43 200 (30 days).
    pub ttl_minutes: u32,
    /// How many agents may enroll with it, 1 to 10 000.
    pub max_uses: u32,
    /// The target groups (ids) computers enrolling with it join.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// An enrollment token as listed; the secret is shown only at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentTokenView {
    pub id: String,
    pub label: String,
    pub created_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: u32,
    pub uses: u32,
    pub revoked: bool,
    /// The target groups computers enrolling with it join.
    #[serde(default)]
    pub groups: Vec<crate::groups::Named>,
}

/// Answer to creating a token: the secret, once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEnrollmentToken {
    pub token: String,
    pub info: EnrollmentTokenView,
}

/// `POST /api/agent/enroll`: an agent trades a token for its own credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    pub token: String,
    pub info: AgentInfo,
}

/// The agent's identity and credential, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub agent_id: String,
    pub credential: String,
    /// The key the server signs session grants with, for the agent to pin.
    pub grant_key: crate::grant::PublicGrantKey,
}

/// A target in the technician's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetView {
    pub id: String,
    /// The name an administrator gave the computer, if any (else its
    /// reported host name names it).
    #[serde(default)]
    pub display_name: Option<String>,
    pub info: AgentInfo,
    pub online: bool,
    /// Last time the agent was connected, Unix milliseconds.
    pub last_seen_at: Option<i64>,
    pub enrolled_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> AgentInfo {
        AgentInfo {
            hostname: "pc-17".into(),
            os: "Debian GNU/Linux 12".into(),
            os_user: "alice".into(),
            agent_version: "0.1.0".into(),
            displays: vec![DisplayInfo { name: ":0".into(), width: 1920, height: 1080, primary: true }],
        }
    }

    #[test]
    fn good_info_passes() {
        assert_eq!(info().validate(), Ok(()));
    }

    #[test]
    fn hostile_info_is_refused() {
        let mut bad = info();
        bad.hostname = "x".repeat(129);
        assert!(bad.validate().is_err());
        let mut bad = info();
        bad.os_user = "a\u{1b}[31m".into();
        assert!(bad.validate().is_err());
        let mut bad = info();
        bad.displays[0].width = 0;
        assert!(bad.validate().is_err());
        let mut bad = info();
        bad.displays = vec![bad.displays[0].clone(); 17];
        assert!(bad.validate().is_err());
    }
}
