//! Accepting a signalling WebSocket (agents, broker targets, controllers):
//! the size limits, the shutdown's socket tracker, and the log line when
//! the socket's task ends with an error.

use crate::state::AppState;
use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::Response;
use std::future::Future;
use tether_shared::signal::MAX_SIGNAL_MESSAGE_BYTES;

/// Upgrades to a WebSocket served by `serve`, tracked in
/// `AppState::sockets` until it ends; `peer` names the other end in the log.
pub fn accept<F, Fut>(state: &AppState, upgrade: WebSocketUpgrade, peer: String, serve: F) -> Response
where
    F: FnOnce(WebSocket) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let tracked = state.sockets.token();
    upgrade.max_message_size(MAX_SIGNAL_MESSAGE_BYTES).max_frame_size(MAX_SIGNAL_MESSAGE_BYTES).on_upgrade(
        move |socket| async move {
            if let Err(err) = serve(socket).await {
                tracing::info!(%peer, error = format!("{err:#}"), "connection ended");
            }
            drop(tracked);
        },
    )
}
