//! Which peers the embedded relay may talk to. The `turn` crate relays to
//! any address a client has a permission for; like coturn's defaults, this
//! wraps every relayed socket so that it never sends to or accepts from
//! unspecified, multicast or broadcast addresses, nor loopback unless the
//! relay is configured for loopback tests — a relay must not become a way
//! into the server's own services.

use std::any::Any;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use turn::relay::RelayAddressGenerator;
use webrtc_util::Conn;

/// Whether a peer address may be relayed to.
#[derive(Debug, Clone, Copy)]
pub(super) struct PeerPolicy {
    pub allow_loopback: bool,
}

impl PeerPolicy {
    pub fn allows(self, peer: SocketAddr) -> bool {
        let ip = peer.ip().to_canonical();
        let never = ip.is_unspecified()
            || ip.is_multicast()
            || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast())
            || peer.port() == 0;
        !never && (self.allow_loopback || !ip.is_loopback())
    }
}

/// Hands out the inner generator's sockets wrapped in [`FilteredConn`].
pub(super) struct FilteringGenerator {
    pub inner: Box<dyn RelayAddressGenerator + Send + Sync>,
    pub policy: PeerPolicy,
}

#[async_trait]
impl RelayAddressGenerator for FilteringGenerator {
    fn validate(&self) -> Result<(), turn::Error> {
        self.inner.validate()
    }

    async fn allocate_conn(
        &self,
        use_ipv4: bool,
        requested_port: u16,
    ) -> Result<(Arc<dyn Conn + Send + Sync>, SocketAddr), turn::Error> {
        let (conn, address) = self.inner.allocate_conn(use_ipv4, requested_port).await?;
        Ok((Arc::new(FilteredConn { inner: conn, policy: self.policy }), address))
    }
}

/// A relayed socket that drops traffic to and from refused peers.
struct FilteredConn {
    inner: Arc<dyn Conn + Send + Sync>,
    policy: PeerPolicy,
}

impl FilteredConn {
    fn check(&self, peer: SocketAddr) -> webrtc_util::Result<()> {
        if self.policy.allows(peer) {
            Ok(())
        } else {
            tracing::debug!(%peer, "embedded TURN relay refused a peer");
            Err(webrtc_util::Error::Other(format!("relaying to {peer} is not allowed")))
        }
    }
}

#[async_trait]
impl Conn for FilteredConn {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        self.check(addr)?;
        self.inner.connect(addr).await
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.inner.recv(buf).await
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (len, from) = self.inner.recv_from(buf).await?;
            if self.policy.allows(from) {
                return Ok((len, from));
            }
            tracing::debug!(peer = %from, "embedded TURN relay dropped a datagram from a refused peer");
        }
    }

    async fn send(&self, buf: &[u8]) -> webrtc_util::Result<usize> {
        self.inner.send(buf).await
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        self.check(target)?;
        self.inner.send_to(buf, target).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        self.inner.remote_addr()
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.inner.close().await
    }

    fn as_any(&self) -> &(dyn Any + Send + Sync) {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("socket address")
    }

    #[test]
    fn refuses_what_coturn_refuses_by_default() {
        let strict = PeerPolicy { allow_loopback: false };
        let loopback = PeerPolicy { allow_loopback: true };
        for peer in ["192.0.2.7:5000", "10.1.2.3:40000", "[2001:db8::1]:5000"] {
            assert!(strict.allows(addr(peer)), "{peer}");
        }
        for peer in ["127.0.0.1:5000", "[::1]:5000", "[::ffff:127.0.0.1]:5000"] {
            assert!(!strict.allows(addr(peer)), "{peer}");
            assert!(loopback.allows(addr(peer)), "{peer}");
        }
        for peer in ["0.0.0.0:5000", "[::]:5000", "224.0.0.1:5000", "255.255.255.255:5000", "192.0.2.7:0"] {
            assert!(!loopback.allows(addr(peer)), "{peer}");
        }
    }
}
