//! Technician and target groups through the API: administrators create,
//! rename, fill and delete them, each change audited; auditors read them;
//! names are unique per kind in any case; bad input is a 4xx that changes
//! nothing.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::groups::{add_member, assign, create_group, groups_path, policy_allowing, user_id};
use common::{enroll, enrollment_token, on_each_backend};
use serde_json::json;

#[tokio::test]
async fn administrators_manage_both_kinds_and_every_change_is_audited() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        app.user_token(&admin, "tech", "technician").await;
        let tech = user_id(&app, &admin, "tech").await;
        let token = enrollment_token(&app, &admin, 1).await;
        let agent = enroll(&app, &token, "pc-1").await.body["agent_id"].as_str().unwrap().to_owned();
        for (kind, member) in [("technician", &tech), ("target", &agent)] {
            let id = create_group(&app, &admin, kind, "Helpdesk").await;
            add_member(&app, &admin, kind, &id, member).await;
            add_member(&app, &admin, kind, &id, member).await; // again: nothing changes
            let renamed = app
                .call(
                    Method::PATCH,
                    &format!("{}/{id}", groups_path(kind)),
                    Some(&admin),
                    Some(json!({ "name": " Front line " })),
                )
                .await;
            assert_eq!(renamed.body, json!({ "id": id, "name": "Front line" }));
            let listed = app.call(Method::GET, &groups_path(kind), Some(&admin), None).await;
            let expected_member = if kind == "technician" { "tech" } else { "pc-1" };
            assert_eq!(
                listed.body,
                json!([{ "id": id, "name": "Front line", "members": [{ "id": member, "name": expected_member }] }])
            );
            let path = format!("{}/{id}/members/{member}", groups_path(kind));
            assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
            assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NOT_FOUND);
            let gone = app.call(Method::DELETE, &format!("{}/{id}", groups_path(kind)), Some(&admin), None).await;
            assert_eq!(gone.status, StatusCode::NO_CONTENT);
            assert_eq!(app.call(Method::GET, &groups_path(kind), Some(&admin), None).await.body, json!([]));
        }
        let actions = app.audit_actions().await;
        let group_actions: Vec<&str> = actions.iter().map(String::as_str).filter(|a| a.starts_with("group.")).collect();
        let one_kind = ["group.create", "group.member_add", "group.rename", "group.member_remove", "group.delete"];
        assert_eq!(group_actions, [one_kind, one_kind].concat());
    })
    .await;
}

#[tokio::test]
async fn deleting_a_group_takes_its_members_and_assignments_with_it() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        app.user_token(&admin, "tech", "technician").await;
        let tech = user_id(&app, &admin, "tech").await;
        let helpdesk = create_group(&app, &admin, "technician", "Helpdesk").await;
        let lab = create_group(&app, &admin, "target", "Lab").await;
        add_member(&app, &admin, "technician", &helpdesk, &tech).await;
        assign(&app, &admin, &helpdesk, &lab, policy_allowing(&["monitor"])).await;
        let reply = app.call(Method::DELETE, &format!("/api/target-groups/{lab}"), Some(&admin), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(app.call(Method::GET, "/api/policy-assignments", Some(&admin), None).await.body, json!([]));
        let reply = app.call(Method::DELETE, &format!("/api/technician-groups/{helpdesk}"), Some(&admin), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
    })
    .await;
}

#[tokio::test]
async fn auditors_read_groups_and_only_administrators_change_them() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let auditor = app.user_token(&admin, "auditor", "auditor").await;
        let tech = app.user_token(&admin, "tech", "technician").await;
        create_group(&app, &admin, "target", "Lab").await;
        let read = app.call(Method::GET, "/api/target-groups", Some(&auditor), None).await;
        assert_eq!((read.status, read.body[0]["name"].as_str()), (StatusCode::OK, Some("Lab")));
        assert_eq!(app.call(Method::GET, "/api/target-groups", Some(&tech), None).await.status, StatusCode::FORBIDDEN);
        for token in [&auditor, &tech] {
            let reply =
                app.call(Method::POST, "/api/target-groups", Some(token), Some(json!({ "name": "Mine" }))).await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN);
        }
        assert_eq!(app.call(Method::GET, "/api/target-groups", None, None).await.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn bad_group_input_is_refused_and_changes_nothing() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let lab = create_group(&app, &admin, "target", "Lab").await;
        let before = app.audit_len().await;
        let refusals = [
            (
                Method::POST,
                "/api/target-groups".to_owned(),
                Some(json!({ "name": "  " })),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                Method::POST,
                "/api/target-groups".to_owned(),
                Some(json!({ "name": "x".repeat(65) })),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                Method::POST,
                "/api/target-groups".to_owned(),
                Some(json!({ "name": "LAB" })),
                StatusCode::CONFLICT,
                "group_name_taken",
            ),
            (
                Method::POST,
                "/api/target-groups".to_owned(),
                Some(json!({ "name": "B", "admin": true })),
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
            ),
            (
                Method::PATCH,
                "/api/target-groups/nope".to_owned(),
                Some(json!({ "name": "B" })),
                StatusCode::NOT_FOUND,
                "not_found",
            ),
            (Method::DELETE, "/api/technician-groups/nope".to_owned(), None, StatusCode::NOT_FOUND, "not_found"),
            (Method::PUT, format!("/api/target-groups/{lab}/members/nope"), None, StatusCode::NOT_FOUND, "not_found"),
            (Method::PUT, "/api/target-groups/nope/members/nope".to_owned(), None, StatusCode::NOT_FOUND, "not_found"),
        ];
        for (method, path, body, status, code) in refusals {
            let reply = app.call(method.clone(), &path, Some(&admin), body.clone()).await;
            assert_eq!((reply.status, reply.error()), (status, code), "{method} {path} {body:?}: {:?}", reply.body);
        }
        // The second group may not take the first one's name either.
        let other = create_group(&app, &admin, "target", "Other").await;
        let before_rename = app.audit_len().await;
        let reply = app
            .call(Method::PATCH, &format!("/api/target-groups/{other}"), Some(&admin), Some(json!({ "name": "lab" })))
            .await;
        assert_eq!((reply.status, reply.error()), (StatusCode::CONFLICT, "group_name_taken"));
        assert_eq!(app.audit_len().await, before_rename);
        assert_eq!(before + 1, before_rename, "only the good create was audited");
        // A technician group may share a target group's name.
        create_group(&app, &admin, "technician", "Lab").await;
    })
    .await;
}
