//! Groups, memberships and policy assignments made through the API, for
//! the tests of who may reach which computer.

#![allow(dead_code, clippy::unwrap_used)]

use super::TestApp;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

/// The API path of a kind of group: `technician` or `target`.
pub fn groups_path(kind: &str) -> String {
    format!("/api/{kind}-groups")
}

/// Creates a group of `kind` named `name`; its id.
pub async fn create_group(app: &TestApp, admin: &str, kind: &str, name: &str) -> String {
    let reply = app.call(Method::POST, &groups_path(kind), Some(admin), Some(json!({ "name": name }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// Puts `member` in group `group` of `kind`.
pub async fn add_member(app: &TestApp, admin: &str, kind: &str, group: &str, member: &str) {
    let path = format!("{}/{group}/members/{member}", groups_path(kind));
    let reply = app.call(Method::PUT, &path, Some(admin), None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
}

/// A policy (as JSON) allowing exactly `modes`, otherwise the defaults.
pub fn policy_allowing(modes: &[&str]) -> Value {
    json!({ "access": { "allowed_modes": modes } })
}

/// Gives `policy` to the pair; the assignment's id.
pub async fn assign(app: &TestApp, admin: &str, technician_group: &str, target_group: &str, policy: Value) -> String {
    let body = json!({ "technician_group": technician_group, "target_group": target_group, "policy": policy });
    let reply = app.call(Method::POST, "/api/policy-assignments", Some(admin), Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body["id"].as_str().unwrap().to_owned()
}

/// Makes the default policy allow no mode: technicians reach only what an
/// assignment gives them.
pub async fn default_allows_nothing(app: &TestApp, admin: &str) {
    let reply = app.call(Method::PUT, "/api/policies/default", Some(admin), Some(policy_allowing(&[]))).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
}

/// The id of account `username`.
pub async fn user_id(app: &TestApp, admin: &str, username: &str) -> String {
    let users = app.call(Method::GET, "/api/users", Some(admin), None).await;
    let users = users.body.as_array().unwrap().clone();
    users.iter().find(|user| user["username"] == username).unwrap()["id"].as_str().unwrap().to_owned()
}

/// The effective policy preview for a technician and a computer.
pub async fn effective(app: &TestApp, token: &str, technician: &str, target: &str) -> Value {
    let path = format!("/api/policies/effective?technician={technician}&target={target}");
    let reply = app.call(Method::GET, &path, Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}
