//! TURN over TCP for the agent. webrtc-rs speaks TURN over UDP only, and a
//! network that lets no UDP out (many company and hotel networks) would
//! leave the session without a path. So for each `turn:…?transport=tcp`
//! URL the session is given, a tunnel on this machine takes the TURN
//! client's datagrams and carries them over TCP to the relay — one
//! connection per client socket, since a relay keys allocations by
//! connection — and cuts what comes back into datagrams again
//! (`tether_shared::turn_stream`). The peer is told
//! `turn:<local address>:<port>?transport=udp` in its place. What the
//! relay relays to the browser is UDP as always (RFC 8656).
//!
//! The tunnels stop when [`Tunnels`] is dropped (with the peer).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tether_shared::signal::IceServer;
use tether_shared::turn_stream::{next_message, padding, relayed_address};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// How long connecting to a relay may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Datagrams waiting for one connection; more are dropped, as UDP would.
const QUEUE: usize = 256;
/// The largest message: a STUN header and the longest length.
const MAX_MESSAGE: usize = 20 + u16::MAX as usize;

/// The session's tunnels; dropping this stops them.
#[derive(Debug, Default)]
pub struct Tunnels {
    tasks: JoinSet<()>,
    /// The URLs the peer was given for them.
    urls: Vec<String>,
    /// The relayed addresses allocated through them.
    relayed: Relayed,
}

/// The relayed addresses allocated through the tunnels, shared with their tasks.
pub type Relayed = Arc<Mutex<HashSet<SocketAddr>>>;

impl Tunnels {
    /// The `turn:` URLs the peer was given for the tunnels: a relay
    /// candidate gathered through one of these reaches its relay over TCP.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The relayed addresses allocated through a tunnel (read from the
    /// relay's Allocate answers): a relay candidate with one of these
    /// addresses reaches its relay over TCP.
    pub fn relayed(&self) -> Relayed {
        Arc::clone(&self.relayed)
    }
}

/// The ICE servers to give the peer: each `turn:` URL over TCP replaced by
/// a tunnel on `local` (an address the peer's sockets can send to), and
/// `turns:` URLs left out (not yet carried; webrtc-rs cannot use them).
pub async fn open(servers: &[IceServer], local: IpAddr) -> (Vec<IceServer>, Tunnels) {
    let mut tunnels = Tunnels::default();
    let mut given = Vec::with_capacity(servers.len());
    for server in servers {
        let mut urls = Vec::with_capacity(server.urls.len());
        for url in &server.urls {
            match tcp_relay(url) {
                Some(relay) => {
                    match UdpSocket::bind((local, 0)).await.and_then(|socket| Ok((socket.local_addr()?, socket))) {
                        Ok((at, socket)) => {
                            tracing::debug!(%relay, %at, "TURN over TCP through a local tunnel");
                            tunnels.tasks.spawn(serve(Arc::new(socket), relay, tunnels.relayed()));
                            urls.push(format!("turn:{at}?transport=udp"));
                        }
                        Err(err) => tracing::warn!(error = %err, %url, "cannot open a tunnel for TURN over TCP"),
                    }
                }
                None if url.to_ascii_lowercase().starts_with("turns:") => {}
                None => urls.push(url.clone()),
            }
        }
        if !urls.is_empty() {
            given.push(IceServer { urls, ..server.clone() });
        }
    }
    (given, tunnels)
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

/// `host:port` of a `turn:host[:port]?transport=tcp` URL.
fn tcp_relay(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once(':')?;
    let (host_port, query) = rest.split_once('?')?;
    if !scheme.eq_ignore_ascii_case("turn") || !query.eq_ignore_ascii_case("transport=tcp") {
        return None;
    }
    let has_port = match host_port.rsplit_once(']') {
        Some((_, after)) => after.starts_with(':'),
        None => host_port.contains(':'),
    };
    Some(if has_port { host_port.to_owned() } else { format!("{host_port}:3478") })
}

/// Carries the datagrams arriving on `socket` to `relay`, a connection per
/// sender, until dropped.
async fn serve(socket: Arc<UdpSocket>, relay: String, relayed: Relayed) {
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
            connections.spawn(carry(relay.clone(), client, datagrams, Arc::clone(&socket), Arc::clone(&relayed)));
            link
        });
        // Full: the relay is not keeping up; dropped, as UDP would.
        let _ = link.try_send(buffer[..length].to_vec());
    }
}

