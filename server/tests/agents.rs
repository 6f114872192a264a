//! Agent enrollment and presence over a real socket: an admin issues a
//! token, an agent enrolls with it, connects its WebSocket, and shows as
//! online to technicians until it disconnects.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, agent_info, enroll, enrollment_token, on_each_backend};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tether_shared::signal::PROTOCOL_VERSION;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test]
async fn tokens_enroll_agents_only_while_valid() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let token = enrollment_token(&app, &admin, 2).await;
        assert!(token.starts_with("tet_"));
        let first = enroll(&app, &token, "pc-1").await;
        assert_eq!(first.status, StatusCode::CREATED);
        assert!(first.body["credential"].as_str().unwrap().starts_with("tac_"));
        assert_eq!(enroll(&app, &token, "pc-2").await.status, StatusCode::CREATED);
        let used_up = enroll(&app, &token, "pc-3").await;
        assert_eq!((used_up.status, used_up.error()), (StatusCode::UNAUTHORIZED, "invalid_enrollment_token"));
        assert_eq!(enroll(&app, "tet_guess", "pc-4").await.status, StatusCode::UNAUTHORIZED);

        let revocable = enrollment_token(&app, &admin, 5).await;
        let list = app.call(Method::GET, "/api/enrollment-tokens", Some(&admin), None).await;
        let id = list.body[0]["id"].as_str().unwrap().to_owned();
        assert_eq!(list.body[1]["uses"], json!(2));
        let revoke = app.call(Method::DELETE, &format!("/api/enrollment-tokens/{id}"), Some(&admin), None).await;
        assert_eq!(revoke.status, StatusCode::NO_CONTENT);
        assert_eq!(enroll(&app, &revocable, "pc-5").await.status, StatusCode::UNAUTHORIZED);

        let mut hostile = agent_info("x");
        hostile["hostname"] = json!("\u{1b}[2J".repeat(50));
        let reply = app
            .call(Method::POST, "/api/agent/enroll", None, Some(json!({ "token": revocable, "info": hostile })))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        let actions = app.audit_actions().await;
        assert_eq!(actions.iter().filter(|a| *a == "agent.enroll").count(), 2);
        assert!(actions.contains(&"enrollment.token_revoke".to_owned()));
    })
    .await;
}

#[tokio::test]
async fn only_admins_issue_tokens_and_only_technicians_list_targets() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let technician = app.user_token(&admin, "tech", "technician").await;
        let reply = app
            .call(
                Method::POST,
                "/api/enrollment-tokens",
                Some(&technician),
                Some(json!({ "label": "x", "ttl_minutes": 5, "max_uses": 1 })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(app.call(Method::GET, "/api/targets", Some(&admin), None).await.status, StatusCode::FORBIDDEN);
        let bad = app
            .call(
                Method::POST,
                "/api/enrollment-tokens",
                Some(&admin),
                Some(json!({ "label": "x", "ttl_minutes": 0, "max_uses": 1 })),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    })
    .await;
}

async fn wait_for_online(app: &TestApp, token: &str, want: bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let targets = app.call(Method::GET, "/api/targets", Some(token), None).await;
        if targets.body[0]["online"] == json!(want) {
            return targets.body;
        }
        assert!(tokio::time::Instant::now() < deadline, "target never became online={want}: {:?}", targets.body);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_connected_agent_shows_online_until_it_leaves() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let technician = app.user_token(&admin, "tech", "technician").await;
        let token = enrollment_token(&app, &admin, 1).await;
        let credential = enroll(&app, &token, "pc-1").await.body["credential"].as_str().unwrap().to_owned();

        let (address, stop) = common::serve(&app).await;

        let url = format!("ws://{address}/api/agent/ws");
        let refused = tokio_tungstenite::connect_async(url.as_str()).await;
        assert!(refused.is_err(), "no credential, no socket");
        let mut request = url.as_str().into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {credential}").parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();

        let mut info = agent_info("pc-1-renamed");
        info["displays"][0]["width"] = json!(1920);
        socket
            .send(Message::text(json!({ "type": "hello", "info": info, "protocol": PROTOCOL_VERSION }).to_string()))
            .await
            .unwrap();
        let welcome = socket.next().await.unwrap().unwrap();
        assert!(welcome.to_text().unwrap().contains("\"welcome\""), "{welcome:?}");

        let targets = wait_for_online(&app, &technician, true).await;
        assert_eq!(targets[0]["info"]["hostname"], json!("pc-1-renamed"));
        assert_eq!(targets[0]["info"]["displays"][0]["width"], json!(1920));

        socket.send(Message::text("{not json")).await.unwrap();
        let error = socket.next().await.unwrap().unwrap();
        assert!(error.to_text().unwrap().contains("\"error\""), "{error:?}");
        wait_for_online(&app, &technician, true).await;

        socket.close(None).await.unwrap();
        let targets = wait_for_online(&app, &technician, false).await;
        assert!(targets[0]["last_seen_at"].as_i64().is_some());
        stop.send(()).unwrap();
    })
    .await;
}
