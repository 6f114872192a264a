//! `/api/sessions`: a technician asks for a live session with an online
//! target, then negotiates WebRTC with its agent over
//! `/api/sessions/{id}/signal`, a WebSocket whose first message carries the
//! access token. The server relays only between the two ends of a session.
//!
//! A controller that disconnects without a `bye` (a page reload, a network
//! drop) leaves its session open for the reload grace period; the same
//! technician re-attaches within it, audited, and negotiates again.

use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::auth::extractor::{Source, authenticate_token};
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::relay::{AttachError, Phase};
use crate::sessions;
use crate::state::AppState;
use crate::store::now_ms;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::time::Duration;
use tether_shared::Role;
use tether_shared::api::{CreateSessionRequest, SessionView};
use tether_shared::signal::{ControllerToServer, MAX_SIGNAL_MESSAGE_BYTES, ServerToAgent, ServerToController, Signal};

/// How long a controller may take to authenticate after connecting.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/sessions", post(create)).route("/api/sessions/{id}/signal", get(signal))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<CreateSessionRequest>,
) -> HttpResult<(StatusCode, Json<SessionView>)> {
    auth.require(Role::can_open_sessions, "open sessions")?;
    if !state.hub.is_online(&request.target_id) {
        return Err(HttpError::Conflict { code: "target_offline", message: "the target is offline".into() });
    }
    let now = now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    let user = &auth.0.user;
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(Actor::user(&user.id, &user.username), "session.request")
        .target(request.target_id.clone())
        .source(auth.0.source.label())
        .details(json!({ "session_id": id }));
    audit::record(&mut tx, &event, now).await?;
    sessions::insert(&mut tx, &id, &user.id, &request.target_id, now).await?;
    tx.commit().await?;
    state.relay.open(&id, &request.target_id, &user.id);
    let (ice_servers, _broker) = state.ice_servers(&id, None).map_err(anyhow::Error::from)?;
    let asked = state.hub.send(
        &request.target_id,
        ServerToAgent::SessionRequest { session_id: id.clone(), technician: user.display_name.clone(), ice_servers },
    );
    if !asked {
        sessions::end(&state, &id, Actor::system(), "the target went offline", false).await?;
        return Err(HttpError::Conflict { code: "target_offline", message: "the target is offline".into() });
    }
    sessions::watch_request(state.clone(), id.clone());
    Ok((
        StatusCode::CREATED,
        Json(SessionView { id, target_id: request.target_id, state: "requested".into(), created_at: now }),
    ))
}

