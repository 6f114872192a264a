//! Policies given to pairs of groups, and the default, through the API:
//! created, replaced and removed (audited); the effective-policy preview
//! merges every matching pair to the most restrictive, and falls back to
//! the default only where no pair matches; old stored session policies
//! still read; bad input changes nothing.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::groups::{add_member, assign, create_group, effective, policy_allowing, user_id};
use common::{enroll, enrollment_token, on_each_backend};
use serde_json::json;

#[tokio::test]
async fn the_preview_merges_every_matching_pair_most_restrictively() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let auditor = app.user_token(&admin, "auditor", "auditor").await;
        app.user_token(&admin, "tech", "technician").await;
        let tech = user_id(&app, &admin, "tech").await;
        let token = enrollment_token(&app, &admin, 2).await;
        let paired = enroll(&app, &token, "pc-1").await.body["agent_id"].as_str().unwrap().to_owned();
        let unpaired = enroll(&app, &token, "pc-2").await.body["agent_id"].as_str().unwrap().to_owned();
        let helpdesk = create_group(&app, &admin, "technician", "Helpdesk").await;
        let seniors = create_group(&app, &admin, "technician", "Seniors").await;
        let lab = create_group(&app, &admin, "target", "Lab").await;
        add_member(&app, &admin, "technician", &helpdesk, &tech).await;
        add_member(&app, &admin, "technician", &seniors, &tech).await;
        add_member(&app, &admin, "target", &lab, &paired).await;
        let first = json!({ "session": { "acceptance_timeout_secs": 60 }, "access": { "allowed_modes": ["active", "monitor"], "unattended": true } });
        let second = json!({ "session": { "acceptance_timeout_secs": 20 }, "access": { "allowed_modes": ["monitor", "chat"], "unattended": true } });
        let first_id = assign(&app, &admin, &helpdesk, &lab, first).await;
        let second_id = assign(&app, &admin, &seniors, &lab, second).await;

        let merged = effective(&app, &auditor, &tech, &paired).await;
        assert_eq!(merged["policy"]["access"]["allowed_modes"], json!(["monitor"]));
        assert_eq!(merged["policy"]["access"]["unattended"], true);
        assert_eq!(merged["policy"]["session"]["acceptance_timeout_secs"], 20);
        let mut from: Vec<&str> =
            merged["from_assignments"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        from.sort_unstable();
        let mut expected = vec![first_id.as_str(), second_id.as_str()];
        expected.sort_unstable();
        assert_eq!((from, &merged["from_default"], &merged["reachable"]), (expected, &json!(false), &json!(true)));

        let default = effective(&app, &admin, &tech, &unpaired).await;
        assert_eq!((&default["from_default"], &default["reachable"]), (&json!(true), &json!(true)));
        assert_eq!(default["policy"]["access"]["allowed_modes"].as_array().unwrap().len(), 5);

        // Narrowing one pair to nothing leaves the technician no mode there.
        let reply = app
            .call(Method::PUT, &format!("/api/policy-assignments/{second_id}"), Some(&admin), Some(policy_allowing(&["chat"])))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let none = effective(&app, &admin, &tech, &paired).await;
        assert_eq!((&none["policy"]["access"]["allowed_modes"], &none["reachable"]), (&json!([]), &json!(false)));

        let reply = app.call(Method::DELETE, &format!("/api/policy-assignments/{second_id}"), Some(&admin), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        let one = effective(&app, &admin, &tech, &paired).await;
        assert_eq!(one["policy"]["access"]["allowed_modes"], json!(["active", "monitor"]));

        let unknown = effective(&app, &admin, "nobody", &paired).await;
        assert_eq!(unknown, json!({ "policy": null, "from_assignments": [], "from_default": false, "reachable": false }));
        let actions = app.audit_actions().await;
        let policy_actions: Vec<&str> =
            actions.iter().map(String::as_str).filter(|a| a.starts_with("policy.")).collect();
        assert_eq!(policy_actions, ["policy.assign", "policy.assign", "policy.assignment_update", "policy.unassign"]);
    })
    .await;
}

