//! The administrator's Computers: every enrolled computer with its groups,
//! last contact, version and presence; a display name kept apart from the
//! host name; groups set; and revocation — the credential is refused at
//! once, a live session ends on both ends within a second, the socket
//! closes, all of it audited as the administrator's.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::groups::create_group;
use common::live::{both_told, live_session};
use common::ws::{closes, ended_reason, setup};
use common::{ADMIN_PASSWORD, on_each_backend};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test]
async fn administrators_list_rename_and_regroup_computers() {
    on_each_backend(|app| async move {
        let s = setup(&app).await;
        let admin = app.token("admin", ADMIN_PASSWORD).await;
        let lab = create_group(&app, &admin, "target", "Lab").await;
        let listed = app.call(Method::GET, "/api/computers", Some(&admin), None).await;
        let computer = &listed.body[0];
        assert_eq!((computer["id"].as_str(), computer["name"].as_str()), (Some(s.agent_id.as_str()), Some("pc-1")));
        assert_eq!(
            (&computer["online"], &computer["agent_version"], &computer["groups"]),
            (&json!(true), &json!("0.1.0"), &json!([]))
        );
        assert!(computer["last_seen_at"].is_i64());

        let path = format!("/api/computers/{}", s.agent_id);
        let renamed = app
            .call(Method::PATCH, &path, Some(&admin), Some(json!({ "display_name": " Front desk ", "groups": [lab] })))
            .await;
        assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
        assert_eq!((&renamed.body["name"], &renamed.body["hostname"]), (&json!("Front desk"), &json!("pc-1")));
        assert_eq!(renamed.body["groups"], json!([{ "id": lab, "name": "Lab" }]));
        let targets = app.call(Method::GET, "/api/targets", Some(&s.technician), None).await;
        assert_eq!(
            (&targets.body[0]["display_name"], &targets.body[0]["info"]["hostname"]),
            (&json!("Front desk"), &json!("pc-1"))
        );
        let cleared =
            app.call(Method::PATCH, &path, Some(&admin), Some(json!({ "display_name": "", "groups": [] }))).await;
        assert_eq!(
            (&cleared.body["name"], &cleared.body["display_name"], &cleared.body["groups"]),
            (&json!("pc-1"), &json!(null), &json!([]))
        );

        let before = app.audit_len().await;
        for (body, status) in [
            (json!({ "display_name": "x".repeat(129) }), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({ "groups": ["nope"] }), StatusCode::UNPROCESSABLE_ENTITY),
            (json!({ "hostname": "evil" }), StatusCode::UNPROCESSABLE_ENTITY),
        ] {
            let reply = app.call(Method::PATCH, &path, Some(&admin), Some(body.clone())).await;
            assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        }
        let missing = app.call(Method::PATCH, "/api/computers/nope", Some(&admin), Some(json!({}))).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(
            app.call(Method::DELETE, "/api/computers/nope", Some(&admin), None).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(app.audit_len().await, before);
        let tech = app.call(Method::GET, "/api/computers", Some(&s.technician), None).await;
        assert_eq!(tech.status, StatusCode::FORBIDDEN);
        let tech = app.call(Method::DELETE, &path, Some(&s.technician), None).await;
        assert_eq!(tech.status, StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn revoking_a_computer_refuses_its_credential_and_ends_its_session_on_both_ends() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let (session_id, mut controller) = live_session(&app, &mut s).await;
        let admin = app.token("admin", ADMIN_PASSWORD).await;
        let reply = app.call(Method::DELETE, &format!("/api/computers/{}", s.agent_id), Some(&admin), None).await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
        let reason = tether_server::routes::computers::REVOKED_REASON;
        both_told(&mut s.agent, &mut controller, &session_id, reason).await;
        assert!(closes(&mut s.agent).await, "the revoked computer's socket is closed");
        assert_eq!(ended_reason(&app, &session_id).await, reason);

        let mut request = format!("ws://{}/api/agent/ws", s.address).into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {}", s.credential).parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
            other => panic!("the revoked credential was not refused: {:?}", other.map(|_| ())),
        }
        let actions = app.audit_actions().await;
        let revoke_at = actions.iter().position(|a| a == "agent.revoke").unwrap();
        assert!(actions[revoke_at..].contains(&"session.end".to_owned()), "{actions:?}");
        let (actor,): (String,) =
            sqlx::query_as("SELECT actor FROM audit_log WHERE action = 'session.end' AND target = $1")
                .bind(&session_id)
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        assert_eq!(actor, "admin");
        assert_eq!(app.call(Method::GET, "/api/computers", Some(&admin), None).await.body, json!([]));
        assert_eq!(app.call(Method::GET, "/api/targets", Some(&s.technician), None).await.body, json!([]));
        let again = app
            .call(Method::POST, "/api/sessions", Some(&s.technician), Some(json!({ "target_id": s.agent_id })))
            .await;
        assert_eq!(again.status, StatusCode::FORBIDDEN);
    })
    .await;
}
