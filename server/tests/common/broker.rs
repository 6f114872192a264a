//! Broker session helpers shared by the suites that drive connection codes:
//! creating and acting on codes as a technician, redeeming them as a
//! target, the target's session socket, and setting the session policy.

#![allow(dead_code, clippy::unwrap_used)]

use super::ws::Socket;
use super::{Reply, TestApp, agent_info, json_request};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub async fn create(app: &TestApp, token: &str) -> Reply {
    app.call(Method::POST, "/api/broker-sessions", Some(token), Some(json!({}))).await
}

pub async fn act(app: &TestApp, token: &str, id: &str, action: &str) -> Reply {
    app.call(Method::POST, &format!("/api/broker-sessions/{id}/{action}"), Some(token), None).await
}

pub fn redeem_request(code: &str) -> Request<Body> {
    json_request(
        Method::POST,
        "/api/broker/redeem",
        None,
        Some(json!({ "code": code, "target": agent_info("guest-pc") })),
    )
}

pub async fn redeem(app: &TestApp, code: &str) -> Reply {
    app.send(redeem_request(code)).await
}

/// A code that differs from `code` in every digit: never a near miss of it.
pub fn far_from(code: &str) -> String {
    let digits: String = code.chars().filter(char::is_ascii_digit).collect();
    digits.chars().map(|c| if c == '5' { '6' } else { '5' }).collect()
}

/// The accounts broker-session tests act as (access tokens).
pub struct Accounts {
    pub admin: String,
    pub tech: String,
    /// A second technician.
    pub other: String,
    pub auditor: String,
}

pub async fn accounts(app: &TestApp) -> Accounts {
    let admin = app.admin_token().await;
    let tech = app.user_token(&admin, "tech", "technician").await;
    let other = app.user_token(&admin, "tech2", "technician").await;
    let auditor = app.user_token(&admin, "auditor", "auditor").await;
    Accounts { admin, tech, other, auditor }
}

pub async fn connect_target(address: SocketAddr, token: &str) -> Result<Socket, u16> {
    let mut request = format!("ws://{address}/api/broker/ws").into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(err) => panic!("{err}"),
    }
}

/// Redeems a new code of `tech` and returns (broker session id, session id, token).
pub async fn redeemed(app: &TestApp, tech: &str) -> (String, String, String) {
    let created = create(app, tech).await;
    let good = redeem(app, created.body["code"].as_str().unwrap()).await;
    assert_eq!(good.status, StatusCode::OK, "{:?}", good.body);
    let text = |v: &Value| v.as_str().unwrap().to_owned();
    (text(&created.body["id"]), text(&good.body["session_id"]), text(&good.body["session_token"]))
}

/// Saves the session policy (fields not given keep their defaults) as `admin`.
pub async fn set_policy(app: &TestApp, admin: &str, policy: Value) {
    let saved = app.call(Method::PUT, "/api/policies/session", Some(admin), Some(policy)).await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
}
