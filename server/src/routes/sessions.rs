//! `/api/sessions`: a technician asks for a live session with an online
//! target, then negotiates WebRTC with its agent over
//! `/api/sessions/{id}/signal`, a WebSocket whose first message carries the
//! access token. The server relays only between the two ends of a session.
//!
//! A controller that disconnects without a `bye` (a page reload, a network
//! drop) leaves its session open for the reload grace period; the same
//! technician re-attaches within it, audited, and negotiates again.

use crate::audit::{self, Actor, Event as AuditEvent};
use crate::auth::AuthUser;
use crate::auth::extractor::{Source, authenticate_token};
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::grants::{self, Grantee, IssueError};
use crate::heartbeat::{Beat, Heartbeat};
use crate::relay::AttachError;
use crate::sessions::{self, Ends};
use crate::socket;
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
use tether_shared::error_code;
use tether_shared::mode::SessionMode;
use tether_shared::session_lifecycle::Event;
use tether_shared::signal::{
    ControllerToServer, PROTOCOL_VERSION, ServerToAgent, ServerToController, Signal, check_protocol, dtls_fingerprint,
};

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
    crate::access::require_reach(&state.store, &auth.0, &request.target_id).await?;
    if !state.hub.is_online(&request.target_id) {
        return Err(HttpError::Conflict { code: error_code::TARGET_OFFLINE, message: "the target is offline".into() });
    }
    let user = &auth.0.user;
    let policy = grants::policy_for(&state.store, &user.id, &request.target_id).await.map_err(refused_grant)?;
    let now = now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.store.begin_write().await?;
    let event = AuditEvent::new(Actor::user(&user.id, &user.username), "session.request")
        .target(request.target_id.clone())
        .source(auth.0.source.label())
        .details(json!({ "session_id": id }));
    audit::record(&mut tx, &event, now).await?;
    sessions::insert(&mut tx, &id, &user.id, &request.target_id, now).await?;
    // Bound to no controller yet: it lets the agent decide whether to
    // admit the session; each offer brings one naming its controller.
    let grantee = Grantee {
        session_id: &id,
        technician_id: &user.id,
        technician_name: &user.display_name,
        target: &request.target_id,
        controller_fingerprint: None,
        accepted_mode: None,
        requested_mode: None,
    };
    let grant = grants::issue_in(&mut tx, &state.grant_key, &policy, grantee).await.map_err(refused_grant)?;
    let granted_mode = grants::mode_for(&policy).map_err(refused_grant)?;
    tx.commit().await?;
    let ends = Ends {
        session_id: id.clone(),
        target: request.target_id.clone(),
        technician: Actor::user(&user.id, &user.username),
        technician_name: user.display_name.clone(),
    };
    sessions::open(&state, ends, &user.id, granted_mode);
    let (ice_servers, _broker) = state.ice_servers(&id, None).map_err(anyhow::Error::from)?;
    let asked = state.hub.send(
        &request.target_id,
        ServerToAgent::SessionRequest {
            session_id: id.clone(),
            technician: user.display_name.clone(),
            ice_servers,
            grant: Some(grant),
        },
    );
    if !asked {
        state.relay.end(&id, Event::TargetGone).await;
        return Err(HttpError::Conflict { code: error_code::TARGET_OFFLINE, message: "the target is offline".into() });
    }
    Ok((
        StatusCode::CREATED,
        Json(SessionView { id, target_id: request.target_id, state: "requested".into(), created_at: now }),
    ))
}

/// A grant that cannot be issued: no policy or mode allows the session
/// (403), or the policy or audit log failed (500).
fn refused_grant(err: IssueError) -> HttpError {
    match err {
        IssueError::NoPolicy | IssueError::NoMode => HttpError::forbidden(err.to_string()),
        other => HttpError::Internal(anyhow::Error::new(other)),
    }
}

