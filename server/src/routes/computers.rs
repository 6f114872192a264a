//! `/api/computers`: administrators list every enrolled computer (auditors
//! read it too), rename one and set its target groups, and revoke one —
//! audited first; then its credential is refused, its live sessions end on
//! both ends and its socket is closed.

use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::computers;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::groups;
use crate::sessions;
use crate::state::AppState;
use crate::store::{WriteTx, now_ms};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use serde_json::json;
use tether_shared::Role;
use tether_shared::groups::{ComputerView, UpdateComputerRequest};
use tether_shared::session_lifecycle::Party;

/// The reason a revoked computer's sessions end with.
pub const REVOKED_REASON: &str = "the computer was removed by an administrator";

pub fn router() -> Router<AppState> {
    Router::new().route("/api/computers", get(list)).route("/api/computers/{id}", patch(update).delete(revoke))
}

async fn list(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<Vec<ComputerView>>> {
    auth.require(Role::can_read_policies, "read computers")?;
    let hub = state.hub.clone();
    Ok(Json(computers::list(state.store.pool(), |id| hub.is_online(id)).await?))
}

/// The computer's name, or 404.
async fn existing(tx: &mut WriteTx, id: &str) -> HttpResult<String> {
    computers::name_of(tx, id).await?.ok_or_else(|| HttpError::not_found("no such computer"))
}

/// Renames a computer and sets its groups (either may be left out) and
/// answers with it as listed.
async fn update(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateComputerRequest>,
) -> HttpResult<Json<ComputerView>> {
    auth.require(Role::can_manage_policies, "manage computers")?;
    let display_name = match &request.display_name {
        Some(typed) => Some(computers::display_name(typed).map_err(|why| HttpError::InvalidField(why.to_owned()))?),
        None => None,
    };
    let mut group_ids = request.groups.clone();
    if let Some(ids) = group_ids.as_mut() {
        ids.sort();
        ids.dedup();
    }
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let name = existing(&mut tx, &id).await?;
    if let Some(ids) = &group_ids {
        let unknown = groups::unknown_target_groups(&mut tx, ids).await?;
        if !unknown.is_empty() {
            return Err(HttpError::InvalidField(format!("no such target group: {}", unknown.join(", "))));
        }
    }
    let details = json!({ "agent_id": id, "display_name": display_name, "groups": group_ids });
    let event = Event::new(Actor::user(&auth.0.user.id, &auth.0.user.username), "agent.update")
        .target(name)
        .source(auth.0.source.label())
        .details(details);
    audit::record(&mut tx, &event, now).await?;
    if let Some(display_name) = display_name {
        computers::set_display_name(&mut tx, &id, display_name).await?;
    }
    if let Some(ids) = &group_ids {
        groups::set_target_groups(&mut tx, &id, ids).await?;
    }
    tx.commit().await?;
    crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    let hub = state.hub.clone();
    let listed = computers::list(state.store.pool(), |agent| hub.is_online(agent)).await?;
    listed
        .into_iter()
        .find(|computer| computer.id == id)
        .map(Json)
        .ok_or_else(|| HttpError::not_found("no such computer"))
}

/// Revokes a computer: audited and committed first (from then on its
/// credential is refused), then its live sessions end, both ends told,
/// then its socket closes.
async fn revoke(State(state): State<AppState>, auth: AuthUser, Path(id): Path<String>) -> HttpResult<StatusCode> {
    auth.require(Role::can_manage_policies, "manage computers")?;
    let now = now_ms();
    let user = &auth.0.user;
    let mut tx = state.store.begin_write().await?;
    let name = existing(&mut tx, &id).await?;
    let event = Event::new(Actor::user(&user.id, &user.username), "agent.revoke")
        .target(name)
        .source(auth.0.source.label())
        .details(json!({ "agent_id": id }));
    audit::record(&mut tx, &event, now).await?;
    computers::revoke(&mut tx, &id, now).await?;
    tx.commit().await?;
    let by = Party::Account { id: user.id.clone(), name: user.username.clone() };
    sessions::revoke_target(&state, &id, by, REVOKED_REASON).await;
    if state.hub.disconnect(&id) {
        tracing::info!(agent_id = %id, "revoked computer disconnected");
    }
    Ok(StatusCode::NO_CONTENT)
}
