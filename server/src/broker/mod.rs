//! Brokers: TURN relays that carry a session's media when its two ends
//! cannot reach each other directly. The server hands each end short-lived
//! TURN REST credentials ([`credentials`]) for the broker it chose; the
//! default broker is a relay embedded in the server ([`embedded`]), a
//! production one is coturn sharing the same secret.

pub mod credentials;
pub mod embedded;
mod peers;
pub mod registry;
pub mod table;

use std::time::Duration;

use tether_shared::signal::IceServer;

pub use credentials::{CredentialError, MAX_LIFETIME, TurnCredential, TurnSecret};
pub use embedded::{EmbeddedConfig, EmbeddedRelay, RelayError};
pub use registry::{BrokerError, BrokerSettings, BrokerSpec, Brokers};

/// One broker: the TURN URLs both ends use and the secret it shares with
/// the server.
#[derive(Debug, Clone)]
pub struct Broker {
    urls: Vec<String>,
    secret: TurnSecret,
    lifetime: Duration,
}

impl Broker {
    /// A broker reached at `urls` (`turn:host:port?transport=udp`, ...)
    /// whose credentials live `lifetime` (1 s to 10 min).
    pub fn new(urls: Vec<String>, secret: TurnSecret, lifetime: Duration) -> Result<Self, CredentialError> {
        if lifetime > MAX_LIFETIME || lifetime.as_secs() == 0 {
            return Err(CredentialError::BadLifetime);
        }
        Ok(Broker { urls, secret, lifetime })
    }

    /// The broker's TURN URLs.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The ICE server entry for one end of session `session_id`, with a
    /// fresh credential valid from `now_unix` (seconds) for the broker's
    /// lifetime.
    pub fn ice_server(&self, session_id: &str, now_unix: u64) -> Result<IceServer, CredentialError> {
        let credential = self.secret.issue(session_id, now_unix, self.lifetime)?;
        Ok(IceServer {
            urls: self.urls.clone(),
            username: Some(credential.username),
            credential: Some(credential.password),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice_server_carries_a_rest_credential_for_the_session() {
        let secret = TurnSecret::new("tether-test-secret").expect("secret");
        let urls = vec!["turn:127.0.0.1:3478?transport=udp".to_owned()];
        let broker = Broker::new(urls.clone(), secret.clone(), Duration::from_secs(600)).expect("broker");
        let session = "4b0f2c1e-8d6a-4f7e-9c31-2a5b7d9e0f11";
        let server = broker.ice_server(session, 1_700_000_000).expect("credential");
        assert_eq!(
            server,
            IceServer {
                urls,
                username: Some(format!("1700000600:{session}")),
                credential: Some("7O1a5VbBTCEBDcWfibbLFulTd4w=".into()),
            }
        );
        assert!(Broker::new(vec![], secret, Duration::from_secs(601)).is_err());
    }
}
