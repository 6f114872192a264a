//! Sessions seen from outside their two ends: `GET /api/sessions` lists a
//! technician's own sessions, or every session for administrators and
//! auditors (`?live=true` for the live ones, with how each is connected);
//! `POST /api/sessions/{id}/end` lets an administrator end any live
//! session and a technician their own, both ends told who ended it;
//! `GET /api/sessions/{id}/timeline` gives auditors every audit entry of
//! one session, oldest first.

use crate::audit;
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
use tether_shared::api::{SessionListQuery, SessionSummary, SessionTimeline};
use tether_shared::session_lifecycle::Party;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sessions", get(list))
        .route("/api/sessions/{id}/end", post(end))
        .route("/api/sessions/{id}/timeline", get(timeline))
}

/// Fills a live session's connection details (broker, controller) from
/// the relay.
fn add_live_details(state: &AppState, summaries: &mut [SessionSummary]) {
    let live = state.relay.live();
    for summary in summaries {
        if let Some(route) = live.iter().find(|route| route.session_id == summary.id) {
            summary.controller_attached = route.controller_attached;
            summary.broker = state.brokers.address_for(&summary.id);
        }
    }
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<SessionListQuery>,
) -> HttpResult<Json<Vec<SessionSummary>>> {
    let listed = if auth.0.role.can_see_all_sessions() { Listed::All } else { Listed::OfTechnician(&auth.0.user.id) };
    let mut summaries = sessions::table::list(&state.store, listed, query.live).await?;
    add_live_details(&state, &mut summaries);
    Ok(Json(summaries))
}

/// Auditors only: administrators manage sessions but do not read the audit
/// log (separation of duties).
async fn timeline(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> HttpResult<Json<SessionTimeline>> {
    auth.require(Role::can_read_audit, "read a session's timeline")?;
    let Some(session) = sessions::table::get(&state.store, &id).await? else {
        return Err(HttpError::not_found("no such session"));
    };
    let mut session = [session];
    add_live_details(&state, &mut session);
    let [session] = session;
    let (entries, truncated) = audit::of_session(state.store.pool(), &id).await?;
    Ok(Json(SessionTimeline { session, entries, truncated }))
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
