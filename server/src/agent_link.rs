//! One target's socket after its hello, shared by enrolled agents
//! (`routes::agents`) and broker-session targets (`routes::broker`):
//! [`AgentLink`] forwards the hub's outbox and yields what the target
//! sends; [`on_message`] hands a target's message to its session's driver,
//! only for the target's own sessions; [`TargetGuard`] ends the target's
//! sessions however its socket task ends, errors included.

use crate::heartbeat::{Beat, Heartbeat};
use crate::relay::Relay;
use axum::extract::ws::{Message, WebSocket};
use std::time::Duration;
use tether_shared::agent::AgentInfo;
use tether_shared::session_lifecycle::Event;
use tether_shared::signal::{AgentToServer, PROTOCOL_VERSION, ServerToAgent, check_protocol};
use tokio::sync::mpsc;

/// How long a new connection may take to say hello.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Malformed messages tolerated on one connection before it is closed.
const MAX_BAD_MESSAGES: u32 = 20;

/// A message for a target, as a WebSocket text frame.
pub fn text(message: &ServerToAgent) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

/// Waits up to [`HELLO_TIMEOUT`] for the target's hello and checks it; a
/// target that says anything else, speaks another protocol version or
/// describes itself badly is told why before the socket closes.
pub async fn receive_hello(socket: &mut WebSocket) -> anyhow::Result<AgentInfo> {
    let first = match tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(body)))) => serde_json::from_str::<AgentToServer>(&body),
        _ => anyhow::bail!("no hello within {HELLO_TIMEOUT:?}"),
    };
    let refusal = match first {
        Ok(AgentToServer::Hello { info, protocol }) => match (check_protocol(protocol), info.validate()) {
            (Err(mismatch), _) => mismatch.to_string(),
            (Ok(()), Err(err)) => err.to_string(),
            (Ok(()), Ok(())) => return Ok(info),
        },
        Ok(_) => "expected hello first".to_owned(),
        Err(err) => format!("expected hello: {err}"),
    };
    socket.send(text(&ServerToAgent::Error { message: refusal.clone() })).await?;
    anyhow::bail!("no valid hello: {refusal}")
}

/// What a target socket brought next, once [`AgentLink::next`] has done the
/// socket's chores (outbox forwarding, pings, binary and unparsable messages).
pub enum Inbound {
    /// A parsed message for the caller to act on.
    Message(AgentToServer),
    /// The socket ended: closed, replaced by a newer connection (`Ok`), or
    /// broken or too noisy (`Err`).
    Closed(anyhow::Result<()>),
}

/// One target socket after its hello: forwards the hub's outbox and yields
/// what the target sends.
pub struct AgentLink<'a> {
    socket: WebSocket,
    outbox: mpsc::Receiver<ServerToAgent>,
    /// Who is on the other end, for the log.
    peer: &'a str,
    bad_messages: u32,
    heartbeat: Heartbeat,
}

impl<'a> AgentLink<'a> {
    /// Pings every `heartbeat`.
    pub fn new(socket: WebSocket, outbox: mpsc::Receiver<ServerToAgent>, peer: &'a str, heartbeat: Duration) -> Self {
        Self { socket, outbox, peer, bad_messages: 0, heartbeat: Heartbeat::new(heartbeat) }
    }

    /// Waits for the next parsed message or the end of the socket; a send
    /// that fails is an `Err`.
    pub async fn next(&mut self) -> anyhow::Result<Inbound> {
        loop {
            tokio::select! {
                inbound = self.socket.recv() => {
                    if let Some(Ok(_)) = &inbound {
                        self.heartbeat.heard();
                    }
                    match inbound {
                        Some(Ok(Message::Text(body))) => match serde_json::from_str::<AgentToServer>(&body) {
                            Ok(message) => return Ok(Inbound::Message(message)),
                            Err(_) => {
                                if let Some(err) = self.malformed().await? {
                                    return Ok(Inbound::Closed(Err(err)));
                                }
                            }
                        },
                        Some(Ok(Message::Binary(_))) => {
                            self.send(&ServerToAgent::Error { message: "binary messages are not used".into() }).await?;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_))) | None => return Ok(Inbound::Closed(Ok(()))),
                        Some(Err(err)) => return Ok(Inbound::Closed(Err(err.into()))),
                    }
                }
                outbound = self.outbox.recv() => match outbound {
                    Some(message) => self.send(&message).await?,
                    None => return Ok(Inbound::Closed(Ok(()))), // replaced by a newer connection
                },
                beat = self.heartbeat.tick() => match beat {
                    Beat::Ping => self.socket.send(Message::Ping(Default::default())).await?,
                    Beat::Silent(silent) => {
                        return Ok(Inbound::Closed(Err(anyhow::anyhow!("the agent was silent for {silent:?}"))));
                    }
                },
            }
        }
    }

    /// Counts a malformed message and tells the target so; past
    /// [`MAX_BAD_MESSAGES`] returns the error to close the socket with.
    pub async fn malformed(&mut self) -> anyhow::Result<Option<anyhow::Error>> {
        self.bad_messages += 1;
        tracing::warn!(peer = %self.peer, "malformed message from agent");
        if self.bad_messages > MAX_BAD_MESSAGES {
            return Ok(Some(anyhow::anyhow!("too many malformed messages")));
        }
        self.send(&ServerToAgent::Error { message: "malformed message".into() }).await?;
        Ok(None)
    }

    async fn send(&mut self, message: &ServerToAgent) -> anyhow::Result<()> {
        Ok(self.socket.send(text(message)).await?)
    }
}