/// One client socket's connection to the relay: its datagrams out, the
/// relay's messages back, until either side ends.
async fn carry(
    relay: String,
    client: SocketAddr,
    mut datagrams: mpsc::Receiver<Vec<u8>>,
    socket: Arc<UdpSocket>,
    relayed: Relayed,
) {
    let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&relay)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => {
            tracing::debug!(%relay, error = %err, "cannot reach the relay over TCP");
            return;
        }
        Err(_) => {
            tracing::debug!(%relay, "reaching the relay over TCP timed out");
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let sending = async {
        while let Some(datagram) = datagrams.recv().await {
            writer.write_all(&datagram).await?;
            writer.write_all(&[0u8; 3][..padding(&datagram)]).await?;
        }
        std::io::Result::Ok(())
    };
    let receiving = async {
        let mut buffer = Vec::with_capacity(4_096);
        let mut chunk = vec![0u8; 16_384];
        loop {
            while let Some(framed) = next_message(&buffer).map_err(std::io::Error::other)? {
                let message = &buffer[..framed.message];
                if let Some(address) = relayed_address(message) {
                    relayed.lock().unwrap_or_else(PoisonError::into_inner).insert(address);
                }
                socket.send_to(message, client).await?;
                buffer.drain(..framed.on_stream);
            }
            if buffer.len() > MAX_MESSAGE {
                return Err(std::io::Error::other("the relay sent a message longer than TURN allows"));
            }
            let read = reader.read(&mut chunk).await?;
            if read == 0 {
                return std::io::Result::Ok(());
            }
            buffer.extend_from_slice(&chunk[..read]);
        }
    };
    let ended = tokio::select! {
        ended = sending => ended,
        ended = receiving => ended,
    };
    match ended {
        Ok(()) => tracing::debug!(%relay, %client, "a TURN-over-TCP connection closed"),
        Err(err) => tracing::info!(%relay, %client, error = %err, "a TURN-over-TCP connection ended"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_turn_over_tcp_urls_are_tunnelled() {
        assert_eq!(tcp_relay("turn:relay.example.org:3478?transport=tcp").as_deref(), Some("relay.example.org:3478"));
        assert_eq!(tcp_relay("TURN:10.0.0.1?transport=TCP").as_deref(), Some("10.0.0.1:3478"));
        assert_eq!(tcp_relay("turn:[::1]:4000?transport=tcp").as_deref(), Some("[::1]:4000"));
        assert_eq!(tcp_relay("turn:[::1]?transport=tcp").as_deref(), Some("[::1]:3478"));
        for not_tcp in ["turn:10.0.0.1:3478?transport=udp", "turn:10.0.0.1:3478", "turns:10.0.0.1?transport=tcp"] {
            assert_eq!(tcp_relay(not_tcp), None, "{not_tcp}");
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
    async fn tcp_urls_become_local_tunnels_and_turns_urls_are_left_out() {
        let server = IceServer {
            urls: vec![
                "turn:192.0.2.1:3478?transport=udp".into(),
                "turn:192.0.2.1:3478?transport=tcp".into(),
                "turns:192.0.2.1:5349?transport=tcp".into(),
            ],
            username: Some("u".into()),
            credential: Some("p".into()),
        };
        let (given, tunnels) = open(&[server], IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
        assert_eq!(tunnels.urls(), &given[0].urls[1..]);
        assert_eq!(given.len(), 1);
        assert_eq!(given[0].urls.len(), 2);
        assert_eq!(given[0].urls[0], "turn:192.0.2.1:3478?transport=udp");
        assert!(given[0].urls[1].starts_with("turn:127.0.0.1:") && given[0].urls[1].ends_with("?transport=udp"));
        assert_eq!(given[0].username.as_deref(), Some("u"));
    }
}
