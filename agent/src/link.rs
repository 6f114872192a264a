//! The agent's lasting connection to its server: a WebSocket authenticated
//! by the agent credential, re-established with backoff whenever it drops.

use crate::backoff::Backoff;
use crate::config::AgentConfig;
use futures_util::{SinkExt, StreamExt};
use tether_shared::signal::{AgentToServer, MAX_SIGNAL_MESSAGE_BYTES, ServerToAgent, Signal};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How one connection ended.
#[derive(Debug)]
enum Ended {
    /// The connection worked for a while and then closed.
    AfterWelcome,
    /// The server refused the credential: retrying will not help.
    Refused(String),
}

/// Stays connected until `shutdown` completes.
pub async fn run(config: AgentConfig, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    let mut backoff = Backoff::default();
    tokio::pin!(shutdown);
    loop {
        let attempt = tokio::select! {
            result = connect_once(&config) => result,
            () = &mut shutdown => return Ok(()),
        };
        match attempt {
            Ok(Ended::AfterWelcome) => {
                backoff.reset();
                tracing::info!("disconnected from the server; reconnecting");
            }
            Ok(Ended::Refused(reason)) => anyhow::bail!("the server refused this agent: {reason}; enroll it again"),
            Err(err) => tracing::warn!(error = format!("{err:#}"), "cannot connect to the server"),
        }
        let delay = backoff.next_delay(rand::random::<f64>());
        tracing::info!(?delay, "waiting before reconnecting");
        tokio::select! {
            () = tokio::time::sleep(delay) => {},
            () = &mut shutdown => return Ok(()),
        }
    }
}

async fn connect_once(config: &AgentConfig) -> anyhow::Result<Ended> {
    let mut request = config.socket_url()?.as_str().into_client_request()?;
    request.headers_mut().insert("authorization", format!("Bearer {}", config.credential).parse()?);
    let limits = WebSocketConfig::default()
        .max_message_size(Some(MAX_SIGNAL_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_SIGNAL_MESSAGE_BYTES));
    let (mut socket, _) = match tokio_tungstenite::connect_async_with_config(request, Some(limits), false).await {
        Ok(connected) => connected,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) if response.status().as_u16() == 401 => {
            return Ok(Ended::Refused("unknown or revoked agent credential".into()));
        }
        Err(err) => return Err(err.into()),
    };
    let hello = AgentToServer::Hello { info: crate::machine::info() };
    socket.send(Message::text(serde_json::to_string(&hello)?)).await?;
    while let Some(message) = socket.next().await {
        match message? {
            Message::Text(text) => match serde_json::from_str::<ServerToAgent>(&text) {
                Ok(ServerToAgent::Welcome { agent_id }) => tracing::info!(%agent_id, "connected to the server"),
                Ok(ServerToAgent::Error { message }) => tracing::warn!(%message, "the server reported an error"),
                Ok(ServerToAgent::SessionRequest { session_id, technician, .. }) => {
                    // Live streaming arrives with the WebRTC peer; until then
                    // the agent declines honestly instead of leaving the
                    // technician waiting.
                    tracing::info!(%session_id, %technician, "declining a session: streaming not available yet");
                    let bye = AgentToServer::Signal {
                        session_id,
                        signal: Signal::Bye { reason: "this agent cannot stream yet".into() },
                    };
                    socket.send(Message::text(serde_json::to_string(&bye)?)).await?;
                }
                Ok(ServerToAgent::Signal { session_id, .. }) => {
                    tracing::debug!(%session_id, "ignoring signalling for a declined session");
                }
                Err(err) => tracing::warn!(error = %err, "ignoring a malformed message from the server"),
            },
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(Ended::AfterWelcome)
}
