//! The path a session's media really takes, in words for the technician:
//! direct on the local network, direct across the internet, or relayed
//! through a broker — and over which transport each end reaches the
//! relay. The page knows its own end (its stats); the agent says its end
//! (`AgentToController::Path`, protocol v12).

use serde::{Deserialize, Serialize};

/// How one end reaches a TURN relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// `udp`, `tcp`, `tls` as WebRTC stats name them (`relayProtocol`).
    pub fn from_stats(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "udp" => Some(Transport::Udp),
            "tcp" => Some(Transport::Tcp),
            "tls" => Some(Transport::Tls),
            _ => None,
        }
    }

    /// `UDP`, `TCP`, `TLS`.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }
}

/// The agent's end of the selected candidate pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentEnd {
    /// Its own address (host, server- or peer-reflexive).
    Direct {},
    /// A relay's address, which it reaches over `over`.
    Relayed { over: Transport },
}

/// The page's end and what it sees of the agent's, from its stats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePath {
    /// The page's local candidate is a relay's, reached over this.
    pub page_relayed_over: Option<Transport>,
    /// The remote candidate's type (`host`, `srflx`, `prflx`, `relay`).
    pub remote_type: String,
    /// The remote candidate's `address:port`.
    pub remote_endpoint: String,
}

/// What the connection line says once connected: e.g. "Direct on the
/// local network (192.168.1.7:50000)", or "Relayed through
/// relay.example.org:3478 — you over UDP, the computer over TCP (no direct
/// path was found)". `broker` is the session's broker, when it has one.
pub fn describe(page: &PagePath, agent: Option<AgentEnd>, broker: Option<&str>) -> String {
    let relayed_by_page = page.page_relayed_over.is_some();
    let relayed_by_agent = matches!(agent, Some(AgentEnd::Relayed { .. })) || page.remote_type == "relay";
    if !relayed_by_page && !relayed_by_agent {
        let how = if page.remote_type == "host" { "Direct on the local network" } else { "Direct across the internet" };
        return format!("{how} ({})", page.remote_endpoint);
    }
    let through = match broker {
        Some(broker) => broker,
        None if page.remote_type == "relay" => &page.remote_endpoint,
        None => "a relay",
    };
    let you = page.page_relayed_over.unwrap_or(Transport::Udp).label();
    let computer = match agent {
        Some(AgentEnd::Relayed { over }) => format!("the computer over {}", over.label()),
        Some(AgentEnd::Direct {}) => "the computer directly".to_owned(),
        None => "the computer's way not known yet".to_owned(),
    };
    format!("Relayed through {through}: you over {you}, {computer} (no direct path was found)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(relayed: Option<Transport>, remote_type: &str) -> PagePath {
        PagePath {
            page_relayed_over: relayed,
            remote_type: remote_type.into(),
            remote_endpoint: "10.0.0.7:50000".into(),
        }
    }

    #[test]
    fn direct_paths_say_where() {
        let lan = describe(&page(None, "host"), Some(AgentEnd::Direct {}), None);
        assert_eq!(lan, "Direct on the local network (10.0.0.7:50000)");
        assert_eq!(describe(&page(None, "srflx"), None, None), "Direct across the internet (10.0.0.7:50000)");
    }

    #[test]
    fn relayed_paths_say_through_what_and_how_each_end_gets_there() {
        let over_tcp = Some(AgentEnd::Relayed { over: Transport::Tcp });
        assert_eq!(
            describe(&page(None, "relay"), over_tcp, Some("relay.example.org:3478")),
            "Relayed through relay.example.org:3478: you over UDP, the computer over TCP (no direct path was found)"
        );
        assert_eq!(
            describe(&page(Some(Transport::Tls), "host"), Some(AgentEnd::Direct {}), None),
            "Relayed through a relay: you over TLS, the computer directly (no direct path was found)"
        );
        assert_eq!(Transport::from_stats("TCP"), Some(Transport::Tcp));
        assert_eq!(Transport::from_stats("sctp"), None);
    }
}
