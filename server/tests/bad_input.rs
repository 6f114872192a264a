//! Bad input gets a clear 4xx with a JSON error body and changes nothing:
//! malformed, oversized and unknown-field bodies, and every kind of bad
//! access token.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{TestApp, on_each_backend};
use jsonwebtoken::{Algorithm, Header};
use serde_json::json;
use tether_server::auth::tokens::{AccessClaims, TokenKeys, now_secs};

fn raw(method: Method, path: &str, token: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder =
        Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body.into()).unwrap()
}

async fn assert_unchanged<F: std::future::Future<Output = ()>>(app: &TestApp, bad_requests: F) {
    let (users, entries) = (app.user_count().await, app.audit_len().await);
    bad_requests.await;
    assert_eq!((app.user_count().await, app.audit_len().await), (users, entries), "bad input changed state");
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_and_change_nothing() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
            (raw(Method::POST, "/api/users", &admin, Some("application/json"), "{\"username\": "), StatusCode::BAD_REQUEST, "bad_request"),
            (raw(Method::POST, "/api/users", &admin, Some("application/json"), "[1,2,3]"), StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            (raw(Method::POST, "/api/users", &admin, Some("text/plain"), "{}"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            (
                raw(
                    Method::POST,
                    "/api/users",
                    &admin,
                    Some("application/json"),
                    json!({ "username": "eve", "display_name": "Eve", "role": "admin", "password": "long enough password", "is_root": true }).to_string(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                raw(
                    Method::POST,
                    "/api/users",
                    &admin,
                    Some("application/json"),
                    json!({ "username": "eve", "display_name": "Eve", "role": "superuser", "password": "long enough password" }).to_string(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                raw(
                    Method::POST,
                    "/api/users",
                    &admin,
                    Some("application/json"),
                    json!({ "username": "../../etc/passwd", "display_name": "Eve", "role": "admin", "password": "long enough password" }).to_string(),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                raw(
                    Method::POST,
                    "/api/users",
                    &admin,
                    Some("application/json"),
                    format!("{{\"username\":\"eve\",\"display_name\":\"{}\"}}", "x".repeat(200_000)),
                ),
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            ),
            (raw(Method::GET, "/api/no-such-thing", &admin, None, Body::empty()), StatusCode::NOT_FOUND, "not_found"),
        ];
        assert_unchanged(&app, async {
            for (request, status, code) in cases {
                let what = format!("{} {}", request.method(), request.uri());
                let reply = app.send(request).await;
                assert_eq!((reply.status, reply.error()), (status, code), "{what}: {:?}", reply.body);
                assert!(reply.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{what} has a message");
            }
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn malformed_query_is_a_bad_request() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let auditor = app.user_token(&admin, "audrey", "auditor").await;
        let reply = app.send(raw(Method::GET, "/api/audit?limit=banana", &auditor, None, Body::empty())).await;
        assert_eq!((reply.status, reply.error()), (StatusCode::BAD_REQUEST, "bad_request"));
        let reply = app.send(raw(Method::GET, "/api/audit?colour=red", &auditor, None, Body::empty())).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

fn b64(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let claims = app.keys.verify(&admin).unwrap();
        let at_header = || {
            let mut header = Header::new(Algorithm::EdDSA);
            header.typ = Some("at+jwt".into());
            header
        };
        let expired = AccessClaims { iat: now_secs() - 7200, exp: now_secs() - 3600, ..claims.clone() };
        let wrong_audience = json!({ "iss": "tether", "aud": "other-api", "sub": claims.sub, "sid": claims.sid, "role": "admin", "iat": now_secs(), "exp": now_secs() + 60, "jti": "x" });
        let wrong_issuer = json!({ "iss": "evil", "aud": "tether-api", "sub": claims.sub, "sid": claims.sid, "role": "admin", "iat": now_secs(), "exp": now_secs() + 60, "jti": "x" });
        let no_expiry = json!({ "iss": "tether", "aud": "tether-api", "sub": claims.sub, "sid": claims.sid, "role": "admin", "jti": "x" });
        let mut plain_jwt = Header::new(Algorithm::EdDSA);
        plain_jwt.typ = Some("JWT".into());
        let (head, _, signature) = {
            let mut parts = admin.split('.');
            (parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned())
        };
        let tampered_payload = b64(&json!({ "iss": "tether", "aud": "tether-api", "sub": claims.sub, "sid": claims.sid, "role": "admin", "iat": now_secs(), "exp": now_secs() + 99999, "jti": "y" }));
        let cases: Vec<(&str, String, &str)> = vec![
            ("garbage", "not.a.jwt".into(), "invalid_token"),
            ("expired", app.keys.sign(&expired).unwrap(), "token_expired"),
            ("forged payload", format!("{head}.{tampered_payload}.{signature}"), "invalid_token"),
            ("alg none", format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "at+jwt" })), b64(&serde_json::to_value(&claims).unwrap())), "invalid_token"),
            ("another key", TokenKeys::ephemeral().unwrap().sign(&claims).unwrap(), "invalid_token"),
            ("wrong audience", app.keys.sign_with_header(&at_header(), &wrong_audience).unwrap(), "invalid_token"),
            ("wrong issuer", app.keys.sign_with_header(&at_header(), &wrong_issuer).unwrap(), "invalid_token"),
            ("no expiry", app.keys.sign_with_header(&at_header(), &no_expiry).unwrap(), "invalid_token"),
            ("wrong typ", app.keys.sign_with_header(&plain_jwt, &claims).unwrap(), "invalid_token"),
            (
                "HS256 with a guessable secret",
                jsonwebtoken::encode(&{ let mut h = Header::new(Algorithm::HS256); h.typ = Some("at+jwt".into()); h }, &claims, &jsonwebtoken::EncodingKey::from_secret(b"tether")).unwrap(),
                "invalid_token",
            ),
        ];
        assert_unchanged(&app, async {
            for (what, token, code) in cases {
                let reply = app
                    .call(Method::POST, "/api/users", Some(&token), Some(json!({ "username": "mallory", "display_name": "M", "role": "admin", "password": "long enough password" })))
                    .await;
                assert_eq!((reply.status, reply.error()), (StatusCode::UNAUTHORIZED, code), "{what}: {:?}", reply.body);
            }
            let missing = app.call(Method::GET, "/api/users", None, None).await;
            assert_eq!((missing.status, missing.error()), (StatusCode::UNAUTHORIZED, "not_authenticated"));
            let basic = app
                .send(Request::builder().uri("/api/users").header(header::AUTHORIZATION, "Basic YWRtaW46YWRtaW4=").body(Body::empty()).unwrap())
                .await;
            assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
        })
        .await;
    })
    .await;
}

#[tokio::test]
async fn socket_credentials_are_refused_with_a_code_that_says_which() {
    on_each_backend(|app| async move {
        let cases = [
            ("/api/agent/ws", None, "not_authenticated"),
            ("/api/agent/ws", Some("Bearer "), "not_authenticated"),
            ("/api/agent/ws", Some("Basic YWRtaW46YWRtaW4="), "not_authenticated"),
            ("/api/agent/ws", Some("Bearer tac_not-a-credential"), "unknown_agent"),
            ("/api/broker/ws", None, "not_authenticated"),
            ("/api/broker/ws", Some("Bearer tbs_not-a-token"), "invalid_session_token"),
        ];
        assert_unchanged(&app, async {
            for (path, authorization, code) in cases {
                let mut request = Request::builder().uri(path);
                if let Some(value) = authorization {
                    request = request.header(header::AUTHORIZATION, value);
                }
                let reply = app.send(request.body(Body::empty()).unwrap()).await;
                assert_eq!((reply.status, reply.error()), (StatusCode::UNAUTHORIZED, code), "{path} {authorization:?}");
            }
        })
        .await;
    })
    .await;
}
