//! `/api/audit`: auditors page through the log and verify its chain.

use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiQuery;
use crate::state::AppState;
use crate::store::now_ms;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tether_shared::Role;
use tether_shared::api::{AuditPage, AuditQuery, ChainStatus};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/audit", get(list)).route("/api/audit/verify", get(verify))
}

async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> HttpResult<Json<AuditPage>> {
    auth.require(Role::can_read_audit, "read the audit log")?;
    audit::check(&query).map_err(|audit::BadFilter(message)| HttpError::bad_request(message))?;
    Ok(Json(audit::list(state.store.pool(), &query).await?))
}

async fn verify(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<ChainStatus>> {
    auth.require(Role::can_read_audit, "verify the audit log")?;
    let status = audit::verify(state.store.pool()).await?;
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(Actor::user(&auth.0.user.id, &auth.0.user.username), "audit.verify")
        .source(auth.0.source.label())
        .details(
            json!({ "ok": status.ok, "entries_checked": status.entries_checked, "first_break": status.first_break }),
        );
    audit::record(&mut tx, &event, now_ms()).await?;
    tx.commit().await?;
    Ok(Json(status))
}