/// The welcome for target `target`: its id in the hub, and how long it may
/// go without hearing the server before it ends its sessions itself (the
/// session policy's).
pub async fn welcome(state: &crate::state::AppState, target: &str) -> anyhow::Result<ServerToAgent> {
    let policy = crate::policies::session_policy(state.store.pool()).await?;
    Ok(ServerToAgent::Welcome {
        agent_id: target.to_owned(),
        server_loss_timeout_secs: Some(policy.server_loss_timeout_secs),
        protocol: PROTOCOL_VERSION,
    })
}

/// Acts on what a target sent after its hello (signals, consent steps, an
/// end it made alone, a refusal), only ever for the target's own sessions;
/// a repeated hello comes back for the caller. A refusal is audited here.
pub async fn on_message(
    state: &crate::state::AppState,
    target: &str,
    message: AgentToServer,
) -> anyhow::Result<Option<AgentInfo>> {
    let relay = &state.relay;
    let (session_id, event) = match message {
        AgentToServer::Signal { session_id, signal } => (session_id, Event::FromTarget(signal)),
        AgentToServer::Consent { session_id, step } => (session_id, Event::from(step)),
        AgentToServer::Mode { session_id, step } => (session_id, Event::TargetMode(step)),
        AgentToServer::Chat { session_id, text } => match tether_shared::chat::check_text(&text) {
            Ok(text) => (session_id, Event::Chat { from: tether_shared::chat::Speaker::Person, text }),
            Err(bad) => {
                tracing::warn!(%target, %session_id, reason = %bad, "dropping a chat line from the target");
                return Ok(None);
            }
        },
        AgentToServer::EndedAlone { session_id, reason, ended_at } => {
            (session_id, Event::TargetEndedAlone { reason, at: ended_at })
        }
        AgentToServer::Hello { info, .. } => return Ok(Some(info)),
        AgentToServer::Refused { session_id, refusal } => {
            if relay.sessions_of_agent(target).contains(&session_id) {
                tracing::warn!(%target, %session_id, what = refusal.what.as_str(), reason = %refusal.reason, "the target refused");
                crate::grants::record_refusal(&state.store, target, &session_id, &refusal).await?;
            } else {
                tracing::warn!(%target, %session_id, "a target reported a refusal in a session that is not its own or not live");
            }
            return Ok(None);
        }
        AgentToServer::Tool { session_id, event } => {
            if relay.sessions_of_agent(target).contains(&session_id) {
                crate::grants::record_tool_event(&state.store, target, &session_id, event).await?;
            } else {
                tracing::warn!(%target, %session_id, "a target reported a tool's use in a session that is not its own or not live");
            }
            return Ok(None);
        }
    };
    let name = event.name();
    if !relay.from_agent(&session_id, target, event) {
        tracing::warn!(%target, %session_id, event = name, "a target spoke of a session that is not its own or not live");
    }
    Ok(None)
}

/// While it lives, a target's socket task runs; dropping it (the task
/// ended, however) tells each of the target's live sessions it is gone.
#[derive(Debug)]
pub struct TargetGuard {
    relay: Relay,
    target: String,
}

impl TargetGuard {
    pub fn new(relay: &Relay, target: &str) -> Self {
        Self { relay: relay.clone(), target: target.to_owned() }
    }
}

impl Drop for TargetGuard {
    fn drop(&mut self) {
        for session_id in self.relay.sessions_of_agent(&self.target) {
            if !self.relay.event(&session_id, Event::TargetGone) {
                tracing::debug!(%session_id, "the target's session ended meanwhile");
            }
        }
    }
}
