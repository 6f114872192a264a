//! Agents: enrollment (`POST /api/agent/enroll`), their WebSocket
//! (`/api/agent/ws`, authenticated by the agent credential), and the
//! technician's target list (`GET /api/targets`).

use crate::agents;
use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::auth::extractor::Source;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::sessions;
use crate::state::AppState;
use crate::store::now_ms;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::time::Duration;
use tether_shared::Role;
use tether_shared::agent::{EnrollRequest, EnrollResponse, TargetView};
use tether_shared::signal::{AgentToServer, MAX_SIGNAL_MESSAGE_BYTES, ServerToAgent, ServerToController, Signal};
use tokio::sync::mpsc;

/// How long a new connection may take to say hello.
pub(crate) const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Malformed messages tolerated on one connection before it is closed.
const MAX_BAD_MESSAGES: u32 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/agent/enroll", post(enroll))
        .route("/api/agent/ws", get(connect))
        .route("/api/targets", get(targets))
}

async fn enroll(
    State(state): State<AppState>,
    source: Source,
    ApiJson(request): ApiJson<EnrollRequest>,
) -> HttpResult<(StatusCode, Json<EnrollResponse>)> {
    request.info.validate().map_err(|err| HttpError::InvalidField(err.to_string()))?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let Some((token_id, token_label)) = agents::redeem_token(&mut tx, &request.token, now).await? else {
        tracing::warn!(source = ?source.0, hostname = %request.info.hostname, "enrollment with a bad token");
        return Err(HttpError::Unauthorized {
            code: "invalid_enrollment_token",
            message: "the enrollment token is unknown, expired, revoked or used up".into(),
        });
    };
    let (agent_id, credential) = agents::create_agent(&mut tx, &token_id, &request.info, now).await?;
    let event = Event::new(Actor::claimed(&format!("agent:{}", request.info.hostname)), "agent.enroll")
        .target(request.info.hostname.clone())
        .source(source.label())
        .details(json!({ "agent_id": agent_id, "token": token_label, "info": request.info }));
    audit::record(&mut tx, &event, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(EnrollResponse { agent_id, credential })))
}

async fn connect(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> HttpResult<Response> {
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| HttpError::unauthorized("agents connect with 'Authorization: Bearer <credential>'"))?;
    let agent_id = agents::authenticate(state.store.pool(), credential)
        .await?
        .ok_or_else(|| HttpError::Unauthorized { code: "unknown_agent", message: "unknown or revoked agent".into() })?;
    Ok(upgrade.max_message_size(MAX_SIGNAL_MESSAGE_BYTES).max_frame_size(MAX_SIGNAL_MESSAGE_BYTES).on_upgrade(
        move |socket| async move {
            if let Err(err) = run_agent_socket(state, agent_id.clone(), socket).await {
                tracing::info!(%agent_id, error = %err, "agent connection ended");
            }
        },
    ))
}

pub(crate) fn text(message: &ServerToAgent) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

/// Drives one agent connection: hello, then messages both ways until
/// either side closes or a newer connection of the same agent takes over.
async fn run_agent_socket(state: AppState, agent_id: String, mut socket: WebSocket) -> anyhow::Result<()> {
    let first = tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await;
    let info = match first {
        Ok(Some(Ok(Message::Text(body)))) => match serde_json::from_str::<AgentToServer>(&body) {
            Ok(AgentToServer::Hello { info }) => info,
            Ok(AgentToServer::Signal { .. } | AgentToServer::Consent { .. }) => {
                socket.send(text(&ServerToAgent::Error { message: "expected hello first".into() })).await?;
                anyhow::bail!("no hello");
            }
            Err(err) => {
                socket.send(text(&ServerToAgent::Error { message: format!("expected hello: {err}") })).await?;
                anyhow::bail!("no hello");
            }
        },
        _ => anyhow::bail!("no hello within {HELLO_TIMEOUT:?}"),
    };
    if let Err(err) = info.validate() {
        socket.send(text(&ServerToAgent::Error { message: err.to_string() })).await?;
        anyhow::bail!("{err}");
    }
    agents::record_seen(state.store.pool(), &agent_id, Some(&info), now_ms()).await?;
    let (_presence, outbox) = state.hub.attach(&agent_id);
    tracing::info!(%agent_id, hostname = %info.hostname, "agent online");
    socket.send(text(&ServerToAgent::Welcome { agent_id: agent_id.clone() })).await?;

    let mut link = AgentLink::new(socket, outbox, &agent_id);
    let result = loop {
        match link.next().await? {
            Inbound::Message(AgentToServer::Hello { info }) if info.validate().is_ok() => {
                agents::record_seen(state.store.pool(), &agent_id, Some(&info), now_ms()).await?;
            }
            Inbound::Message(AgentToServer::Signal { session_id, signal }) => {
                relay_from_agent(&state, &agent_id, session_id, signal).await?;
            }
            Inbound::Message(AgentToServer::Consent { session_id, step }) => {
                crate::consent::on_step(&state, &agent_id, &session_id, step).await?;
            }
            Inbound::Message(AgentToServer::Hello { .. }) => {
                if let Some(err) = link.malformed().await? {
                    break Err(err);
                }
            }
            Inbound::Closed(result) => break result,
        }
    };
    agents::record_seen(state.store.pool(), &agent_id, None, now_ms()).await?;
    tracing::info!(%agent_id, "agent offline");
    for session_id in state.relay.sessions_of_agent(&agent_id) {
        sessions::end(&state, &session_id, agent_actor(&agent_id), "the target disconnected", false).await?;
    }
    result
}

