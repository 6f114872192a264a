//! The target side of broker sessions, no account needed:
//! `POST /api/broker/redeem` (throttled) trades a connection code for a
//! session and a session-scoped token; `GET /api/broker/ws` with
//! `Authorization: Bearer <session_token>` is that session's socket. It
//! speaks the agent socket's messages (hello, then the session request and
//! signals) but reaches only its one session: its hub and relay id is
//! `broker_sessions::hub_id(session)`, and signals go through the same
//! `relay_from_agent` as an enrolled agent's.

use crate::agent_link::{self, AgentLink, Inbound, TargetGuard, text};
use crate::auth::bearer::BrokerSessionToken;
use crate::auth::extractor::Source;
use crate::broker_sessions;
use crate::error::HttpResult;
use crate::extract::ApiJson;
use crate::socket;
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tether_shared::broker::{RedeemCodeRequest, RedeemCodeResponse};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/broker/redeem", post(redeem).route_layer(axum::middleware::from_fn_with_state(state, throttled)))
        .route("/api/broker/ws", get(connect))
}

/// The redemption throttle, in front of the handler and its body parsing.
async fn throttled(
    State(state): State<AppState>,
    source: Source,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match broker_sessions::redeem::throttle(&state, source.0).await {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

async fn redeem(
    State(state): State<AppState>,
    source: Source,
    ApiJson(request): ApiJson<RedeemCodeRequest>,
) -> HttpResult<Json<RedeemCodeResponse>> {
    Ok(Json(broker_sessions::redeem::redeem(&state, source.0, request).await?))
}

async fn connect(
    State(state): State<AppState>,
    BrokerSessionToken { session_id }: BrokerSessionToken,
    upgrade: WebSocketUpgrade,
) -> HttpResult<Response> {
    let peer = format!("broker target of session {session_id}");
    Ok(socket::accept(&state.clone(), upgrade, peer, move |socket| run(state, session_id, socket)))
}

/// Drives the target's socket: hello, then signals both ways; the session
/// ends when the socket does. The target learnt its session, technician
/// and ICE servers from the redemption, so no session request follows.
async fn run(state: AppState, session_id: String, mut socket: WebSocket) -> anyhow::Result<()> {
    agent_link::receive_hello(&mut socket).await?;
    let hub_id = broker_sessions::hub_id(&session_id);
    let (_presence, outbox) = state.hub.attach(&hub_id);
    let _session_ends_with_the_socket = TargetGuard::new(&state.relay, &hub_id);
    socket.send(text(&agent_link::welcome(&state, &hub_id).await?)).await?;

    let mut link = AgentLink::new(socket, outbox, &hub_id, state.heartbeat);
    loop {
        match link.next().await? {
            Inbound::Message(message) => {
                if agent_link::on_message(&state, &hub_id, message).await?.is_some() {
                    tracing::debug!(%session_id, "a repeated hello changes nothing for a one-session target");
                }
            }
            Inbound::Closed(result) => return result,
        }
    }
}
