//! Login is rate-limited per account and per source address, with 429 and
//! `Retry-After`, and throttling one account leaves others alone.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode, header};
use common::{TestApp, backends, json_request};
use serde_json::json;
use std::net::SocketAddr;
use tether_server::auth::rate_limit::LoginLimits;

fn login_request(username: &str, password: &str) -> axum::http::Request<axum::body::Body> {
    json_request(Method::POST, "/api/auth/login", None, Some(json!({ "username": username, "password": password })))
}

#[tokio::test]
async fn one_account_is_throttled_across_addresses() {
    for backend in backends().await {
        let app = TestApp::start(&backend, LoginLimits::default()).await;
        for i in 0..5_u8 {
            let reply =
                app.send_from(SocketAddr::from(([10, 0, 0, i], 1)), login_request("admin", "wrong password!")).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        }
        let reply = app
            .send_from(SocketAddr::from(([10, 0, 0, 99], 1)), login_request("admin", &app.first_admin_password))
            .await;
        assert_eq!((reply.status, reply.error()), (StatusCode::TOO_MANY_REQUESTS, "rate_limited"));
        let retry_after: u64 = reply.headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!((1..=12).contains(&retry_after));
        let before = app.audit_len().await;
        app.send_from(SocketAddr::from(([10, 0, 0, 99], 1)), login_request("admin", "x")).await;
        assert_eq!(app.audit_len().await, before, "throttled attempts are not processed");
    }
}

#[tokio::test]
async fn one_address_is_throttled_across_accounts() {
    for backend in backends().await {
        let app = TestApp::start(&backend, LoginLimits::default()).await;
        let attacker = SocketAddr::from(([192, 0, 2, 7], 4444));
        for i in 0..20 {
            let reply = app.send_from(attacker, login_request(&format!("user{i}"), "some password")).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        }
        let reply = app.send_from(attacker, login_request("admin", &app.first_admin_password)).await;
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        let elsewhere = app
            .send_from(SocketAddr::from(([198, 51, 100, 1], 1)), login_request("admin", &app.first_admin_password))
            .await;
        assert_eq!(elsewhere.status, StatusCode::OK, "the owner still gets in from elsewhere");
    }
}
