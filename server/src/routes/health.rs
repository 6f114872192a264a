//! `GET /healthz`: the process is up and the database answers.

use crate::error::HttpResult;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use tether_shared::api::Health;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(health))
}

async fn health(State(state): State<AppState>) -> HttpResult<Json<Health>> {
    sqlx::query("SELECT 1").execute(state.store.pool()).await?;
    Ok(Json(Health { status: "ok".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() }))
}
