//! The agent's end of the media path, for the technician's connection
//! line: from the peer's stats, whether the selected candidate pair's
//! local end is this computer's own address or a relay's, and how the
//! relay is reached (UDP, or TCP through a `turn_tunnel` the peer was
//! given, or what the stats say).

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use super::turn_tunnel::{Relayed, Tunnels};

use rtc::peer_connection::transport::{RTCIceCandidateType, RTCIceServerTransportProtocol};
use tether_shared::media_path::{AgentEnd, Transport};
use webrtc::peer_connection::{PeerConnection, RTCStatsReportEntry, StatsSelector};

/// Reads the agent's end of the path from one peer. Cheap to clone.
#[derive(Clone)]
pub struct PathProbe {
    connection: Arc<dyn PeerConnection>,
    /// The URLs given for tunnels, and how each reaches its relay.
    tunnel_urls: Arc<[(String, Transport)]>,
    /// The relayed addresses allocated through a tunnel.
    tunnel_relayed: Relayed,
}

impl PathProbe {
    pub fn new(connection: Arc<dyn PeerConnection>, tunnels: &Tunnels) -> Self {
        Self { connection, tunnel_urls: tunnels.given().into(), tunnel_relayed: tunnels.relayed() }
    }

    /// How relay candidate `address:port` reaches its relay, if it was
    /// allocated through a tunnel.
    fn tunnelled(&self, address: Option<&str>, port: u16) -> Option<Transport> {
        let ip = address?.parse().ok()?;
        self.tunnel_relayed.lock().unwrap_or_else(PoisonError::into_inner).get(&SocketAddr::new(ip, port)).copied()
    }

    /// The agent's end of the selected pair, once there is one.
    pub async fn end(&self) -> Option<AgentEnd> {
        let report = self.connection.get_stats(Instant::now(), StatsSelector::None).await;
        let Some(transport) = report.transport() else {
            tracing::debug!(entries = report.len(), "no transport in the stats yet");
            return None;
        };
        let pair_id = &transport.selected_candidate_pair_id;
        let Some(RTCStatsReportEntry::IceCandidatePair(pair)) = report.get(pair_id) else {
            tracing::debug!(pair_id, entries = report.len(), "no selected candidate pair in the stats yet");
            return None;
        };
        // webrtc-rs 0.21 names the pair's candidates by their own ids and
        // files them under `RTCLocalIceCandidate_<id>`.
        let id = &pair.local_candidate_id;
        let entry = report.get(id).or_else(|| report.get(&format!("RTCLocalIceCandidate_{id}")));
        let Some(RTCStatsReportEntry::LocalCandidate(local)) = entry else {
            let ids: Vec<&str> = report.ids().collect();
            tracing::debug!(
                local = pair.local_candidate_id,
                ?ids,
                "the selected pair's local candidate is not in the stats"
            );
            return None;
        };
        if local.candidate_type != RTCIceCandidateType::Relay {
            return Some(AgentEnd::Direct {});
        }
        // The stats' URL is the one the candidate came from; the relayed
        // address is certain even where the URL is not filled in.
        let by_url = self.tunnel_urls.iter().find(|(url, _)| *url == local.url).map(|(_, over)| *over);
        let tunnelled = by_url.or_else(|| self.tunnelled(local.address.as_deref(), local.port));
        let over = tunnelled.unwrap_or(match local.relay_protocol {
            RTCIceServerTransportProtocol::Tcp => Transport::Tcp,
            RTCIceServerTransportProtocol::Tls => Transport::Tls,
            _ => Transport::Udp,
        });
        Some(AgentEnd::Relayed { over })
    }
}
