//! `GET /api/grant-key`: the public key the server signs session grants
//! with, its id and fingerprint, for `tether-agent configure` to pin (an
//! enrolling agent gets it in the enrollment's answer). Unauthenticated:
//! a public key is public; agents compare its fingerprint out of band.

use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use tether_shared::grant::PublicGrantKey;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/grant-key", get(grant_key))
}

async fn grant_key(State(state): State<AppState>) -> Json<PublicGrantKey> {
    Json(state.grant_key.public())
}
