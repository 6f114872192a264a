//! Is a broker reachable, and how far: a STUN Binding request over UDP to
//! the host and port of its first `turn:`/`stun:` URL, timed. TURN relays
//! (coturn, the server's embedded one) answer Binding requests without
//! credentials.

use std::net::SocketAddr;
use std::time::Duration;
use stun::agent::TransactionId;
use stun::message::{BINDING_REQUEST, Message};
use tether_shared::broker::BrokerView;
use tokio::net::UdpSocket;
use tokio::time::Instant;

/// How long a probe waits for an answer by default.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(1500);

/// How often within its deadline a probe resends (UDP may drop one).
const ATTEMPTS: u32 = 3;

/// `host` and `port` of a `turn:`, `turns:`, `stun:` or `stuns:` URL
/// (`scheme:host[:port][?transport=…]`); the default port is 3478 (5349 for
/// the TLS schemes).
pub fn target(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once(':')?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "turn" | "stun" => 3478,
        "turns" | "stuns" => 5349,
        _ => return None,
    };
    let authority = rest.split('?').next()?;
    if authority.is_empty() || authority.contains('/') || authority.contains('@') {
        return None;
    }
    // Let the URL parser handle IPv6 brackets and port syntax.
    let parsed = url::Url::parse(&format!("stun://{authority}")).ok()?;
    let host = parsed.host_str()?.trim_start_matches('[').trim_end_matches(']').to_owned();
    Some((host, parsed.port().unwrap_or(default_port)))
}

/// The round trip of a STUN Binding request to `broker`'s first URL, or
/// `None` if it did not answer within `deadline`.
pub async fn probe(broker: &BrokerView, deadline: Duration) -> Option<Duration> {
    let url = broker.urls.first()?;
    let Some((host, port)) = target(url) else {
        tracing::warn!(broker = %broker.id, %url, "cannot probe a broker URL of this form");
        return None;
    };
    let started = Instant::now();
    let result = tokio::time::timeout(deadline, async {
        let addr = tokio::net::lookup_host((host.as_str(), port))
            .await?
            .next()
            .ok_or_else(|| std::io::Error::other("the name has no address"))?;
        binding_round_trip(addr, deadline / ATTEMPTS).await
    })
    .await;
    match result {
        Ok(Ok(())) => Some(started.elapsed()),
        Ok(Err(err)) => {
            tracing::info!(broker = %broker.id, %url, error = %err, "broker unreachable");
            None
        }
        Err(_) => {
            tracing::info!(broker = %broker.id, %url, ?deadline, "broker did not answer in time");
            None
        }
    }
}

/// Probes every broker at once; the answers are in the brokers' order.
pub async fn probe_all(brokers: &[BrokerView], deadline: Duration) -> Vec<Option<Duration>> {
    futures_util::future::join_all(brokers.iter().map(|broker| probe(broker, deadline))).await
}

/// Sends Binding requests to `addr` every `resend` until a response with
/// the same transaction id arrives (success or error: either way the relay
/// is there). Runs until the caller's timeout otherwise.
async fn binding_round_trip(addr: SocketAddr, resend: Duration) -> std::io::Result<()> {
    let local: SocketAddr =
        if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { (std::net::Ipv6Addr::UNSPECIFIED, 0).into() };
    let socket = UdpSocket::bind(local).await?;
    let mut request = Message::new();
    request.build(&[Box::new(TransactionId::new()), Box::new(BINDING_REQUEST)]).map_err(std::io::Error::other)?;
    let mut buffer = [0u8; 1500];
    loop {
        socket.send_to(&request.raw, addr).await?;
        let wait_until = Instant::now() + resend;
        loop {
            let received = tokio::time::timeout_at(wait_until, socket.recv_from(&mut buffer)).await;
            let Ok(received) = received else { break };
            let (len, from) = received?;
            if from != addr {
                continue;
            }
            let mut response = Message::new();
            response.raw = buffer[..len].to_vec();
            if response.decode().is_ok() && response.transaction_id == request.transaction_id {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_turn_and_stun_urls() {
        assert_eq!(target("turn:relay.example:3479?transport=udp"), Some(("relay.example".into(), 3479)));
        assert_eq!(target("turn:127.0.0.1"), Some(("127.0.0.1".into(), 3478)));
        assert_eq!(target("turns:relay.example?transport=tcp"), Some(("relay.example".into(), 5349)));
        assert_eq!(target("stun:[::1]:3478"), Some(("::1".into(), 3478)));
        assert_eq!(target("http://relay.example"), None);
        assert_eq!(target("turn:user@relay.example"), None);
        assert_eq!(target("turn:"), None);
    }

    /// A loopback STUN responder: answers Binding requests with a success.
    async fn responder() -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let mut buffer = [0u8; 1500];
            while let Ok((len, from)) = socket.recv_from(&mut buffer).await {
                let mut request = Message::new();
                request.raw = buffer[..len].to_vec();
                if request.decode().is_err() {
                    continue;
                }
                let mut response = Message::new();
                let built = response.build(&[
                    Box::new(request.transaction_id),
                    Box::new(stun::message::BINDING_SUCCESS),
                    Box::new(stun::xoraddr::XorMappedAddress { ip: from.ip(), port: from.port() }),
                ]);
                if built.is_ok() {
                    let _ = socket.send_to(&response.raw, from).await;
                }
            }
        });
        (addr, task)
    }

    fn broker_at(url: String) -> BrokerView {
        BrokerView { id: "b".into(), urls: vec![url], address: String::new(), active_sessions: 0, built_in: false }
    }

    #[tokio::test]
    async fn a_stun_responder_is_reachable_and_a_silent_port_is_not() {
        let (addr, task) = responder().await;
        let rtt = probe(&broker_at(format!("turn:{addr}?transport=udp")), DEFAULT_DEADLINE).await;
        assert!(rtt.is_some_and(|rtt| rtt < DEFAULT_DEADLINE), "{rtt:?}");
        task.abort();
        // A bound socket that never answers.
        let silent = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("turn:{}", silent.local_addr().expect("addr"));
        assert_eq!(probe(&broker_at(url), Duration::from_millis(300)).await, None);
    }
}
