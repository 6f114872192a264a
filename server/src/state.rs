//! The state every handler shares: database, token keys, login throttle.

use crate::auth::rate_limit::{LoginLimits, LoginThrottle};
use crate::auth::tokens::TokenKeys;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Cheap-to-clone application state, passed to handlers with `with_state`.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub keys: TokenKeys,
    pub throttle: LoginThrottle,
    /// Verified against when a login names an unknown user, so unknown and
    /// known usernames take the same time to refuse.
    pub dummy_hash: Arc<String>,
    /// Connected agents.
    pub hub: crate::hub::Hub,
    /// Live sessions' signalling routes.
    pub relay: crate::relay::Relay,
    /// STUN/TURN servers handed to both ends of a session.
    pub ice: Arc<crate::ice::IceConfig>,
    /// How long sessions wait for their ends.
    pub timings: SessionTimings,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
}

impl AppState {
    pub async fn new(store: Store, keys: TokenKeys, limits: LoginLimits, secure_cookies: bool) -> anyhow::Result<Self> {
        Ok(Self {
            store,
            keys,
            throttle: LoginThrottle::new(limits),
            dummy_hash: Arc::new(crate::auth::password::dummy_hash().await?),
            hub: crate::hub::Hub::default(),
            relay: crate::relay::Relay::default(),
            ice: Arc::new(crate::ice::IceConfig::default()),
            timings: SessionTimings::default(),
            secure_cookies,
        })
    }
}

impl AppState {
    /// The same state with these ICE servers and session timers.
    pub fn with_signalling(self, ice: crate::ice::IceConfig, timings: SessionTimings) -> Self {
        Self { ice: Arc::new(ice), timings, ..self }
    }
}

/// How long a session waits for its two ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimings {
    /// A session whose controller disconnected (without a `bye`) ends
    /// after this long unless the technician re-attaches.
    pub reload_grace: Duration,
    /// A session still `requested` (no controller, or no answer from the
    /// target) this long after it was opened ends.
    pub request_timeout: Duration,
}

impl Default for SessionTimings {
    fn default() -> Self {
        Self { reload_grace: Duration::from_secs(30), request_timeout: Duration::from_secs(60) }
    }
}