/// What an agent socket brought next, once [`AgentLink::next`] has done the
/// socket's chores (outbox forwarding, pings, binary and unparsable messages).
pub(crate) enum Inbound {
    /// A parsed message for the caller to act on.
    Message(AgentToServer),
    /// The socket ended: closed, replaced by a newer connection (`Ok`), or
    /// broken or too noisy (`Err`).
    Closed(anyhow::Result<()>),
}

/// One agent socket after its hello, shared by enrolled agents and broker
/// targets: forwards the hub's outbox and yields what the agent sends.
pub(crate) struct AgentLink<'a> {
    socket: WebSocket,
    outbox: mpsc::Receiver<ServerToAgent>,
    /// Who is on the other end, for the log.
    peer: &'a str,
    bad_messages: u32,
}

impl<'a> AgentLink<'a> {
    pub(crate) fn new(socket: WebSocket, outbox: mpsc::Receiver<ServerToAgent>, peer: &'a str) -> Self {
        Self { socket, outbox, peer, bad_messages: 0 }
    }

    /// Waits for the next parsed message or the end of the socket; a send
    /// that fails is an `Err`.
    pub(crate) async fn next(&mut self) -> anyhow::Result<Inbound> {
        loop {
            tokio::select! {
                inbound = self.socket.recv() => match inbound {
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
                },
                outbound = self.outbox.recv() => match outbound {
                    Some(message) => self.send(&message).await?,
                    None => return Ok(Inbound::Closed(Ok(()))), // replaced by a newer connection
                },
            }
        }
    }

    /// Counts a malformed message and tells the agent so; past
    /// [`MAX_BAD_MESSAGES`] returns the error to close the socket with.
    pub(crate) async fn malformed(&mut self) -> anyhow::Result<Option<anyhow::Error>> {
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

pub(crate) fn agent_actor(agent_id: &str) -> Actor {
    Actor { id: None, name: format!("agent:{agent_id}") }
}

/// Passes a signal from an agent to the controller of one of its sessions;
/// a `bye` ends the session.
pub(crate) async fn relay_from_agent(
    state: &AppState,
    agent_id: &str,
    session_id: String,
    signal: Signal,
) -> anyhow::Result<()> {
    if !state.relay.is_agents(&session_id, agent_id) {
        tracing::warn!(%agent_id, %session_id, "agent signalled a session that is not its own");
        return Ok(());
    }
    if let Signal::Bye { reason } = signal {
        return sessions::end(
            state,
            &session_id,
            agent_actor(agent_id),
            &format!("the target ended it: {reason}"),
            false,
        )
        .await;
    }
    if matches!(signal, Signal::Answer { .. }) && state.relay.answered(&session_id, agent_id) {
        sessions::activate(state, &session_id, agent_actor(agent_id)).await?;
    }
    state.relay.to_controller(&session_id, agent_id, ServerToController::Signal { signal });
    Ok(())
}

async fn targets(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<Vec<TargetView>>> {
    auth.require(Role::can_open_sessions, "open sessions")?;
    let hub = state.hub.clone();
    Ok(Json(agents::targets(state.store.pool(), |id| hub.is_online(id)).await?))
}
