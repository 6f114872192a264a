//! `/api/broker-sessions` (technicians): create a connection code, read
//! it, Request New, Extend, Cancel. Only the owner sees or acts on one.

use crate::auth::AuthUser;
use crate::broker_sessions::technician::{self, Action, Owner};
use crate::error::{HttpError, HttpResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use tether_shared::Role;
use tether_shared::broker::{BrokerSessionView, CreateBrokerSessionRequest};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/broker-sessions", post(create))
        .route("/api/broker-sessions/{id}", get(read))
        .route("/api/broker-sessions/{id}/renew", post(renew))
        .route("/api/broker-sessions/{id}/extend", post(extend))
        .route("/api/broker-sessions/{id}/cancel", post(cancel))
}

/// The acting technician, after the role check.
fn owner(state: &AppState, auth: &AuthUser, headers: &HeaderMap) -> HttpResult<Owner> {
    auth.require(Role::can_open_sessions, "use connection codes")?;
    let user = &auth.0.user;
    Ok(Owner {
        id: user.id.clone(),
        username: user.username.clone(),
        source: auth.0.source.label(),
        base_url: base_url(state, headers),
    })
}

/// `scheme://host` as the technician reached the server, for the code's
/// link; `None` if the `Host` header is missing or odd.
fn base_url(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plausible = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    let scheme = if state.secure_cookies { "https" } else { "http" };
    plausible.then(|| format!("{scheme}://{host}"))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResult<(StatusCode, Json<BrokerSessionView>)> {
    // The body is optional (`{}` or nothing); what there is must be valid.
    if !body.iter().all(u8::is_ascii_whitespace) {
        let CreateBrokerSessionRequest {} =
            serde_json::from_slice(&body).map_err(|err| HttpError::bad_request(format!("malformed request: {err}")))?;
    }
    let owner = owner(&state, &auth, &headers)?;
    Ok((StatusCode::CREATED, Json(technician::create(&state, &owner).await?)))
}

async fn read(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> HttpResult<Json<BrokerSessionView>> {
    let owner = owner(&state, &auth, &headers)?;
    Ok(Json(technician::read(&state, &id, &owner).await?))
}

async fn act(
    state: AppState,
    auth: AuthUser,
    headers: HeaderMap,
    id: String,
    action: Action,
) -> HttpResult<Json<BrokerSessionView>> {
    let owner = owner(&state, &auth, &headers)?;
    Ok(Json(technician::act(&state, &id, &owner, action).await?))
}

async fn renew(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> HttpResult<Json<BrokerSessionView>> {
    act(state, auth, headers, id, Action::RequestNew).await
}

async fn extend(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> HttpResult<Json<BrokerSessionView>> {
    act(state, auth, headers, id, Action::Extend).await
}

async fn cancel(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> HttpResult<Json<BrokerSessionView>> {
    act(state, auth, headers, id, Action::Cancel).await
}
