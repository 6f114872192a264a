//! Brokers: TURN relays that carry a session's media when its two ends
//! cannot reach each other directly. The server hands each end short-lived
//! TURN REST credentials ([`credentials`]) for the broker it chose; the
//! default broker is a relay embedded in the server ([`embedded`]), a
//! production one is coturn sharing the same secret.

pub mod credentials;
pub mod embedded;
mod peers;
pub mod registry;
mod stream_conn;
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
    /// whose credentials live `lifetime` (1 s to 10 min). Each `turn:` URL
    /// over UDP comes with its TCP twin ([`with_tcp`]).
    pub fn new(urls: Vec<String>, secret: TurnSecret, lifetime: Duration) -> Result<Self, CredentialError> {
        if lifetime > MAX_LIFETIME || lifetime.as_secs() == 0 {
            return Err(CredentialError::BadLifetime);
        }
        Ok(Broker { urls: with_tcp(urls), secret, lifetime })
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

/// `urls` with a `turn:host:port?transport=tcp` after each `turn:` URL over
/// UDP (or with no transport) that has none in the list: a relay (coturn
/// as well as the embedded one) listens for TCP on its UDP port, and a
/// network that lets no UDP out still reaches it that way.
pub fn with_tcp(urls: Vec<String>) -> Vec<String> {
    let tcp_of = |url: &str| {
        let (scheme, rest) = url.split_once(':')?;
        if !scheme.eq_ignore_ascii_case("turn") {
            return None;
        }
        match rest.split_once('?') {
            None => Some(format!("turn:{rest}?transport=tcp")),
            Some((at, query)) if query.eq_ignore_ascii_case("transport=udp") => {
                Some(format!("turn:{at}?transport=tcp"))
            }
            Some(_) => None,
        }
    };
    let mut all = Vec::with_capacity(urls.len() * 2);
    for url in &urls {
        all.push(url.clone());
        if let Some(tcp) = tcp_of(url)
            && !urls.iter().chain(all.iter()).any(|other| other.eq_ignore_ascii_case(&tcp))
        {
            all.push(tcp);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_turn_url_over_udp_comes_with_its_tcp_twin() {
        let urls = |list: &[&str]| list.iter().map(|url| (*url).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            with_tcp(urls(&["turn:relay.example.org:3478", "turns:relay.example.org"])),
            urls(&[
                "turn:relay.example.org:3478",
                "turn:relay.example.org:3478?transport=tcp",
                "turns:relay.example.org"
            ])
        );
        let both = urls(&["turn:10.0.0.1:3478?transport=udp", "turn:10.0.0.1:3478?transport=tcp"]);
        assert_eq!(with_tcp(both.clone()), both, "no twin twice");
        assert_eq!(
            with_tcp(urls(&["turn:10.0.0.1?transport=udp"])),
            urls(&["turn:10.0.0.1?transport=udp", "turn:10.0.0.1?transport=tcp"])
        );
    }

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
                urls: vec![urls[0].clone(), "turn:127.0.0.1:3478?transport=tcp".into()],
                username: Some(format!("1700000600:{session}")),
                credential: Some("7O1a5VbBTCEBDcWfibbLFulTd4w=".into()),
            }
        );
        assert!(Broker::new(vec![], secret, Duration::from_secs(601)).is_err());
    }
}
