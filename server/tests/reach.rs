//! Technicians reach only computers a policy allows: with a default that
//! allows no mode, a technician in a pair whose policy allows a mode sees
//! the computer and opens a session; one outside every allowing pair does
//! not see it and is refused 403 `target_not_allowed`, audited. An
//! enrollment token's groups are the ones its computers join.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::groups::{add_member, assign, create_group, default_allows_nothing, policy_allowing, user_id};
use common::ws::{open_session, setup};
use common::{ADMIN_PASSWORD, enroll, on_each_backend};
use serde_json::json;

/// The ids in `GET /api/targets` for `token`.
async fn target_ids(app: &common::TestApp, token: &str) -> Vec<String> {
    let reply = app.call(Method::GET, "/api/targets", Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_technician_outside_every_allowing_pair_neither_sees_nor_reaches_the_computer() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let admin = app.token("admin", ADMIN_PASSWORD).await;
        let (tech, other) = (user_id(&app, &admin, "tech").await, user_id(&app, &admin, "tech2").await);
        assert_eq!(
            target_ids(&app, &s.other_technician).await,
            [s.agent_id.clone()],
            "the built-in default allows all"
        );

        let helpdesk = create_group(&app, &admin, "technician", "Helpdesk").await;
        let interns = create_group(&app, &admin, "technician", "Interns").await;
        let lab = create_group(&app, &admin, "target", "Lab").await;
        add_member(&app, &admin, "technician", &helpdesk, &tech).await;
        add_member(&app, &admin, "technician", &interns, &other).await;
        add_member(&app, &admin, "target", &lab, &s.agent_id).await;
        assign(&app, &admin, &helpdesk, &lab, policy_allowing(&["monitor"])).await;
        assign(&app, &admin, &interns, &lab, policy_allowing(&[])).await;
        default_allows_nothing(&app, &admin).await;

        assert_eq!(target_ids(&app, &s.technician).await, [s.agent_id.clone()]);
        assert_eq!(target_ids(&app, &s.other_technician).await, Vec::<String>::new());
        let before = app.audit_len().await;
        let refused = app
            .call(Method::POST, "/api/sessions", Some(&s.other_technician), Some(json!({ "target_id": s.agent_id })))
            .await;
        assert_eq!((refused.status, refused.error()), (StatusCode::FORBIDDEN, "target_not_allowed"));
        assert_eq!(app.audit_len().await, before + 1);
        assert_eq!(app.audit_actions().await.last().map(String::as_str), Some("session.refused"));
        let (sessions,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sessions").fetch_one(app.store.pool()).await.unwrap();
        assert_eq!(sessions, 0, "a refused request leaves no session");

        // Unknown computers are refused alike, without saying they do not exist.
        let unknown =
            app.call(Method::POST, "/api/sessions", Some(&s.technician), Some(json!({ "target_id": "nope" }))).await;
        assert_eq!((unknown.status, unknown.error()), (StatusCode::FORBIDDEN, "target_not_allowed"));

        open_session(&app, &mut s).await;

        // Out of the group, the technician falls back to the default: nothing.
        let path = format!("/api/technician-groups/{helpdesk}/members/{tech}");
        assert_eq!(app.call(Method::DELETE, &path, Some(&admin), None).await.status, StatusCode::NO_CONTENT);
        assert_eq!(target_ids(&app, &s.technician).await, Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn computers_join_their_enrollment_tokens_groups() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let lab = create_group(&app, &admin, "target", "Lab").await;
        let body = json!({ "label": "Lab PCs", "ttl_minutes": 60, "max_uses": 1, "groups": [lab, lab] });
        let created = app.call(Method::POST, "/api/enrollment-tokens", Some(&admin), Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        assert_eq!(created.body["info"]["groups"], json!([{ "id": lab, "name": "Lab" }]));
        let listed = app.call(Method::GET, "/api/enrollment-tokens", Some(&admin), None).await;
        assert_eq!(listed.body[0]["groups"], json!([{ "id": lab, "name": "Lab" }]));
        let agent = enroll(&app, created.body["token"].as_str().unwrap(), "pc-9").await;
        let agent_id = agent.body["agent_id"].as_str().unwrap();
        let computers = app.call(Method::GET, "/api/computers", Some(&admin), None).await;
        assert_eq!(computers.body[0]["id"], agent_id);
        assert_eq!(computers.body[0]["groups"], json!([{ "id": lab, "name": "Lab" }]));

        let before = app.audit_len().await;
        let bad = json!({ "label": "x", "ttl_minutes": 60, "max_uses": 1, "groups": ["nope"] });
        let refused = app.call(Method::POST, "/api/enrollment-tokens", Some(&admin), Some(bad)).await;
        assert_eq!((refused.status, refused.error()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"));
        assert_eq!(app.audit_len().await, before);
    })
    .await;
}
