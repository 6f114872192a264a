//! Session signalling over real sockets: a technician opens a session with
//! an online agent, and offer, answer and candidates pass between the two
//! ends and nowhere else; either end leaving ends the session, audited.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, agent_info, enroll, enrollment_token, on_each_backend};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn send(socket: &mut Socket, value: Value) {
    socket.send(Message::text(value.to_string())).await.unwrap();
}

/// The next text message, within a deadline.
async fn next(socket: &mut Socket) -> Value {
    let message = tokio::time::timeout(Duration::from_secs(10), socket.next()).await.expect("a message in time");
    let message = message.expect("socket open").expect("no socket error");
    serde_json::from_str(message.to_text().unwrap()).unwrap()
}

async fn connect_agent(address: SocketAddr, credential: &str) -> Socket {
    let mut request = format!("ws://{address}/api/agent/ws").into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {credential}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    send(&mut socket, json!({ "type": "hello", "info": agent_info("pc-1") })).await;
    assert_eq!(next(&mut socket).await["type"], "welcome");
    socket
}

async fn connect_controller(address: SocketAddr, session_id: &str, token: &str) -> (Socket, Value) {
    let url = format!("ws://{address}/api/sessions/{session_id}/signal");
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    send(&mut socket, json!({ "type": "auth", "token": token })).await;
    let first = next(&mut socket).await;
    (socket, first)
}

struct Setup {
    technician: String,
    other_technician: String,
    agent_id: String,
    agent: Socket,
    address: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn setup(app: &TestApp) -> Setup {
    let admin = app.admin_token().await;
    let technician = app.user_token(&admin, "tech", "technician").await;
    let other_technician = app.user_token(&admin, "tech2", "technician").await;
    let token = enrollment_token(app, &admin, 1).await;
    let enrolled = enroll(app, &token, "pc-1").await;
    let credential = enrolled.body["credential"].as_str().unwrap().to_owned();
    let agent_id = enrolled.body["agent_id"].as_str().unwrap().to_owned();
    let (address, stop) = common::serve(app).await;
    let agent = connect_agent(address, &credential).await;
    Setup { technician, other_technician, agent_id, agent, address, _stop: stop }
}

async fn open_session(app: &TestApp, s: &mut Setup) -> String {
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

#[tokio::test]
async fn offer_answer_and_candidates_pass_between_the_two_ends_only() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = open_session(&app, &mut s).await;

        let (mut intruder, refused) = connect_controller(s.address, &session_id, &s.other_technician).await;
        assert_eq!(refused["type"], "ended", "{refused}");
        drop(intruder.close(None).await);
        let (_, bad_token) = connect_controller(s.address, &session_id, "not-a-token").await;
        assert_eq!(bad_token["type"], "error");

        let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
        assert_eq!((ready["type"].as_str(), ready["session_id"].as_str()), (Some("ready"), Some(session_id.as_str())));

        send(&mut controller, json!({ "type": "signal", "signal": { "kind": "offer", "sdp": "v=0 offer" } })).await;
        let offer = next(&mut s.agent).await;
        assert_eq!(offer, json!({ "type": "signal", "session_id": session_id, "signal": { "kind": "offer", "sdp": "v=0 offer" } }));

        // A signal for another session goes nowhere.
        send(&mut s.agent, json!({ "type": "signal", "session_id": "someone-else", "signal": { "kind": "answer", "sdp": "x" } })).await;
        send(&mut s.agent, json!({ "type": "signal", "session_id": session_id, "signal": { "kind": "answer", "sdp": "v=0 answer" } })).await;
        assert_eq!(next(&mut controller).await, json!({ "type": "signal", "signal": { "kind": "answer", "sdp": "v=0 answer" } }));

        let candidate = json!({ "kind": "candidate", "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host", "sdp_mid": "0", "sdp_mline_index": 0 });
        send(&mut controller, json!({ "type": "signal", "signal": candidate })).await;
        assert_eq!(next(&mut s.agent).await["signal"], candidate);

        send(&mut controller, json!({ "type": "signal", "signal": { "kind": "offer" } })).await;
        assert_eq!(next(&mut controller).await["type"], "error", "malformed signals are refused, the session stays");

        send(&mut controller, json!({ "type": "signal", "signal": { "kind": "bye", "reason": "done" } })).await;
        let bye = next(&mut s.agent).await;
        assert_eq!((bye["signal"]["kind"].as_str(), bye["session_id"].as_str()), (Some("bye"), Some(session_id.as_str())));
        let actions = app.audit_actions().await;
        assert!(actions.ends_with(&["session.request".to_owned(), "session.end".to_owned()]), "{actions:?}");
    })
    .await;
}

#[tokio::test]
async fn the_agent_leaving_ends_the_session_for_the_controller() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = open_session(&app, &mut s).await;
        let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
        assert_eq!(ready["type"], "ready");
        s.agent.close(None).await.unwrap();
        let ended = next(&mut controller).await;
        assert_eq!(
            (ended["type"].as_str(), ended["reason"].as_str()),
            (Some("ended"), Some("the target disconnected"))
        );
        let offline = app
            .call(Method::POST, "/api/sessions", Some(&s.technician), Some(json!({ "target_id": s.agent_id })))
            .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut offline = offline;
        while offline.status == StatusCode::CREATED && tokio::time::Instant::now() < deadline {
            offline = app
                .call(Method::POST, "/api/sessions", Some(&s.technician), Some(json!({ "target_id": s.agent_id })))
                .await;
        }
        assert_eq!((offline.status, offline.error()), (StatusCode::CONFLICT, "target_offline"));
    })
    .await;
}