/// Issues the grant naming the controller that sent `sdp` (audited), held
/// to the mode the person accepted, to be sent to the agent before the
/// offer; `None` (logged) when none can be.
async fn grant_for_offer(
    state: &AppState,
    session_id: &str,
    user: &crate::users::UserRow,
    target: &str,
    sdp: &str,
) -> Option<ServerToAgent> {
    let accepted_mode = match crate::sessions::table::session_mode(&state.store, session_id).await {
        Ok(mode) => mode,
        Err(err) => {
            tracing::error!(%session_id, error = %err, "cannot read the session's accepted mode; not relaying the offer");
            return None;
        }
    };
    let grantee = Grantee {
        session_id,
        technician_id: &user.id,
        technician_name: &user.display_name,
        target,
        controller_fingerprint: dtls_fingerprint(sdp),
        accepted_mode,
        requested_mode: None,
    };
    match grants::issue(&state.store, &state.grant_key, grantee).await {
        Ok(grant) => Some(ServerToAgent::Grant { session_id: session_id.to_owned(), grant, requested: false }),
        Err(err) => {
            tracing::error!(%session_id, error = %err, "cannot grant the controller's offer; not relaying it");
            None
        }
    }
}

/// The mode the policy gives technician `technician_id` on `target` when
/// they ask for `requested`, or the sentence saying why none.
async fn granted_mode(
    state: &AppState,
    technician_id: &str,
    target: &str,
    requested: SessionMode,
) -> Result<SessionMode, String> {
    match grants::policy_for(&state.store, technician_id, target).await {
        Ok(policy) => grants::mode_asked(&policy, requested)
            .map_err(|_| format!("The policy allows no mode like {} on this computer.", requested.name())),
        Err(IssueError::NoPolicy | IssueError::NoMode) => {
            Err("No policy allows you this computer any more.".to_owned())
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot read the policy for a mode request");
            Err("The server could not read the policy.".to_owned())
        }
    }
}

