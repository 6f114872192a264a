//! Agents: enrollment (`POST /api/agent/enroll`), their WebSocket
//! (`/api/agent/ws`, authenticated by the agent credential), and the
//! technician's target list (`GET /api/targets`).

use crate::access;
use crate::agent_link::{self, AgentLink, Inbound, TargetGuard, text};
use crate::agents;
use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::auth::bearer::AgentCredential;
use crate::auth::extractor::Source;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::groups;
use crate::socket;
use crate::state::AppState;
use crate::store::now_ms;
use axum::extract::State;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tether_shared::Role;
use tether_shared::agent::{EnrollRequest, EnrollResponse, TargetView};
use tether_shared::error_code;

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
            code: error_code::INVALID_ENROLLMENT_TOKEN,
            message: "the enrollment token is unknown, expired, revoked or used up".into(),
        });
    };
    let (agent_id, credential) = agents::create_agent(&mut tx, &token_id, &request.info, now).await?;
    let joined = groups::of_token(tx.conn(), &token_id).await?;
    let group_ids: Vec<String> = joined.iter().map(|group| group.id.clone()).collect();
    let group_names: Vec<&str> = joined.iter().map(|group| group.name.as_str()).collect();
    let details = json!({ "agent_id": agent_id, "token": token_label, "info": request.info, "groups": group_names });
    let event = Event::new(Actor::claimed(&format!("agent:{}", request.info.hostname)), "agent.enroll")
        .target(request.info.hostname.clone())
        .source(source.label())
        .details(details);
    audit::record(&mut tx, &event, now).await?;
    groups::set_target_groups(&mut tx, &agent_id, &group_ids).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(EnrollResponse { agent_id, credential, grant_key: state.grant_key.public() })))
}

async fn connect(
    State(state): State<AppState>,
    AgentCredential { agent_id }: AgentCredential,
    upgrade: WebSocketUpgrade,
) -> HttpResult<Response> {
    let peer = format!("agent {agent_id}");
    Ok(socket::accept(&state.clone(), upgrade, peer, move |socket| run_agent_socket(state, agent_id, socket)))
}

/// Drives one agent connection: hello, then messages both ways until
/// either side closes or a newer connection of the same agent takes over.
/// However it ends, the agent's sessions end with it ([`TargetGuard`]).
async fn run_agent_socket(state: AppState, agent_id: String, mut socket: WebSocket) -> anyhow::Result<()> {
    let info = agent_link::receive_hello(&mut socket).await?;
    agents::record_seen(state.store.pool(), &agent_id, Some(&info), now_ms()).await?;
    let (_presence, outbox) = state.hub.attach(&agent_id);
    // A revocation committed after this socket authenticated but before it
    // attached found nothing to disconnect: look again, now attached.
    if agents::is_revoked(state.store.pool(), &agent_id).await? {
        anyhow::bail!("agent {agent_id} was revoked while it connected");
    }
    let _sessions_end_with_the_socket = TargetGuard::new(&state.relay, &agent_id);
    tracing::info!(%agent_id, hostname = %info.hostname, "agent online");
    socket.send(text(&agent_link::welcome(&state, &agent_id).await?)).await?;

    let mut link = AgentLink::new(socket, outbox, &agent_id, state.heartbeat);
    let result = loop {
        match link.next().await? {
            Inbound::Message(message) => match agent_link::on_message(&state, &agent_id, message).await? {
                None => {}
                Some(info) if info.validate().is_ok() => {
                    agents::record_seen(state.store.pool(), &agent_id, Some(&info), now_ms()).await?;
                }
                Some(_) => {
                    if let Some(err) = link.malformed().await? {
                        break Err(err);
                    }
                }
            },
            Inbound::Closed(result) => break result,
        }
    };
    agents::record_seen(state.store.pool(), &agent_id, None, now_ms()).await?;
    tracing::info!(%agent_id, "agent offline");
    result
}

async fn targets(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<Vec<TargetView>>> {
    auth.require(Role::can_open_sessions, "open sessions")?;
    let hub = state.hub.clone();
    let reach = access::Reach::of(state.store.pool(), &auth.0.user.id).await?;
    Ok(Json(agents::targets(state.store.pool(), |id| reach.allows(id), |id| hub.is_online(id)).await?))
}
