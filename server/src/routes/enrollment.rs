//! `/api/enrollment-tokens`: administrators issue, list and revoke the
//! tokens agents enroll with, and the target groups their computers join.

use crate::agents;
use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::groups;
use crate::state::AppState;
use crate::store::now_ms;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::json;
use tether_shared::Role;
use tether_shared::agent::{CreateEnrollmentTokenRequest, CreatedEnrollmentToken, EnrollmentTokenView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/enrollment-tokens", get(list).post(create))
        .route("/api/enrollment-tokens/{id}", delete(revoke))
}

async fn list(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<Vec<EnrollmentTokenView>>> {
    auth.require(Role::can_enroll_agents, "enroll agents")?;
    let rows = agents::list_tokens(state.store.pool()).await?;
    let mut views = Vec::with_capacity(rows.len());
    for (row, creator) in &rows {
        let mut view = row.view(creator);
        view.groups = groups::of_token(state.store.pool(), &row.id).await?;
        views.push(view);
    }
    Ok(Json(views))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<CreateEnrollmentTokenRequest>,
) -> HttpResult<(StatusCode, Json<CreatedEnrollmentToken>)> {
    auth.require(Role::can_enroll_agents, "enroll agents")?;
    let label = request.label.trim();
    if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(HttpError::InvalidField("label must be 1 to 100 printable characters".into()));
    }
    if !(1..=43_200).contains(&request.ttl_minutes) {
        return Err(HttpError::InvalidField("ttl_minutes must be 1 to 43200 (30 days)".into()));
    }
    if !(1..=10_000).contains(&request.max_uses) {
        return Err(HttpError::InvalidField("max_uses must be 1 to 10000".into()));
    }
    let mut group_ids = request.groups.clone();
    group_ids.sort();
    group_ids.dedup();
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let unknown = groups::unknown_target_groups(&mut tx, &group_ids).await?;
    if !unknown.is_empty() {
        return Err(HttpError::InvalidField(format!("no such target group: {}", unknown.join(", "))));
    }
    let details = json!({ "ttl_minutes": request.ttl_minutes, "max_uses": request.max_uses, "groups": group_ids });
    let event = Event::new(Actor::user(&auth.0.user.id, &auth.0.user.username), "enrollment.token_create")
        .target(label.to_owned())
        .source(auth.0.source.label())
        .details(details);
    audit::record(&mut tx, &event, now).await?;
    let ttl_ms = i64::from(request.ttl_minutes) * 60_000;
    let (row, token) = agents::create_token(&mut tx, label, &auth.0.user.id, ttl_ms, request.max_uses, now).await?;
    groups::set_token_groups(&mut tx, &row.id, &group_ids).await?;
    let mut info = row.view(&auth.0.user.username);
    info.groups = groups::of_token(tx.conn(), &row.id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedEnrollmentToken { token, info })))
}

async fn revoke(State(state): State<AppState>, auth: AuthUser, Path(id): Path<String>) -> HttpResult<StatusCode> {
    auth.require(Role::can_enroll_agents, "enroll agents")?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(Actor::user(&auth.0.user.id, &auth.0.user.username), "enrollment.token_revoke")
        .target(id.clone())
        .source(auth.0.source.label());
    audit::record(&mut tx, &event, now).await?;
    if agents::revoke_token(&mut tx, &id, now).await?.is_none() {
        return Err(HttpError::not_found("no such enrollment token"));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
