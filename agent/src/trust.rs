//! What this agent believes of its server: only grants signed by the key
//! it pinned (at enrollment, at `configure`, or — for an agent that only
//! ever took a code — on first use), for this computer and the session at
//! hand, at this computer's time (`tether_shared::grant::verify`).

use crate::config::AgentConfig;
use ed25519_dalek::VerifyingKey;
use tether_shared::grant::{Expectation, Grant, SignedGrant, verify};

/// The pinned server key, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerTrust {
    key: Option<VerifyingKey>,
}

impl ServerTrust {
    /// Trusts grants signed by `key`.
    pub fn pinned(key: VerifyingKey) -> Self {
        Self { key: Some(key) }
    }

    /// Trusts no grant: an agent that pinned no key yet.
    pub fn nothing() -> Self {
        Self { key: None }
    }

    /// The key `config` pinned; an error if the stored key is unusable.
    pub fn from_config(config: &AgentConfig) -> anyhow::Result<Self> {
        match &config.grant_key {
            None => Ok(Self::nothing()),
            Some(public) => Ok(Self::pinned(
                public.verifying_key().map_err(|err| anyhow::anyhow!("the configuration's server key: {err}"))?,
            )),
        }
    }

    /// The grant in `signed`, if the pinned key signed it for `session_id`
    /// on computer `target` and it is valid now; else the sentence saying
    /// why not.
    pub fn check(&self, signed: &SignedGrant, session_id: &str, target: &str) -> Result<Grant, String> {
        let Some(key) = &self.key else {
            return Err(
                "this computer has pinned no server key, so it believes no grant: run `tether-agent configure`".into(),
            );
        };
        let expected = Expectation { session_id, target, now: unix_millis() };
        verify(signed, key, expected).map_err(|refusal| refusal.to_string())
    }
}

/// Now, as Unix milliseconds by this computer's clock.
pub fn unix_millis() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
