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
    pub ice: Arc<crate::ice::IceConfig>,
    /// How long sessions wait for their ends.
    pub timings: SessionTimings,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Brokers (TURN relays) and which session uses which.
    pub brokers: crate::broker::Brokers,
    /// Connection codes: their key, policy and redemption throttle.
    pub broker_sessions: crate::broker_sessions::BrokerSessions,
    /// How often every signalling socket is pinged (a peer silent for
    /// `HEARTBEATS_MISSED` beats is dropped).
    pub heartbeat: std::time::Duration,
    /// Every open WebSocket (agents, targets, controllers), so a shutdown
    /// can wait for them to deliver their last messages.
    pub sockets: tokio_util::task::TaskTracker,
    /// Signs session grants; agents pin its public half.
    pub grant_key: crate::grants::GrantKey,
}

impl AppState {
    pub async fn new(store: Store, keys: TokenKeys, limits: LoginLimits, secure_cookies: bool) -> anyhow::Result<Self> {
        let added_brokers = crate::broker::table::list(store.pool()).await?;
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
            brokers: crate::broker::Brokers::new(crate::broker::BrokerSettings::ephemeral()?, added_brokers)?,
            broker_sessions: crate::broker_sessions::BrokerSessions::default(),
            heartbeat: std::time::Duration::from_secs(tether_shared::signal::HEARTBEAT_INTERVAL_SECS),
            sockets: tokio_util::task::TaskTracker::new(),
            grant_key: crate::grants::GrantKey::ephemeral(),
        })
    }
}

impl AppState {
    /// The same state with these ICE servers and session timers.
    pub fn with_signalling(self, ice: crate::ice::IceConfig, timings: SessionTimings) -> Self {
        Self { ice: Arc::new(ice), timings, ..self }
    }

    /// The same state signing grants with `grant_key` (the data
    /// directory's; a fresh one is made for tests otherwise).
    pub fn with_grant_key(self, grant_key: crate::grants::GrantKey) -> Self {
        Self { grant_key, ..self }
    }

    /// The same state with heartbeats every `period`.
    pub fn with_heartbeat(self, period: std::time::Duration) -> Self {
        Self { heartbeat: period, ..self }
    }

    /// The same state with these connection-code settings (key, policy,
    /// redemption limits).
    pub fn with_broker_sessions(self, broker_sessions: crate::broker_sessions::BrokerSessions) -> Self {
        Self { broker_sessions, ..self }
    }

    /// The same state with these broker settings (secret, credential
    /// lifetime, built-in brokers); admin-added brokers are kept.
    pub fn with_brokers(self, settings: crate::broker::BrokerSettings) -> anyhow::Result<Self> {
        Ok(Self { brokers: self.brokers.reconfigured(settings)?, ..self })
    }

    /// The ICE servers for one end of session `session_id`: the configured
    /// STUN (and static TURN) servers plus a fresh TURN REST credential for
    /// the session's broker — `broker` if named, else the one the session
    /// already has, else the least loaded — and that broker's `host:port`
    /// (`None` when there are no brokers).
    pub fn ice_servers(
        &self,
        session_id: &str,
        broker: Option<&str>,
    ) -> Result<(Vec<tether_shared::signal::IceServer>, Option<String>), crate::broker::BrokerError> {
        let mut servers = self.ice.servers_for(session_id);
        let turn = self.brokers.turn_for(session_id, broker)?;
        let address = turn.map(|(server, address)| {
            servers.push(server);
            address
        });
        Ok((servers, address))
    }
}

/// How long a session waits for its ends: the session machine's timings.
pub use tether_shared::session_lifecycle::Timings as SessionTimings;
