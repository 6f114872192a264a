//! `/api/users`: administrators create, edit, disable, re-enable and delete
//! accounts and reset passwords. Each change is audited in the same
//! transaction, before the change.

use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::auth::{password, sessions};
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::sessions as live_sessions;
use crate::state::AppState;
use crate::store::now_ms;
use crate::users::{self, NewUser};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::json;
use tether_shared::api::{CreateUserRequest, ResetPasswordRequest, UpdateUserRequest, UserView};
use tether_shared::error_code;
use tether_shared::session_lifecycle::Party;
use tether_shared::{Role, validate};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list).post(create))
        .route("/api/users/{id}", patch(update).delete(delete))
        .route("/api/users/{id}/password", post(reset_password))
}

fn admin_actor(auth: &AuthUser) -> Actor {
    Actor::user(&auth.0.user.id, &auth.0.user.username)
}

async fn list(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<Vec<UserView>>> {
    auth.require(Role::can_manage_users, "manage users")?;
    let rows = users::list(state.store.pool()).await?;
    Ok(Json(rows.iter().map(users::UserRow::view).collect::<anyhow::Result<_>>()?))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<CreateUserRequest>,
) -> HttpResult<(StatusCode, Json<UserView>)> {
    auth.require(Role::can_manage_users, "manage users")?;
    validate::username(&request.username)?;
    validate::display_name(&request.display_name)?;
    validate::password(&request.password, &request.username)?;
    let hash = password::hash(request.password).await?;
    let taken = || HttpError::Conflict {
        code: error_code::USERNAME_TAKEN,
        message: format!("the username {} is already taken", request.username),
    };
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(admin_actor(&auth), "user.create")
        .target(request.username.clone())
        .source(auth.0.source.label())
        .details(json!({ "role": request.role, "display_name": request.display_name }));
    audit::record(&mut tx, &event, now).await?;
    let new_user = NewUser {
        username: &request.username,
        display_name: request.display_name.trim(),
        role: request.role,
        password_hash: &hash,
        must_change_password: true,
    };
    let row = match users::insert(&mut tx, &new_user, now).await {
        Ok(row) => row,
        Err(err) if users::is_unique_violation(&err) => return Err(taken()),
        Err(err) => return Err(err.into()),
    };
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.view()?)))
}

async fn update(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<UpdateUserRequest>,
) -> HttpResult<Json<UserView>> {
    auth.require(Role::can_manage_users, "manage users")?;
    if let Some(name) = &request.display_name {
        validate::display_name(name)?;
    }
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let mut user = users::by_id(&mut tx, &id).await?.ok_or_else(|| HttpError::not_found("no such user"))?;
    let before = user.view()?;
    if let Some(name) = request.display_name {
        user.display_name = name.trim().to_owned();
    }
    if let Some(role) = request.role {
        user.role = role.as_str().to_owned();
    }
    if let Some(disabled) = request.disabled {
        user.disabled_at = match (disabled, user.disabled_at) {
            (true, None) => Some(now),
            (true, since) => since,
            (false, _) => None,
        };
    }
    let after = user.view()?;
    let loses_admin = before.role == Role::Admin && !before.disabled && (after.role != Role::Admin || after.disabled);
    if loses_admin && users::other_enabled_admins(&mut tx, &user.id).await? == 0 {
        return Err(HttpError::Conflict {
            code: error_code::LAST_ADMIN,
            message: "this is the last enabled administrator; make another one first".into(),
        });
    }
    let mut changes = serde_json::Map::new();
    if before.display_name != after.display_name {
        changes.insert("display_name".into(), json!({ "from": before.display_name, "to": after.display_name }));
    }
    if before.role != after.role {
        changes.insert("role".into(), json!({ "from": before.role, "to": after.role }));
    }
    if before.disabled != after.disabled {
        changes.insert("disabled".into(), json!({ "from": before.disabled, "to": after.disabled }));
    }
    if changes.is_empty() {
        return Ok(Json(after));
    }
    user.updated_at = now;
    let event = Event::new(admin_actor(&auth), "user.update")
        .target(user.username.clone())
        .source(auth.0.source.label())
        .details(serde_json::Value::Object(changes));
    audit::record(&mut tx, &event, now).await?;
    users::update(&mut tx, &user).await?;
    if after.disabled || before.role != after.role {
        sessions::revoke_all_for_user(&mut tx, &user.id, None, now).await?;
    }
    tx.commit().await?;
    // Their live sessions end too, on both ends, recorded as by this admin.
    if after.disabled || !after.role.can_open_sessions() {
        let change = if after.disabled { "disabled".to_owned() } else { format!("made {}", after.role) };
        end_live_sessions(&state, &auth, &user.id, &change).await;
    }
    Ok(Json(after))
}

/// Ends the live sessions of technician `user_id` on both ends, recorded as
/// ended by this administrator because the account was `change`d.
async fn end_live_sessions(state: &AppState, auth: &AuthUser, user_id: &str, change: &str) {
    let reason = format!("the technician's account was {change} by administrator {}", auth.0.user.username);
    let by = Party::Account { id: auth.0.user.id.clone(), name: auth.0.user.username.clone() };
    live_sessions::revoke_technician(state, user_id, by, &reason).await;
}

/// Deletes an account: audited first, then it can no longer sign in or be
/// found, its logins are revoked and its live sessions end. Its username
/// stays reserved (see `users::delete`).
async fn delete(State(state): State<AppState>, auth: AuthUser, Path(id): Path<String>) -> HttpResult<StatusCode> {
    auth.require(Role::can_manage_users, "manage users")?;
    if id == auth.0.user.id {
        return Err(HttpError::Conflict {
            code: error_code::CANNOT_DELETE_SELF,
            message: "you cannot delete your own account; ask another administrator".into(),
        });
    }
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let user = users::by_id(&mut tx, &id).await?.ok_or_else(|| HttpError::not_found("no such user"))?;
    let view = user.view()?;
    if view.role == Role::Admin && !view.disabled && users::other_enabled_admins(&mut tx, &user.id).await? == 0 {
        return Err(HttpError::Conflict {
            code: error_code::LAST_ADMIN,
            message: "this is the last enabled administrator; make another one first".into(),
        });
    }
    let event = Event::new(admin_actor(&auth), "user.delete")
        .target(user.username.clone())
        .source(auth.0.source.label())
        .details(json!({ "user_id": user.id, "role": view.role, "display_name": view.display_name }));
    audit::record(&mut tx, &event, now).await?;
    users::delete(&mut tx, &user.id, now).await?;
    sessions::revoke_all_for_user(&mut tx, &user.id, None, now).await?;
    tx.commit().await?;
    end_live_sessions(&state, &auth, &user.id, "deleted").await;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset_password(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ResetPasswordRequest>,
) -> HttpResult<StatusCode> {
    auth.require(Role::can_manage_users, "manage users")?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let user = users::by_id(&mut tx, &id).await?.ok_or_else(|| HttpError::not_found("no such user"))?;
    validate::password(&request.password, &user.username)?;
    // Hashing while holding the write turn is brief (tens of ms) and keeps
    // the check and the change in one transaction.
    let hash = password::hash(request.password).await?;
    let event = Event::new(admin_actor(&auth), "user.password_reset")
        .target(user.username.clone())
        .source(auth.0.source.label());
    audit::record(&mut tx, &event, now).await?;
    users::set_password(&mut tx, &user.id, &hash, true, now).await?;
    sessions::revoke_all_for_user(&mut tx, &user.id, None, now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
