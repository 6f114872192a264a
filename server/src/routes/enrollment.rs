//! `/api/enrollment-tokens`: administrators issue, list and revoke the
//! tokens agents enroll with.

use crate::agents;
use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
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
    Ok(Json(rows.iter().map(|(row, creator)| row.view(creator)).collect()))
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
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(Actor::user(&auth.0.user.id, &auth.0.user.username), "enrollment.token_create")
        .target(label.to_owned())
        .source(auth.0.source.label())
        .details(json!({ "ttl_minutes": request.ttl_minutes, "max_uses": request.max_uses }));
    audit::record(&mut tx, &event, now).await?;
    let ttl_ms = i64::from(request.ttl_minutes) * 60_000;
    let (row, token) = agents::create_token(&mut tx, label, &auth.0.user.id, ttl_ms, request.max_uses, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedEnrollmentToken { token, info: row.view(&auth.0.user.username) })))
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
