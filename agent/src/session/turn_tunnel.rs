//! TURN over TCP and TLS for the agent. webrtc-rs speaks TURN over UDP
//! only, and a network that lets no UDP out (many company and hotel
//! networks) would leave the session without a path. So for each
//! `turn:…?transport=tcp` and `turns:` URL the session is given, a tunnel
//! on this machine takes the TURN client's datagrams and carries them to
//! the relay over TCP (or TLS, checked against the system's roots, which
//! `SSL_CERT_FILE` replaces) — one connection per client socket, since a
//! relay keys allocations by connection — and cuts what comes back into
//! datagrams again (`tether_shared::turn_stream`). The peer is told
//! `turn:<local address>:<port>?transport=udp` in its place. What the
//! relay relays to the browser is UDP as always (RFC 8656).
//!
//! The tunnels stop when [`Tunnels`] is dropped (with the peer).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tether_shared::media_path::Transport;
use tether_shared::signal::IceServer;
use tether_shared::turn_stream::{Cutter, MAX_MESSAGE, padding, relayed_address};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How long connecting to a relay (and the TLS handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Datagrams waiting for one connection; more are dropped, as UDP would.
const QUEUE: usize = 256;

/// The session's tunnels; dropping this stops them.
#[derive(Debug, Default)]
pub struct Tunnels {
    tasks: JoinSet<()>,
    /// The URLs the peer was given for them, and how each reaches its relay.
    given: Vec<(String, Transport)>,
    /// The relayed addresses allocated through them.
    relayed: Relayed,
}

/// The relayed addresses allocated through the tunnels, and over what,
/// shared with their tasks.
pub type Relayed = Arc<Mutex<HashMap<SocketAddr, Transport>>>;

impl Tunnels {
    /// The URLs the peer was given for the tunnels.
    pub fn given(&self) -> &[(String, Transport)] {
        &self.given
    }

    /// The relayed addresses allocated through a tunnel (read from the
    /// relay's Allocate answers), and how their relay is reached.
    pub fn relayed(&self) -> Relayed {
        Arc::clone(&self.relayed)
    }
}

/// A relay reached over a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StreamRelay {
    /// `host:port`, to connect to.
    address: String,
    /// The host, as the certificate must name it.
    host: String,
    over: Transport,
}

/// The ICE servers to give the peer: each `turn:` URL over TCP and each
/// `turns:` URL replaced by a tunnel on `local` (an address the peer's
/// sockets can send to).
pub async fn open(servers: &[IceServer], local: IpAddr) -> (Vec<IceServer>, Tunnels) {
    let mut tunnels = Tunnels::default();
    let mut tls = None;
    let mut given = Vec::with_capacity(servers.len());
    for server in servers {
        let mut urls = Vec::with_capacity(server.urls.len());
        for url in &server.urls {
            let Some(relay) = stream_relay(url) else {
                urls.push(url.clone());
                continue;
            };
            let config = match relay.over {
                Transport::Tls => match tls.get_or_insert_with(tls_config) {
                    Some(config) => Some(Arc::clone(config)),
                    None => continue,
                },
                _ => None,
            };
            let bound = UdpSocket::bind((local, 0)).await.and_then(|socket| Ok((socket.local_addr()?, socket)));
            match bound {
                Ok((at, socket)) => {
                    tracing::debug!(relay = relay.address, over = relay.over.label(), %at, "TURN through a local tunnel");
                    let over = relay.over;
                    tunnels.tasks.spawn(serve(Arc::new(socket), relay, config, tunnels.relayed()));
                    let local_url = format!("turn:{at}?transport=udp");
                    tunnels.given.push((local_url.clone(), over));
                    urls.push(local_url);
                }
                Err(err) => tracing::warn!(error = %err, %url, "cannot open a tunnel for TURN over TCP"),
            }
        }
        if !urls.is_empty() {
            given.push(IceServer { urls, ..server.clone() });
        }
    }
    (given, tunnels)
}

/// A TLS client configuration trusting the system's roots (or those in
/// `SSL_CERT_FILE`); `None`, with a warning, when there are none.
fn tls_config() -> Option<Arc<rustls::ClientConfig>> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        tracing::warn!(errors = ?found.errors, "no trusted certificates: TURN over TLS is not used");
        return None;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(Arc::new(config))
}