#[tokio::test]
async fn the_default_policy_is_a_whole_policy_and_old_rows_still_read() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let admin_id = user_id(&app, &admin, "admin").await;
        // As a server before groups stored it: the session part alone.
        sqlx::query("INSERT INTO policies (kind, body, updated_by, updated_at) VALUES ('session', $1, $2, 1)")
            .bind(r#"{"code_lifetime_secs":600}"#)
            .bind(&admin_id)
            .execute(app.store.pool())
            .await
            .unwrap();
        let read = app.call(Method::GET, "/api/policies/default", Some(&admin), None).await;
        assert_eq!(read.body["session"]["code_lifetime_secs"], 600);
        assert_eq!(read.body["access"]["allowed_modes"].as_array().unwrap().len(), 5);

        let whole = json!({ "session": { "code_lifetime_secs": 300 }, "access": { "allowed_modes": ["monitor"], "recording": true, "idle_timeout_secs": 600 } });
        let saved = app.call(Method::PUT, "/api/policies/default", Some(&admin), Some(whole)).await;
        assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
        // The old session endpoint changes the session part and keeps the rest.
        let session = app
            .call(Method::PUT, "/api/policies/session", Some(&admin), Some(json!({ "code_lifetime_secs": 120 })))
            .await;
        assert_eq!(session.status, StatusCode::OK, "{:?}", session.body);
        let read = app.call(Method::GET, "/api/policies/default", Some(&admin), None).await;
        assert_eq!(read.body["session"]["code_lifetime_secs"], 120);
        assert_eq!(read.body["access"]["allowed_modes"], json!(["monitor"]));
        assert_eq!((&read.body["access"]["recording"], &read.body["access"]["idle_timeout_secs"]), (&json!(true), &json!(600)));
        let tech = app.user_token(&admin, "tech", "technician").await;
        assert_eq!(app.call(Method::GET, "/api/policies/default", Some(&tech), None).await.status, StatusCode::FORBIDDEN);
        let put = app.call(Method::PUT, "/api/policies/default", Some(&tech), Some(json!({}))).await;
        assert_eq!(put.status, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn bad_assignments_are_refused_and_change_nothing() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let helpdesk = create_group(&app, &admin, "technician", "Helpdesk").await;
        let lab = create_group(&app, &admin, "target", "Lab").await;
        let id = assign(&app, &admin, &helpdesk, &lab, policy_allowing(&["monitor"])).await;
        let before = app.audit_len().await;
        let pair =
            |policy: serde_json::Value| json!({ "technician_group": helpdesk, "target_group": lab, "policy": policy });
        let refusals = [
            (
                Method::POST,
                "/api/policy-assignments".to_owned(),
                pair(json!({})),
                StatusCode::CONFLICT,
                "assignment_exists",
            ),
            (
                Method::POST,
                "/api/policy-assignments".to_owned(),
                json!({ "technician_group": lab, "target_group": lab, "policy": {} }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                Method::POST,
                "/api/policy-assignments".to_owned(),
                pair(json!({ "access": { "idle_timeout_secs": 5 } })),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                Method::POST,
                "/api/policy-assignments".to_owned(),
                pair(json!({ "access": { "allowed_modes": ["teleport"] } })),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                Method::POST,
                "/api/policy-assignments".to_owned(),
                pair(json!({ "access": { "allowed_modes": ["chat", "chat"] } })),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                Method::PUT,
                format!("/api/policy-assignments/{id}"),
                json!({ "session": { "max_wrong_guesses": 0 } }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (Method::PUT, "/api/policy-assignments/nope".to_owned(), json!({}), StatusCode::NOT_FOUND, "not_found"),
            (
                Method::PUT,
                "/api/policies/default".to_owned(),
                json!({ "access": { "unlock": true } }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
        ];
        for (method, path, body, status, code) in refusals {
            let reply = app.call(method.clone(), &path, Some(&admin), Some(body.clone())).await;
            assert_eq!((reply.status, reply.error()), (status, code), "{method} {path} {body}: {:?}", reply.body);
        }
        let reply = app.call(Method::DELETE, "/api/policy-assignments/nope", Some(&admin), None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        let reply = app.call(Method::GET, "/api/policies/effective?technician=x", Some(&admin), None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        assert_eq!(app.audit_len().await, before);
        let listed = app.call(Method::GET, "/api/policy-assignments", Some(&admin), None).await;
        assert_eq!(listed.body[0]["policy"]["access"]["allowed_modes"], json!(["monitor"]));
    })
    .await;
}