async fn signal(
    State(state): State<AppState>,
    source: Source,
    Path(session_id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.max_message_size(MAX_SIGNAL_MESSAGE_BYTES).max_frame_size(MAX_SIGNAL_MESSAGE_BYTES).on_upgrade(
        move |socket| async move {
            if let Err(err) = run_controller_socket(state, session_id.clone(), source, socket).await {
                tracing::info!(%session_id, error = format!("{err:#}"), "controller connection ended");
            }
        },
    )
}

fn text(message: &ServerToController) -> Message {
    Message::Text(serde_json::to_string(message).unwrap_or_default().into())
}

async fn run_controller_socket(
    state: AppState,
    session_id: String,
    source: Source,
    mut socket: WebSocket,
) -> anyhow::Result<()> {
    let token = match tokio::time::timeout(AUTH_TIMEOUT, socket.recv()).await {
        Ok(Some(Ok(Message::Text(body)))) => match serde_json::from_str::<ControllerToServer>(&body) {
            Ok(ControllerToServer::Auth { token }) => token,
            _ => {
                socket.send(text(&ServerToController::Error { message: "expected auth first".into() })).await?;
                anyhow::bail!("no auth message");
            }
        },
        _ => anyhow::bail!("no auth within {AUTH_TIMEOUT:?}"),
    };
    let auth = match authenticate_token(&state, &token, source).await {
        Ok(auth) if auth.user.must_change_password() => Err(HttpError::forbidden("choose a new password first")),
        Ok(auth) if !auth.role.can_open_sessions() => Err(HttpError::forbidden("your role may not open sessions")),
        other => other,
    };
    let auth = match auth {
        Ok(auth) => auth,
        Err(err) => {
            socket.send(text(&ServerToController::Error { message: err.to_string() })).await?;
            anyhow::bail!("refused: {err}");
        }
    };
    let actor = Actor::user(&auth.user.id, &auth.user.username);
    let attached = match state.relay.view(&session_id, &auth.user.id) {
        Ok(view) => {
            if view.attached_before {
                sessions::record_reattach(&state, &session_id, actor.clone(), source.label()).await?;
            }
            state.relay.attach_controller(&session_id, &auth.user.id).map(|attached| (attached, view))
        }
        Err(err) => Err(err),
    };
    let ((attachment, agent_id, mut inbox), view) = match attached {
        Ok(attached) => attached,
        Err(err) => {
            let ended = match err {
                AttachError::NotFound => sessions::end_reason(&state, &session_id, &auth.user.id).await?,
                AttachError::NotYours => None,
            };
            let reason = ended.unwrap_or_else(|| err.to_string());
            socket.send(text(&ServerToController::Ended { reason })).await?;
            anyhow::bail!("{err}");
        }
    };
    let (ice_servers, broker) = state.ice_servers(&session_id, None)?;
    socket
        .send(text(&ServerToController::Ready {
            session_id: session_id.clone(),
            ice_servers,
            last_negotiation: view.last_negotiation,
            broker,
        }))
        .await?;
    // Read after attaching, so a question asked meanwhile is not missed.
    if let Some(Phase::AwaitingUser { timeout_secs }) = state.relay.phase(&session_id) {
        socket.send(text(&ServerToController::AwaitingUser { timeout_secs })).await?;
    }
    let left = loop {
        tokio::select! {
            inbound = socket.recv() => match inbound {
                Some(Ok(Message::Text(body))) => match serde_json::from_str::<ControllerToServer>(&body) {
                    Ok(ControllerToServer::Signal { signal: Signal::Bye { reason } }) => break Left::Bye(reason),
                    Ok(ControllerToServer::Signal { signal }) => {
                        if let Signal::Offer { negotiation, .. } = signal {
                            state.relay.offered(&session_id, negotiation);
                        }
                        state.hub.send(&agent_id, ServerToAgent::Signal { session_id: session_id.clone(), signal });
                    }
                    Ok(ControllerToServer::Auth { .. }) | Err(_) => {
                        let refusal = text(&ServerToController::Error { message: "malformed signalling message".into() });
                        if socket.send(refusal).await.is_err() {
                            break Left::Disconnected;
                        }
                    }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break Left::Disconnected,
                Some(Ok(_)) => {}
            },
            outbound = inbox.recv() => match outbound {
                Some(message @ ServerToController::Ended { .. }) => {
                    // Ended either way; whether the page heard it does not matter.
                    let _ = socket.send(text(&message)).await;
                    break Left::Ended;
                }
                Some(message) => {
                    if socket.send(text(&message)).await.is_err() {
                        break Left::Disconnected;
                    }
                }
                None => break Left::Replaced,
            },
        }
    };
    let attachment_id = attachment.id;
    drop(attachment);
    match left {
        Left::Bye(reason) => sessions::end(&state, &session_id, actor, &reason, true).await?,
        Left::Disconnected => sessions::watch_reload_grace(state, session_id, attachment_id),
        Left::Ended | Left::Replaced => {}
    }
    Ok(())
}

/// How a controller's connection ended.
enum Left {
    /// The technician ended the session.
    Bye(String),
    /// The socket closed without a `bye`: maybe a reload.
    Disconnected,
    /// The session ended.
    Ended,
    /// A newer connection of the same technician took over.
    Replaced,
}
