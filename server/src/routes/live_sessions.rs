//! Sessions seen from outside their two ends: `GET /api/sessions` lists a
//! technician's own sessions, or every session for administrators and
//! auditors (`?live=true` for the live ones, with how each is connected);
//! `POST /api/sessions/{id}/end` lets an administrator end any live
//! session and a technician their own, both ends told who ended it.

use crate::auth::AuthUser;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiQuery;
use crate::sessions::{self, table::Listed};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use tether_shared::Role;
use tether_shared::api::{SessionListQuery, SessionSummary};
use tether_shared::session_lifecycle::Party;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/sessions", get(list)).route("/api/sessions/{id}/end", post(end))
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<SessionListQuery>,
) -> HttpResult<Json<Vec<SessionSummary>>> {
    let listed = match auth.0.role {
        Role::Admin | Role::Auditor => Listed::All,
        Role::Technician => Listed::OfTechnician(&auth.0.user.id),
    };
    let mut summaries = sessions::table::list(&state.store, listed, query.live).await?;
    let live = state.relay.live();
    for summary in &mut summaries {
        if let Some(route) = live.iter().find(|route| route.session_id == summary.id) {
            summary.controller_attached = route.controller_attached;
            summary.broker = state.brokers.address_for(&summary.id);
        }
    }
    Ok(Json(summaries))
}

async fn end(State(state): State<AppState>, auth: AuthUser, Path(id): Path<String>) -> HttpResult<StatusCode> {
    let user = &auth.0.user;
    let by = Party::Account { id: user.id.clone(), name: user.username.clone() };
    let reason = match auth.0.role {
        Role::Admin => format!("ended by administrator {}", user.username),
        Role::Technician if state.relay.sessions_of_technician(&user.id).contains(&id) => {
            format!("ended by the technician {}", user.username)
        }
        Role::Technician => return Err(not_live()),
        Role::Auditor => return Err(HttpError::forbidden("auditors read sessions; they do not end them")),
    };
    if !sessions::revoke(&state, &id, by, reason).await {
        return Err(not_live());
    }
    Ok(StatusCode::NO_CONTENT)
}

fn not_live() -> HttpError {
    HttpError::not_found("no such live session")
}