async fn signal(
    State(state): State<AppState>,
    source: Source,
    Path(session_id): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let peer = format!("controller of session {session_id}");
    socket::accept(&state.clone(), upgrade, peer, move |socket| {
        run_controller_socket(state, session_id, source, socket)
    })
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
            Ok(ControllerToServer::Auth { token, protocol }) => match check_protocol(protocol) {
                Ok(()) => token,
                Err(mismatch) => {
                    let message = format!("this page is out of date: reload it ({mismatch})");
                    socket.send(text(&ServerToController::Error { message })).await?;
                    anyhow::bail!("{mismatch}");
                }
            },
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
    let (attachment, view, mut inbox) = match state.relay.attach_controller(&session_id, &auth.user.id) {
        Ok(attached) => attached,
        Err(err) => {
            let ended = match err {
                AttachError::NotFound => sessions::end_reason(&state.store, &session_id, &auth.user.id).await?,
                AttachError::NotYours => None,
            };
            let reason = ended.unwrap_or_else(|| err.to_string());
            socket.send(text(&ServerToController::Ended { reason })).await?;
            anyhow::bail!("{err}");
        }
    };
    // Recorded (a re-attach is audited) before anything reaches the page.
    let attached = Event::ControllerAttached { attachment: attachment.id, source: source.label() };
    if !state.relay.event_handled(&session_id, attached).await {
        tracing::info!(%session_id, "the session ended while its controller attached");
    }
    let (ice_servers, broker) = state.ice_servers(&session_id, None)?;
    socket
        .send(text(&ServerToController::Ready {
            session_id: session_id.clone(),
            ice_servers,
            last_negotiation: view.last_negotiation,
            broker,
            protocol: PROTOCOL_VERSION,
        }))
        .await?;
    // What the session told the new controller (the user is being asked)
    // waits in the outbox and follows `ready`.
    let mut heartbeat = Heartbeat::new(state.heartbeat);
    let left = loop {
        tokio::select! {
            beat = heartbeat.tick() => match beat {
                Beat::Ping => {
                    if socket.send(Message::Ping(Default::default())).await.is_err() {
                        break Left::Gone;
                    }
                }
                Beat::Silent(silent) => {
                    tracing::info!(%session_id, ?silent, "the controller went silent");
                    break Left::Gone;
                }
            },
            inbound = socket.recv() => {
                if let Some(Ok(_)) = &inbound {
                    heartbeat.heard();
                }
                match inbound {
                    Some(Ok(Message::Text(body))) => match serde_json::from_str::<ControllerToServer>(&body) {
                        Ok(ControllerToServer::Signal { signal: Signal::Bye { reason } }) => break Left::Bye(reason),
                        Ok(ControllerToServer::Signal { signal }) => {
                            if let Signal::Offer { negotiation, sdp } = &signal {
                                state.relay.offered(&session_id, *negotiation, dtls_fingerprint(sdp));
                                // The agent answers only the controller its grant names.
                                match grant_for_offer(&state, &session_id, &auth.user, &view.agent_id, sdp).await {
                                    Some(grant) => {
                                        if !state.hub.send(&view.agent_id, grant) {
                                            tracing::warn!(%session_id, "a grant for the target was dropped (offline or not keeping up)");
                                        }
                                    }
                                    None => {
                                        let refusal = text(&ServerToController::Error { message: "the server could not grant this session".into() });
                                        if socket.send(refusal).await.is_err() {
                                            break Left::Gone;
                                        }
                                        continue;
                                    }
                                }
                            }
                            let message = ServerToAgent::Signal { session_id: session_id.clone(), signal };
                            if !state.hub.send(&view.agent_id, message) {
                                tracing::warn!(%session_id, "a signal for the target was dropped (offline or not keeping up)");
                            }
                        }
                        Ok(ControllerToServer::RequestMode { mode }) => {
                            match granted_mode(&state, &auth.user.id, &view.agent_id, mode).await {
                                // Recorded, then granted, by the session's driver.
                                Ok(granted) => {
                                    if !state.relay.event(&session_id, Event::ModeRequested { requested: mode, granted }) {
                                        tracing::debug!(%session_id, "a mode request for a session that just ended");
                                    }
                                }
                                Err(message) => {
                                    if socket.send(text(&ServerToController::Error { message })).await.is_err() {
                                        break Left::Gone;
                                    }
                                }
                            }
                        }
                        Ok(ControllerToServer::Chat { text: typed }) => match tether_shared::chat::check_text(&typed) {
                            // Recorded, then sent to both ends, by the session's driver.
                            Ok(line) => {
                                let chat = Event::Chat { from: tether_shared::chat::Speaker::Technician, text: line };
                                if !state.relay.event(&session_id, chat) {
                                    tracing::debug!(%session_id, "a chat line for a session that just ended");
                                }
                            }
                            Err(bad) => {
                                if socket.send(text(&ServerToController::Error { message: bad.to_string() })).await.is_err() {
                                    break Left::Gone;
                                }
                            }
                        },
                        Ok(ControllerToServer::Auth { .. }) | Err(_) => {
                            let refusal = text(&ServerToController::Error { message: "malformed signalling message".into() });
                            if socket.send(refusal).await.is_err() {
                                break Left::Gone;
                            }
                        }
                    },
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break Left::Gone,
                    Some(Ok(_)) => {}
                }
            }
            outbound = inbox.recv() => match outbound {
                Some(message @ ServerToController::Ended { .. }) => {
                    // Ended either way; whether the page heard it does not matter.
                    let _ = socket.send(text(&message)).await;
                    break Left::Gone;
                }
                Some(message) => {
                    if socket.send(text(&message)).await.is_err() {
                        break Left::Gone;
                    }
                }
                None => break Left::Gone,
            },
        }
    };
    if let Left::Bye(reason) = left {
        // Handled before the attachment's drop reports it left.
        if !state.relay.event(&session_id, Event::ControllerBye { reason }) {
            tracing::debug!(%session_id, "the session ended before the technician's bye");
        }
    }
    drop(attachment);
    Ok(())
}

/// How a controller's connection ended.
enum Left {
    /// The technician ended the session.
    Bye(String),
    /// The socket closed without a `bye` (maybe a reload), the session
    /// ended, or a newer connection of the same technician took over: the
    /// attachment's drop tells the session, which knows which.
    Gone,
}
