//! `/api/policies/session`: every signed-in account reads the session part
//! of the default policy (technicians and auditors may see what sessions
//! get); administrators replace it. `/api/policies/default`: the whole
//! default policy (session and access rules), read by administrators and
//! auditors, replaced by administrators. Changes are audited in the same
//! transaction, before the change.

use crate::auth::AuthUser;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::policies;
use crate::state::AppState;
use crate::store::now_ms;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use tether_shared::Role;
use tether_shared::access_policy::Policy;
use tether_shared::policy::SessionPolicy;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/policies/session", get(read_session_policy).put(replace_session_policy))
        .route("/api/policies/default", get(read_default_policy).put(replace_default_policy))
}

async fn read_session_policy(State(state): State<AppState>, _auth: AuthUser) -> HttpResult<Json<SessionPolicy>> {
    Ok(Json(policies::session_policy(state.store.pool()).await?))
}

/// Replaces the session part (fields left out take their defaults; the
/// access rules stay) and answers with what was saved.
async fn replace_session_policy(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(policy): ApiJson<SessionPolicy>,
) -> HttpResult<Json<SessionPolicy>> {
    auth.require(Role::can_manage_policies, "change policies")?;
    policy.validate().map_err(|invalid| HttpError::InvalidField(invalid.to_string()))?;
    let mut tx = state.store.begin_write().await?;
    policies::save_session_policy(&mut tx, &policy, &auth.0, now_ms()).await?;
    tx.commit().await?;
    crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    Ok(Json(policy))
}

async fn read_default_policy(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<Policy>> {
    auth.require(Role::can_read_policies, "read policies")?;
    Ok(Json(policies::default_policy(state.store.pool()).await?))
}

/// Replaces the whole default policy and answers with what was saved.
async fn replace_default_policy(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(policy): ApiJson<Policy>,
) -> HttpResult<Json<Policy>> {
    auth.require(Role::can_manage_policies, "change policies")?;
    policy.validate().map_err(|invalid| HttpError::InvalidField(invalid.to_string()))?;
    let mut tx = state.store.begin_write().await?;
    policies::save_default_policy(&mut tx, &policy, &auth.0, now_ms()).await?;
    tx.commit().await?;
    crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    Ok(Json(policy))
}
