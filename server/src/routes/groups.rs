//! `/api/technician-groups` and `/api/target-groups`: administrators
//! create, rename and delete groups of either kind and put members in and
//! out of them (accounts in technician groups, computers in target
//! groups); auditors read them. Every change is audited in its transaction,
//! before it.

use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::groups;
use crate::state::AppState;
use crate::store::{WriteTx, now_ms};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use serde_json::json;
use tether_shared::Role;
use tether_shared::error_code;
use tether_shared::groups::{GroupKind, GroupRequest, GroupView, Named};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(kind_router("/api/technician-groups", GroupKind::Technician))
        .merge(kind_router("/api/target-groups", GroupKind::Target))
}

fn kind_router(prefix: &str, kind: GroupKind) -> Router<AppState> {
    Router::new()
        .route(
            prefix,
            get(move |state: State<AppState>, auth: AuthUser| list(state, auth, kind))
                .post(move |state: State<AppState>, auth: AuthUser, body| create(state, auth, kind, body)),
        )
        .route(
            &format!("{prefix}/{{id}}"),
            patch(move |state: State<AppState>, auth: AuthUser, id, body| rename(state, auth, kind, id, body))
                .delete(move |state: State<AppState>, auth: AuthUser, id| delete(state, auth, kind, id)),
        )
        .route(
            &format!("{prefix}/{{id}}/members/{{member}}"),
            put(move |state: State<AppState>, auth: AuthUser, ids| add_member(state, auth, kind, ids))
                .delete(move |state: State<AppState>, auth: AuthUser, ids| remove_member(state, auth, kind, ids)),
        )
}

fn kind_name(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Technician => "technician",
        GroupKind::Target => "target",
    }
}

async fn list(State(state): State<AppState>, auth: AuthUser, kind: GroupKind) -> HttpResult<Json<Vec<GroupView>>> {
    auth.require(Role::can_read_policies, "read groups")?;
    Ok(Json(groups::list(state.store.pool(), kind).await?))
}

/// `name` checked, and free among `kind`'s groups other than `except`.
async fn free_name(tx: &mut WriteTx, kind: GroupKind, name: &str, except: &str) -> HttpResult<String> {
    let name = tether_shared::groups::group_name(name).map_err(|why| HttpError::InvalidField(why.to_owned()))?;
    if groups::name_taken(tx, kind, name, except).await? {
        return Err(HttpError::Conflict {
            code: error_code::GROUP_NAME_TAKEN,
            message: format!("a {} group named {name:?} exists already", kind_name(kind)),
        });
    }
    Ok(name.to_owned())
}

fn event(auth: &AuthUser, action: &'static str, target: &str) -> Event {
    Event::new(Actor::user(&auth.0.user.id, &auth.0.user.username), action)
        .target(target.to_owned())
        .source(auth.0.source.label())
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    kind: GroupKind,
    ApiJson(request): ApiJson<GroupRequest>,
) -> HttpResult<(StatusCode, Json<GroupView>)> {
    auth.require(Role::can_manage_policies, "manage groups")?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let name = free_name(&mut tx, kind, &request.name, "").await?;
    audit::record(&mut tx, &event(&auth, "group.create", &name).details(json!({ "kind": kind })), now).await?;
    let id = groups::create(&mut tx, kind, &name, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(GroupView { id, name, members: vec![] })))
}

/// The group's name, or 404.
async fn existing(tx: &mut WriteTx, kind: GroupKind, id: &str) -> HttpResult<String> {
    groups::name_of(tx, kind, id)
        .await?
        .ok_or_else(|| HttpError::not_found(format!("no such {} group", kind_name(kind))))
}

async fn rename(
    State(state): State<AppState>,
    auth: AuthUser,
    kind: GroupKind,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<GroupRequest>,
) -> HttpResult<Json<Named>> {
    auth.require(Role::can_manage_policies, "manage groups")?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let before = existing(&mut tx, kind, &id).await?;
    let name = free_name(&mut tx, kind, &request.name, &id).await?;
    let details = json!({ "kind": kind, "id": id, "before": before, "after": name });
    audit::record(&mut tx, &event(&auth, "group.rename", &name).details(details), now).await?;
    groups::rename(&mut tx, kind, &id, &name).await?;
    tx.commit().await?;
    Ok(Json(Named { id, name }))
}

async fn delete(
    State(state): State<AppState>,
    auth: AuthUser,
    kind: GroupKind,
    Path(id): Path<String>,
) -> HttpResult<StatusCode> {
    auth.require(Role::can_manage_policies, "manage groups")?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let name = existing(&mut tx, kind, &id).await?;
    audit::record(&mut tx, &event(&auth, "group.delete", &name).details(json!({ "kind": kind, "id": id })), now)
        .await?;
    groups::delete(&mut tx, kind, &id).await?;
    tx.commit().await?;
    crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The group's and the member's names, or 404 for either.
async fn group_and_member(tx: &mut WriteTx, kind: GroupKind, id: &str, member: &str) -> HttpResult<(String, String)> {
    let group = existing(tx, kind, id).await?;
    let what = match kind {
        GroupKind::Technician => "no such account",
        GroupKind::Target => "no such computer",
    };
    let member = groups::member_name(tx, kind, member).await?.ok_or_else(|| HttpError::not_found(what))?;
    Ok((group, member))
}

async fn add_member(
    State(state): State<AppState>,
    auth: AuthUser,
    kind: GroupKind,
    Path((id, member)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    auth.require(Role::can_manage_policies, "manage groups")?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let (group, member_name) = group_and_member(&mut tx, kind, &id, &member).await?;
    let details = json!({ "kind": kind, "group_id": id, "member_id": member, "member": member_name });
    audit::record(&mut tx, &event(&auth, "group.member_add", &group).details(details), now).await?;
    if groups::add_member(&mut tx, kind, &id, &member).await? {
        tx.commit().await?;
        crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<AppState>,
    auth: AuthUser,
    kind: GroupKind,
    Path((id, member)): Path<(String, String)>,
) -> HttpResult<StatusCode> {
    auth.require(Role::can_manage_policies, "manage groups")?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let group = existing(&mut tx, kind, &id).await?;
    let details = json!({ "kind": kind, "group_id": id, "member_id": member });
    audit::record(&mut tx, &event(&auth, "group.member_remove", &group).details(details), now).await?;
    if !groups::remove_member(&mut tx, kind, &id, &member).await? {
        return Err(HttpError::not_found("not a member of this group"));
    }
    tx.commit().await?;
    crate::sessions::apply_policies(&state, crate::sessions::admin(&auth)).await;
    Ok(StatusCode::NO_CONTENT)
}
