//! The default broker: a TURN relay embedded in the server with the `turn`
//! crate, so one machine works with no extra process. Clients reach it over
//! UDP and, on the same port, over TCP ([`super::stream_conn`]: for
//! networks that let no UDP out), and over TLS on a port of its own where
//! a certificate is given; it relays over UDP. It checks
//! TURN REST credentials itself ([`RestAuth`]; the crate's own
//! `LongTermAuthHandler` rejects `expiry:name` usernames) and relays only
//! to peers [`super::peers`] allows. Start it with [`EmbeddedRelay::start`]
//! and stop it with [`EmbeddedRelay::stop`] on shutdown.

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::{TcpListener, UdpSocket};
use turn::auth::{AuthHandler, generate_auth_key};
use turn::relay::RelayAddressGenerator;
use turn::relay::relay_range::RelayAddressGeneratorRanges;
use turn::relay::relay_static::RelayAddressGeneratorStatic;
use turn::server::Server;
use turn::server::config::{ConnConfig, ServerConfig};
use webrtc_util::vnet::net::Net;

use super::credentials::TurnSecret;
use super::peers::{FilteringGenerator, PeerPolicy};
use super::stream_conn::{Listener, Listening, StreamConn};

/// How many times a relay on port 0 looks for a port free for both UDP and TCP.
const PORT_TRIES: usize = 8;

/// How to run the embedded relay.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Address the relay listens on, UDP and TCP alike (e.g.
    /// `127.0.0.1:3478`; port 0 picks one free for both).
    pub listen: SocketAddr,
    /// Address relayed sockets are bound to and announced as; it must be
    /// an address of this machine that both ends can reach (not 0.0.0.0).
    pub relay_ip: IpAddr,
    /// Ports for relayed sockets; `None` lets the system pick.
    pub relay_ports: Option<RangeInclusive<u16>>,
    /// The TURN realm.
    pub realm: String,
    /// The secret credentials are signed with.
    pub secret: TurnSecret,
    /// Relay to loopback peers (tests on one machine only).
    pub allow_loopback_peers: bool,
    /// Where TURN over TLS is served, and with which certificate.
    pub tls: Option<(SocketAddr, Arc<rustls::ServerConfig>)>,
}

impl EmbeddedConfig {
    /// Everything on one machine: an ephemeral loopback port (never the
    /// default 3478, which parallel servers would fight over) that may relay
    /// to loopback peers, realm `tether.test`.
    pub fn loopback(secret: TurnSecret) -> Self {
        EmbeddedConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            relay_ip: IpAddr::from([127, 0, 0, 1]),
            relay_ports: None,
            realm: "tether.test".into(),
            secret,
            allow_loopback_peers: true,
            tls: None,
        }
    }
}

