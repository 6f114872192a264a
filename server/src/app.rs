//! The whole HTTP application: [`router`] builds it (tests call it with
//! `oneshot`, no socket), [`serve`] runs it until shutdown.

use crate::error::HttpError;
use crate::extract::MAX_BODY_BYTES;
use crate::routes;
use crate::state::AppState;
use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use tokio::net::TcpListener;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// The API alone, without the web app's files.
pub fn api(state: AppState) -> Router {
    Router::new()
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::audit::router())
        .merge(routes::enrollment::router())
        .merge(routes::agents::router())
        .merge(routes::sessions::router())
        .merge(routes::live_sessions::router())
        .merge(routes::brokers::router())
        .merge(routes::policies::router())
        .merge(routes::policy_assignments::router())
        .merge(routes::groups::router())
        .merge(routes::computers::router())
        .merge(routes::broker_sessions::router())
        .merge(routes::grant_key::router())
        .merge(routes::broker::router(state.clone()))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .with_state(state)
}

/// The API plus the built web app from `web_dir`; unknown non-API paths get
/// `index.html` so the app's own routes load.
pub fn router(state: AppState, web_dir: &Path) -> Router {
    let web = ServeDir::new(web_dir).fallback(ServeFile::new(web_dir.join("index.html")));
    Router::new()
        .merge(api(state))
        .fallback_service(web)
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(TraceLayer::new_for_http())
}

async fn api_not_found() -> HttpError {
    HttpError::not_found("no such API endpoint")
}

/// Serves `app` on `listener` until `shutdown` completes, then lets
/// in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Starts the embedded TURN relay unless `--embedded-turn off`; returns it
/// with the relay address it advertises. Stop it after serving.
pub async fn start_embedded_relay(
    turn: &crate::config::TurnConfig,
    secret: &crate::broker::TurnSecret,
) -> anyhow::Result<Option<(crate::broker::EmbeddedRelay, std::net::IpAddr)>> {
    let Some(config) = turn.embedded(secret)? else {
        return Ok(None);
    };
    let relay_ip = config.relay_ip;
    let listen = config.listen;
    let relay = crate::broker::EmbeddedRelay::start(config).await.with_context(|| {
        format!(
            "cannot start the embedded TURN relay on UDP {listen} (is a coturn or another Tether already there?): \
             choose another address with --embedded-turn, or --embedded-turn off"
        )
    })?;
    Ok(Some((relay, relay_ip)))
}

/// Completes once `signal` has, after every live session has ended with
/// "the server is shutting down", both ends told and each end recorded.
pub async fn end_sessions_on_shutdown(state: AppState, signal: impl Future<Output = ()>) {
    signal.await;
    let ended = crate::sessions::end_all_for_shutdown(&state).await;
    if ended > 0 {
        tracing::info!(sessions = ended, "ended the live sessions before shutting down");
    }
    // Closing the agents' outboxes lets each socket send what is queued
    // (the sessions' byes), then close; controllers' outboxes closed with
    // their routes.
    state.hub.close_all();
    state.sockets.close();
    if tokio::time::timeout(SOCKET_DRAIN_TIMEOUT, state.sockets.wait()).await.is_err() {
        tracing::warn!("some sockets did not close in time");
    }
}

/// How long a shutdown waits for sockets to send their last messages.
const SOCKET_DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
