//! The state every handler shares: database, token keys, login throttle.

use crate::auth::rate_limit::{LoginLimits, LoginThrottle};
use crate::auth::tokens::TokenKeys;
use crate::store::Store;
use std::sync::Arc;

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
    pub ice_servers: Arc<Vec<tether_shared::signal::IceServer>>,
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
            ice_servers: Arc::new(Vec::new()),
            secure_cookies,
        })
    }
}