/// Where the peer's sockets can reach a tunnel: loopback when they listen
/// there or everywhere, else the first address they are bound to.
pub fn local_address(udp_addrs: &[String]) -> IpAddr {
    let bound: Vec<SocketAddr> = udp_addrs.iter().filter_map(|addr| addr.parse().ok()).collect();
    let reaches_loopback = |addr: &SocketAddr| addr.ip().is_loopback() || addr.ip().is_unspecified();
    match bound.iter().find(|addr| reaches_loopback(addr)).or(bound.first()) {
        Some(addr) if addr.is_ipv6() && reaches_loopback(addr) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        Some(addr) if reaches_loopback(addr) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some(addr) => addr.ip(),
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// The relay of a `turn:host[:port]?transport=tcp` or
/// `turns:host[:port][?transport=tcp]` URL.
fn stream_relay(url: &str) -> Option<StreamRelay> {
    let (scheme, rest) = url.split_once(':')?;
    let (host_port, query) = match rest.split_once('?') {
        Some((host_port, query)) => (host_port, Some(query)),
        None => (rest, None),
    };
    let tcp = query.is_some_and(|query| query.eq_ignore_ascii_case("transport=tcp"));
    let (over, default_port) = match scheme.to_ascii_lowercase().as_str() {
        "turn" if tcp => (Transport::Tcp, 3478),
        "turns" if tcp || query.is_none() => (Transport::Tls, 5349),
        _ => return None,
    };
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port: u16 = port.map_or(Some(default_port), |port| port.parse().ok())?;
    let address = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    Some(StreamRelay { address, host: host.to_owned(), over })
}

/// Carries the datagrams arriving on `socket` to `relay`, a connection per
/// sender, until dropped.
async fn serve(socket: Arc<UdpSocket>, relay: StreamRelay, tls: Option<Arc<rustls::ClientConfig>>, relayed: Relayed) {
    let mut links: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>> = HashMap::new();
    let mut connections = JoinSet::new();
    let mut buffer = vec![0u8; MAX_MESSAGE];
    loop {
        let (length, client) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            Err(err) => {
                tracing::warn!(error = %err, "the TURN tunnel's socket failed");
                return;
            }
        };
        links.retain(|_, link| !link.is_closed());
        while connections.try_join_next().is_some() {}
        let link = links.entry(client).or_insert_with(|| {
            let (link, datagrams) = mpsc::channel(QUEUE);
            let ends = Ends { client, socket: Arc::clone(&socket), relayed: Arc::clone(&relayed) };
            connections.spawn(carry(relay.clone(), tls.clone(), datagrams, ends));
            link
        });
        // Full: the relay is not keeping up; dropped, as UDP would.
        let _ = link.try_send(buffer[..length].to_vec());
    }
}

/// What one connection carries between: the client socket it answers,
/// through the tunnel's socket, and where allocations are noted.
struct Ends {
    client: SocketAddr,
    socket: Arc<UdpSocket>,
    relayed: Relayed,
}

/// A connection to a relay, TCP or TLS.
trait RelayStream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> RelayStream for T {}

/// Connects to `relay`, over TLS with `tls` when it is a `turns:` relay.
async fn connect(relay: &StreamRelay, tls: Option<Arc<rustls::ClientConfig>>) -> std::io::Result<Box<dyn RelayStream>> {
    let tcp = TcpStream::connect(&relay.address).await?;
    let _ = tcp.set_nodelay(true);
    let Some(tls) = tls else { return Ok(Box::new(tcp)) };
    let name = ServerName::try_from(relay.host.clone()).map_err(std::io::Error::other)?;
    let stream = tokio_rustls::TlsConnector::from(tls).connect(name, tcp).await?;
    Ok(Box::new(stream))
}

/// One client socket's connection to the relay: its datagrams out, the
/// relay's messages back, until either side ends.
async fn carry(
    relay: StreamRelay,
    tls: Option<Arc<rustls::ClientConfig>>,
    mut datagrams: mpsc::Receiver<Vec<u8>>,
    ends: Ends,
) {
    let Ends { client, socket, relayed } = ends;
    let over = relay.over.label();
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, connect(&relay, tls)).await {
        Ok(Ok(stream)) => stream,
        // A certificate the system does not trust is worth saying; a relay
        // a firewall keeps away is not (other ways are tried).
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::InvalidData => {
            tracing::warn!(relay = relay.address, error = %err, "the relay's TLS certificate is not trusted");
            return;
        }
        Ok(Err(err)) => {
            tracing::debug!(relay = relay.address, over, error = %err, "cannot reach the relay");
            return;
        }
        Err(_) => {
            tracing::debug!(relay = relay.address, over, "reaching the relay timed out");
            return;
        }
    };
    let (mut reader, mut writer) = tokio::io::split(stream);
    let sending = async {
        while let Some(datagram) = datagrams.recv().await {
            writer.write_all(&datagram).await?;
            writer.write_all(&[0u8; 3][..padding(&datagram)]).await?;
        }
        std::io::Result::Ok(())
    };
    let receiving = async {
        let mut cutter = Cutter::default();
        let mut chunk = vec![0u8; 16_384];
        loop {
            while let Some(message) = cutter.next_message().map_err(std::io::Error::other)? {
                if let Some(address) = relayed_address(&message) {
                    relayed.lock().unwrap_or_else(PoisonError::into_inner).insert(address, relay.over);
                }
                socket.send_to(&message, client).await?;
            }
            let read = reader.read(&mut chunk).await?;
            if read == 0 {
                return std::io::Result::Ok(());
            }
            cutter.push(&chunk[..read]);
        }
    };
    let ended = tokio::select! {
        ended = sending => ended,
        ended = receiving => ended,
    };
    match ended {
        Ok(()) => tracing::debug!(relay = relay.address, over, %client, "a TURN connection to the relay closed"),
        Err(err) => {
            tracing::info!(relay = relay.address, over, %client, error = %err, "a TURN connection to the relay ended")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_over_tcp_and_turns_urls_are_tunnelled() {
        let relay = |url: &str| stream_relay(url).map(|relay| (relay.address, relay.host, relay.over));
        let tcp = |address: &str, host: &str| Some((address.to_owned(), host.to_owned(), Transport::Tcp));
        let tls = |address: &str, host: &str| Some((address.to_owned(), host.to_owned(), Transport::Tls));
        assert_eq!(
            relay("turn:relay.example.org:3478?transport=tcp"),
            tcp("relay.example.org:3478", "relay.example.org")
        );
        assert_eq!(relay("TURN:10.0.0.1?transport=TCP"), tcp("10.0.0.1:3478", "10.0.0.1"));
        assert_eq!(relay("turn:[::1]:4000?transport=tcp"), tcp("[::1]:4000", "::1"));
        assert_eq!(relay("turns:relay.example.org"), tls("relay.example.org:5349", "relay.example.org"));
        assert_eq!(relay("turns:10.0.0.1:443?transport=tcp"), tls("10.0.0.1:443", "10.0.0.1"));
        for not_stream in [
            "turn:10.0.0.1:3478?transport=udp",
            "turn:10.0.0.1:3478",
            "turns:x?transport=udp",
            "turn:x:nope?transport=tcp",
        ] {
            assert_eq!(relay(not_stream), None, "{not_stream}");
        }
    }

    #[test]
    fn the_tunnel_listens_where_the_peer_can_send() {
        let of = |addrs: &[&str]| local_address(&addrs.iter().map(|addr| (*addr).to_owned()).collect::<Vec<_>>());
        assert_eq!(of(&["0.0.0.0:0", "127.0.0.1:0"]), IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(of(&["10.231.4.2:0"]), "10.231.4.2".parse::<IpAddr>().expect("ip"));
        assert_eq!(of(&["[::]:0"]), IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(of(&[]), IpAddr::V4(Ipv4Addr::LOCALHOST));
    }

    #[tokio::test]
    async fn stream_urls_become_local_tunnels() {
        let server = IceServer {
            urls: vec!["turn:192.0.2.1:3478?transport=udp".into(), "turn:192.0.2.1:3478?transport=tcp".into()],
            username: Some("u".into()),
            credential: Some("p".into()),
        };
        let (given, tunnels) = open(&[server], IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
        assert_eq!(given.len(), 1);
        assert_eq!(given[0].urls.len(), 2);
        assert_eq!(given[0].urls[0], "turn:192.0.2.1:3478?transport=udp");
        assert!(given[0].urls[1].starts_with("turn:127.0.0.1:") && given[0].urls[1].ends_with("?transport=udp"));
        assert_eq!(tunnels.given(), [(given[0].urls[1].clone(), Transport::Tcp)], "only the tunnel's URL");
        assert_eq!(given[0].username.as_deref(), Some("u"));
    }
}
