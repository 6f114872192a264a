//! `/api/policy-assignments`: administrators give a policy to a pair of a
//! technician group and a target group (one per pair), replace it or take
//! it away; auditors read them. `/api/policies/effective` previews what a
//! technician may do on a computer and which assignments say so. Changes
//! are audited in their transaction, before the change.

use crate::access;
use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::error::{HttpError, HttpResult};
use crate::extract::{ApiJson, ApiQuery};
use crate::groups;
use crate::policy_assignments;
use crate::state::AppState;
use crate::store::{WriteTx, now_ms};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde_json::json;
use tether_shared::Role;
use tether_shared::access_policy::Policy;
use tether_shared::error_code;
use tether_shared::groups::{AssignmentView, CreateAssignmentRequest, EffectivePolicyView, EffectiveQuery, GroupKind};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/policy-assignments", get(list).post(create))
        .route("/api/policy-assignments/{id}", put(replace).delete(remove))
        .route("/api/policies/effective", get(effective))
}

async fn list(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<Vec<AssignmentView>>> {
    auth.require(Role::can_read_policies, "read policies")?;
    Ok(Json(policy_assignments::list(state.store.pool()).await?))
}

fn event(auth: &AuthUser, action: &'static str, view: &AssignmentView) -> Event {
    Event::new(Actor::user(&auth.0.user.id, &auth.0.user.username), action)
        .target(format!("{} × {}", view.technician_group.name, view.target_group.name))
        .source(auth.0.source.label())
}

fn checked(policy: &Policy) -> HttpResult<()> {
    policy.validate().map_err(|invalid| HttpError::InvalidField(invalid.to_string()))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<CreateAssignmentRequest>,
) -> HttpResult<(StatusCode, Json<AssignmentView>)> {
    auth.require(Role::can_manage_policies, "change policies")?;
    checked(&request.policy)?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let missing = |what: &str| HttpError::InvalidField(format!("no such {what} group"));
    let technician_name = groups::name_of(&mut tx, GroupKind::Technician, &request.technician_group)
        .await?
        .ok_or_else(|| missing("technician"))?;
    let target_name =
        groups::name_of(&mut tx, GroupKind::Target, &request.target_group).await?.ok_or_else(|| missing("target"))?;
    if policy_assignments::pair_taken(&mut tx, &request.technician_group, &request.target_group).await? {
        return Err(HttpError::Conflict {
            code: error_code::ASSIGNMENT_EXISTS,
            message: "these two groups have a policy already; change that one".into(),
        });
    }
    let mut view = AssignmentView {
        id: String::new(),
        technician_group: tether_shared::groups::Named { id: request.technician_group, name: technician_name },
        target_group: tether_shared::groups::Named { id: request.target_group, name: target_name },
        policy: request.policy,
    };
    audit::record(&mut tx, &event(&auth, "policy.assign", &view).details(json!({ "policy": view.policy })), now)
        .await?;
    let user = &auth.0.user.id;
    view.id =
        policy_assignments::insert(&mut tx, &view.technician_group.id, &view.target_group.id, &view.policy, user, now)
            .await?;
    tx.commit().await?;
    crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Assignment `id`, or 404.
async fn existing(tx: &mut WriteTx, id: &str) -> HttpResult<AssignmentView> {
    policy_assignments::get(tx, id).await?.ok_or_else(|| HttpError::not_found("no such policy assignment"))
}

async fn replace(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(policy): ApiJson<Policy>,
) -> HttpResult<Json<AssignmentView>> {
    auth.require(Role::can_manage_policies, "change policies")?;
    checked(&policy)?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let before = existing(&mut tx, &id).await?;
    let details = json!({ "assignment_id": id, "before": before.policy, "after": policy });
    audit::record(&mut tx, &event(&auth, "policy.assignment_update", &before).details(details), now).await?;
    policy_assignments::update(&mut tx, &id, &policy, &auth.0.user.id, now).await?;
    tx.commit().await?;
    crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    Ok(Json(AssignmentView { policy, ..before }))
}

async fn remove(State(state): State<AppState>, auth: AuthUser, Path(id): Path<String>) -> HttpResult<StatusCode> {
    auth.require(Role::can_manage_policies, "change policies")?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let before = existing(&mut tx, &id).await?;
    let details = json!({ "assignment_id": id, "policy": before.policy });
    audit::record(&mut tx, &event(&auth, "policy.unassign", &before).details(details), now).await?;
    policy_assignments::delete(&mut tx, &id).await?;
    tx.commit().await?;
    crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn effective(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<EffectiveQuery>,
) -> HttpResult<Json<EffectivePolicyView>> {
    auth.require(Role::can_read_policies, "read policies")?;
    Ok(Json(access::explain(state.store.pool(), &query.technician, &query.target).await?))
}
