//! WebSocket helpers for the signalling tests: an agent and controllers on
//! real sockets, and waiting for a message or a condition with a deadline.

#![allow(dead_code, clippy::unwrap_used)]

use super::{TestApp, agent_info, enroll, enrollment_token};
use axum::http::{Method, StatusCode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tether_shared::signal::PROTOCOL_VERSION;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any one wait in these tests may take.
pub const DEADLINE: Duration = Duration::from_secs(10);

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

/// The next text message, within a deadline.
pub async fn next(socket: &mut Socket) -> Value {
    let message = tokio::time::timeout(DEADLINE, socket.next()).await.expect("a message in time");
    let message = message.expect("socket open").expect("no socket error");
    serde_json::from_str(message.to_text().unwrap()).unwrap()
}

/// An agent socket before its hello.
pub async fn open_agent_socket(address: SocketAddr, credential: &str) -> Socket {
    let mut request = format!("ws://{address}/api/agent/ws").into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {credential}").parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// Whether the server closes `socket` within [`DEADLINE`] (it sends nothing more).
pub async fn closes(socket: &mut Socket) -> bool {
    match tokio::time::timeout(DEADLINE, socket.next()).await {
        Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => true,
        Ok(Some(Ok(_))) | Err(_) => false,
    }
}

pub async fn connect_agent(address: SocketAddr, credential: &str) -> Socket {
    let mut socket = open_agent_socket(address, credential).await;
    send(&mut socket, json!({ "type": "hello", "info": agent_info("pc-1"), "protocol": PROTOCOL_VERSION })).await;
    assert_eq!(next(&mut socket).await["type"], "welcome");
    socket
}

pub async fn connect_controller(address: SocketAddr, session_id: &str, token: &str) -> (Socket, Value) {
    let url = format!("ws://{address}/api/sessions/{session_id}/signal");
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    send(&mut socket, json!({ "type": "auth", "token": token, "protocol": PROTOCOL_VERSION })).await;
    let first = next(&mut socket).await;
    (socket, first)
}

pub struct Setup {
    pub technician: String,
    pub other_technician: String,
    pub agent_id: String,
    pub credential: String,
    pub agent: Socket,
    pub address: SocketAddr,
    pub _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn setup(app: &TestApp) -> Setup {
    let admin = app.admin_token().await;
    let technician = app.user_token(&admin, "tech", "technician").await;
    let other_technician = app.user_token(&admin, "tech2", "technician").await;
    let token = enrollment_token(app, &admin, 1).await;
    let enrolled = enroll(app, &token, "pc-1").await;
    let credential = enrolled.body["credential"].as_str().unwrap().to_owned();
    let agent_id = enrolled.body["agent_id"].as_str().unwrap().to_owned();
    let (address, stop) = super::serve(app).await;
    let agent = connect_agent(address, &credential).await;
    Setup { technician, other_technician, agent_id, credential, agent, address, _stop: stop }
}

pub async fn open_session(app: &TestApp, s: &mut Setup) -> String {
    let reply =
        app.call(Method::POST, "/api/sessions", Some(&s.technician), Some(json!({ "target_id": s.agent_id }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let session_id = reply.body["id"].as_str().unwrap().to_owned();
    let request = next(&mut s.agent).await;
    assert_eq!(
        (request["type"].as_str(), request["session_id"].as_str()),
        (Some("session_request"), Some(session_id.as_str()))
    );
    assert_eq!(request["technician"], "tech");
    session_id
}

/// Polls `check` until it yields a value, failing after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: not within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The session's row: state and end reason.
pub async fn session_row(app: &TestApp, session_id: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, end_reason FROM sessions WHERE id = $1")
        .bind(session_id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// Waits until the session has ended and returns its end reason.
pub async fn ended_reason(app: &TestApp, session_id: &str) -> String {
    eventually("the session ends", || async {
        match session_row(app, session_id).await {
            (state, reason) if state == "ended" => reason,
            _ => None,
        }
    })
    .await
}

/// The offer relayed to a target, after the grant the server sends before
/// every offer (for the same session, naming the offering controller).
pub async fn offer_after_grant(target: &mut Socket) -> Value {
    let grant = next(target).await;
    assert_eq!(grant["type"], "grant", "a grant comes before each offer: {grant}");
    let offer = next(target).await;
    assert_eq!(grant["session_id"], offer["session_id"], "{grant} / {offer}");
    offer
}
