//! Messages on the agent's WebSocket to the server (`/api/agent/ws`), one
//! enum per direction. Each variant notes the protocol version that added it.

use crate::agent::AgentInfo;
use serde::{Deserialize, Serialize};

/// Largest WebSocket message either side accepts, in bytes.
pub const MAX_SIGNAL_MESSAGE_BYTES: usize = 64 * 1024;

/// From the agent to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentToServer {
    /// First message after connecting: the machine as it is now. (v1)
    Hello { info: AgentInfo },
}

/// From the server to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerToAgent {
    /// The server accepted the connection. (v1)
    Welcome { agent_id: String },
    /// A message was refused; the connection stays up. (v1)
    Error { message: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::DisplayInfo;

    #[test]
    fn every_variant_round_trips() {
        let hello = AgentToServer::Hello {
            info: AgentInfo {
                hostname: "pc".into(),
                os: "Linux".into(),
                os_user: "u".into(),
                agent_version: "0.1.0".into(),
                displays: vec![DisplayInfo { name: ":0".into(), width: 800, height: 600, primary: true }],
            },
        };
        let text = serde_json::to_string(&hello).expect("serialize");
        assert!(text.starts_with(r#"{"type":"hello","#));
        assert_eq!(serde_json::from_str::<AgentToServer>(&text).expect("parse"), hello);
        for message in [ServerToAgent::Welcome { agent_id: "a".into() }, ServerToAgent::Error { message: "m".into() }] {
            let text = serde_json::to_string(&message).expect("serialize");
            assert_eq!(serde_json::from_str::<ServerToAgent>(&text).expect("parse"), message);
        }
    }
}