/// Why the relay could not start or stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The listening socket could not be bound.
    #[error("cannot bind the embedded TURN relay to {address}: {source}")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The relay address is unspecified or the port range is empty.
    #[error("bad embedded TURN relay settings: {0}")]
    Config(&'static str),
    /// The `turn` crate refused to start or stop.
    #[error("embedded TURN relay: {0}")]
    Turn(#[from] turn::Error),
}

/// A running embedded relay.
pub struct EmbeddedRelay {
    server: Server,
    local_addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    /// The TCP and TLS listeners, closed when this is dropped.
    listening: Listening,
}

impl std::fmt::Debug for EmbeddedRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedRelay").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl EmbeddedRelay {
    /// Binds the listening socket and starts relaying.
    pub async fn start(config: EmbeddedConfig) -> Result<Self, RelayError> {
        if config.relay_ip.is_unspecified() {
            return Err(RelayError::Config("the relay address must be a real address, not 0.0.0.0 or ::"));
        }
        if matches!(&config.relay_ports, Some(ports) if ports.is_empty() || *ports.start() == 0) {
            return Err(RelayError::Config("the relay port range is empty or starts at 0"));
        }
        let (socket, listener) = bind_both(config.listen).await?;
        let local_addr = socket.local_addr().map_err(|source| RelayError::Bind { address: config.listen, source })?;
        let mut listeners = vec![Listener { tcp: listener, tls: None }];
        let mut tls_addr = None;
        if let Some((address, tls)) = &config.tls {
            let tcp =
                TcpListener::bind(address).await.map_err(|source| RelayError::Bind { address: *address, source })?;
            tls_addr = Some(tcp.local_addr().map_err(|source| RelayError::Bind { address: *address, source })?);
            listeners.push(Listener { tcp, tls: Some(Arc::clone(tls)) });
        }
        let (stream, listening) =
            StreamConn::serve(listeners).map_err(|source| RelayError::Bind { address: local_addr, source })?;
        let policy = PeerPolicy { allow_loopback: config.allow_loopback_peers };
        let generator = || -> Box<dyn RelayAddressGenerator + Send + Sync> {
            let (net, address) = (Arc::new(Net::new(None)), config.relay_ip.to_string());
            let inner: Box<dyn RelayAddressGenerator + Send + Sync> = match &config.relay_ports {
                Some(ports) => Box::new(RelayAddressGeneratorRanges {
                    relay_address: config.relay_ip,
                    min_port: *ports.start(),
                    max_port: *ports.end(),
                    max_retries: 0,
                    address,
                    net,
                }),
                None => Box::new(RelayAddressGeneratorStatic { relay_address: config.relay_ip, address, net }),
            };
            Box::new(FilteringGenerator { inner, policy })
        };
        let server = Server::new(ServerConfig {
            conn_configs: vec![
                ConnConfig { conn: Arc::new(socket), relay_addr_generator: generator() },
                ConnConfig { conn: stream, relay_addr_generator: generator() },
            ],
            realm: config.realm,
            auth_handler: Arc::new(RestAuth { secret: config.secret }),
            channel_bind_timeout: Duration::ZERO,
            alloc_close_notify: None,
        })
        .await?;
        tracing::info!(%local_addr, "embedded TURN relay listening (UDP and TCP)");
        if let Some(tls_addr) = tls_addr {
            tracing::info!(%tls_addr, "embedded TURN relay listening (TLS)");
        }
        Ok(EmbeddedRelay { server, local_addr, tls_addr, listening })
    }

    /// The address the relay listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where it serves TURN over TLS, if it does.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// The TURN URLs for clients on the address it listens on, UDP, TCP,
    /// then TLS (`crate::config::embedded_urls` when it listens on every
    /// interface).
    pub fn urls(&self) -> Vec<String> {
        crate::config::embedded_urls(self.local_addr, self.tls_addr, self.local_addr.ip())
    }

    /// Stops relaying: every allocation is closed and the socket released.
    pub async fn stop(self) -> Result<(), RelayError> {
        drop(self.listening);
        self.server.close().await?;
        tracing::info!(local_addr = %self.local_addr, "embedded TURN relay stopped");
        Ok(())
    }
}

/// Binds UDP and TCP on the same address; on port 0, on a port free for both.
async fn bind_both(listen: SocketAddr) -> Result<(UdpSocket, TcpListener), RelayError> {
    let bind_error = |address, source| RelayError::Bind { address, source };
    let tries = if listen.port() == 0 { PORT_TRIES } else { 1 };
    let mut last = None;
    for _ in 0..tries {
        let socket = UdpSocket::bind(listen).await.map_err(|source| bind_error(listen, source))?;
        let bound = socket.local_addr().map_err(|source| bind_error(listen, source))?;
        match TcpListener::bind(bound).await {
            Ok(listener) => return Ok((socket, listener)),
            Err(source) => last = Some(bind_error(bound, source)),
        }
    }
    Err(last.unwrap_or(RelayError::Config("no port to bind")))
}

/// Checks TURN REST usernames (`expiry:name`) and derives the long-term
/// key from the HMAC-SHA1 password, on every authenticated request, so a
/// credential stops working once it expires.
struct RestAuth {
    secret: TurnSecret,
}

impl AuthHandler for RestAuth {
    fn auth_handle(&self, username: &str, realm: &str, src_addr: SocketAddr) -> Result<Vec<u8>, turn::Error> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(|err| turn::Error::Other(err.to_string()))?;
        match self.secret.check(username, now.as_secs()) {
            Ok(password) => Ok(generate_auth_key(username, realm, &password)),
            Err(err) => {
                // Debug, not info: anyone can send these, and the log must not be floodable.
                tracing::debug!(%src_addr, username, error = %err, "embedded TURN relay refused a credential");
                Err(turn::Error::Other(err.to_string()))
            }
        }
    }
}
