//! The target side of broker sessions, no account needed:
//! `POST /api/broker/redeem` (throttled) trades a connection code for a
//! session and a session-scoped token; `GET /api/broker/ws` with
//! `Authorization: Bearer <session_token>` is that session's socket. It
//! speaks the agent socket's messages (hello, then the session request and
//! signals) but reaches only its one session: its hub and relay id is
//! `broker_sessions::hub_id(session)`, and signals go through the same
//! `relay_from_agent` as an enrolled agent's.

use crate::agent_link::{self, AgentLink, HELLO_TIMEOUT, Inbound, TargetGuard, text};
use crate::auth::extractor::Source;
use crate::broker_sessions::{self, redeem::Failure};
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::secret;
use crate::socket;
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tether_shared::api::ApiError;
use tether_shared::broker::{RedeemCodeRequest, RedeemCodeResponse};
use tether_shared::signal::{AgentToServer, ServerToAgent};

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
        Err(failure) => Refused(failure).into_response(),
    }
}

async fn redeem(
    State(state): State<AppState>,
    source: Source,
    ApiJson(request): ApiJson<RedeemCodeRequest>,
) -> Result<Json<RedeemCodeResponse>, Refused> {
    Ok(Json(broker_sessions::redeem::redeem(&state, source.0, request).await.map_err(Refused)?))
}

/// A failed redemption as `{error, message}` with its status.
#[derive(Debug)]
struct Refused(Failure);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let Failure { status, code, message, retry_after_secs } = self.0;
        let mut response = (status, Json(ApiError { error: code.to_owned(), message })).into_response();
        if let Some(secs) = retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The live session a session token opens, with its technician's name.
async fn session_of(state: &AppState, token: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.id, u.display_name FROM broker_sessions b JOIN sessions s ON s.id = b.session_id \
         JOIN users u ON u.id = b.owner_id WHERE b.session_token_hash = $1 AND s.ended_at IS NULL",
    )
    .bind(secret::digest(token))
    .fetch_optional(state.store.pool())
    .await
}

async fn connect(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> HttpResult<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| HttpError::unauthorized("connect with 'Authorization: Bearer <session_token>'"))?;
    let (session_id, technician) = session_of(&state, token).await?.ok_or_else(|| HttpError::Unauthorized {
        code: "invalid_session_token",
        message: "the session token is unknown or its session has ended".into(),
    })?;
    let peer = format!("broker target of session {session_id}");
    Ok(socket::accept(&state.clone(), upgrade, peer, move |socket| run(state, session_id, technician, socket)))
}

/// Drives the target's socket: hello, its one session request, then
/// signals both ways; the session ends when the socket does.
async fn run(state: AppState, session_id: String, technician: String, mut socket: WebSocket) -> anyhow::Result<()> {
    let hello = match tokio::time::timeout(HELLO_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(body)))) => serde_json::from_str::<AgentToServer>(&body).ok(),
        _ => anyhow::bail!("no hello within {HELLO_TIMEOUT:?}"),
    };
    match hello {
        Some(AgentToServer::Hello { info }) if info.validate().is_ok() => {}
        _ => {
            socket.send(text(&ServerToAgent::Error { message: "expected a valid hello first".into() })).await?;
            anyhow::bail!("no valid hello");
        }
    }
    let hub_id = broker_sessions::hub_id(&session_id);
    let (_presence, outbox) = state.hub.attach(&hub_id);
    let _session_ends_with_the_socket = TargetGuard::new(&state.relay, &hub_id);
    socket.send(text(&agent_link::welcome(&state, &hub_id).await?)).await?;
    let (ice_servers, _broker) = state.ice_servers(&session_id, None)?;
    let request = ServerToAgent::SessionRequest { session_id: session_id.clone(), technician, ice_servers };
    socket.send(text(&request)).await?;

    let mut link = AgentLink::new(socket, outbox, &hub_id, state.heartbeat);
    loop {
        match link.next().await? {
            Inbound::Message(message) => {
                if agent_link::on_message(&state.relay, &hub_id, message).is_some() {
                    tracing::debug!(%session_id, "a repeated hello changes nothing for a one-session target");
                }
            }
            Inbound::Closed(result) => return result,
        }
    }
}
