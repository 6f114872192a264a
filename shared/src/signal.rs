//! Signalling: the messages on the agent's WebSocket (`/api/agent/ws`) and
//! on the controller's session WebSocket (`/api/sessions/{id}/signal`), one
//! enum per direction. The server relays [`Signal`]s between the two ends of
//! a session after checking that both belong to it. Each variant notes the
//! protocol version that added it.

use crate::agent::AgentInfo;
use serde::{Deserialize, Serialize};

/// Largest WebSocket message either side accepts, in bytes.
pub const MAX_SIGNAL_MESSAGE_BYTES: usize = 64 * 1024;

/// A STUN or TURN server for ICE, as `RTCIceServer` takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// WebRTC negotiation between the controller and the agent. The controller
/// offers (receive-only video plus data channels); the agent answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Signal {
    /// An SDP offer. (v1)
    Offer { sdp: String },
    /// An SDP answer. (v1)
    Answer { sdp: String },
    /// A trickled ICE candidate; an empty `candidate` ends gathering. (v1)
    Candidate {
        candidate: String,
        #[serde(default)]
        sdp_mid: Option<String>,
        #[serde(default)]
        sdp_mline_index: Option<u16>,
    },
    /// The sender is leaving the session. (v1)
    Bye { reason: String },
}

/// From the agent to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentToServer {
    /// First message after connecting: the machine as it is now. (v1)
    Hello { info: AgentInfo },
    /// Negotiation for one of this agent's sessions. (v1)
    Signal { session_id: String, signal: Signal },
}

/// From the server to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerToAgent {
    /// The server accepted the connection. (v1)
    Welcome { agent_id: String },
    /// A technician asks for a session; an offer follows. (v1)
    SessionRequest { session_id: String, technician: String, ice_servers: Vec<IceServer> },
    /// Negotiation from the controller of a session. (v1)
    Signal { session_id: String, signal: Signal },
    /// A message was refused; the connection stays up. (v1)
    Error { message: String },
}

/// From the controller (the technician's browser) to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControllerToServer {
    /// First message: the access token (browsers cannot set headers on a
    /// WebSocket). (v1)
    Auth { token: String },
    /// Negotiation for the agent. (v1)
    Signal { signal: Signal },
}

/// From the server to the controller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerToController {
    /// Authenticated; send the offer. (v1)
    Ready { session_id: String, ice_servers: Vec<IceServer> },
    /// Negotiation from the agent. (v1)
    Signal { signal: Signal },
    /// The session is over. (v1)
    Ended { reason: String },
    /// A message was refused; the connection stays up. (v1)
    Error { message: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::DisplayInfo;
    use serde::de::DeserializeOwned;

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
        let text = serde_json::to_string(&value).expect("serialize");
        assert_eq!(serde_json::from_str::<T>(&text).expect("parse"), value, "{text}");
    }

    fn signals() -> Vec<Signal> {
        vec![
            Signal::Offer { sdp: "v=0".into() },
            Signal::Answer { sdp: "v=0".into() },
            Signal::Candidate {
                candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host".into(),
                sdp_mid: Some("0".into()),
                sdp_mline_index: Some(0),
            },
            Signal::Bye { reason: "done".into() },
        ]
    }

    #[test]
    fn every_variant_round_trips() {
        let info = AgentInfo {
            hostname: "pc".into(),
            os: "Linux".into(),
            os_user: "u".into(),
            agent_version: "0.1.0".into(),
            displays: vec![DisplayInfo { name: ":0".into(), width: 800, height: 600, primary: true }],
        };
        round_trip(AgentToServer::Hello { info });
        let ice = vec![IceServer {
            urls: vec!["turn:127.0.0.1:3478".into()],
            username: Some("u".into()),
            credential: Some("p".into()),
        }];
        round_trip(ServerToAgent::Welcome { agent_id: "a".into() });
        round_trip(ServerToAgent::SessionRequest {
            session_id: "s".into(),
            technician: "t".into(),
            ice_servers: ice.clone(),
        });
        round_trip(ServerToAgent::Error { message: "m".into() });
        round_trip(ControllerToServer::Auth { token: "jwt".into() });
        round_trip(ServerToController::Ready { session_id: "s".into(), ice_servers: ice });
        round_trip(ServerToController::Ended { reason: "r".into() });
        round_trip(ServerToController::Error { message: "m".into() });
        for signal in signals() {
            round_trip(AgentToServer::Signal { session_id: "s".into(), signal: signal.clone() });
            round_trip(ServerToAgent::Signal { session_id: "s".into(), signal: signal.clone() });
            round_trip(ControllerToServer::Signal { signal: signal.clone() });
            round_trip(ServerToController::Signal { signal });
        }
    }

    #[test]
    fn wire_format_is_stable() {
        let text = serde_json::to_string(&ControllerToServer::Signal { signal: Signal::Offer { sdp: "x".into() } })
            .expect("json");
        assert_eq!(text, r#"{"type":"signal","signal":{"kind":"offer","sdp":"x"}}"#);
        assert!(
            serde_json::from_str::<ControllerToServer>(
                r#"{"type":"signal","signal":{"kind":"offer","sdp":"x","evil":1}}"#
            )
            .is_err()
        );
    }
}
