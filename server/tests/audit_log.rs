//! The audit log records every account event before it takes effect, pages
//! and filters for auditors, and its verifier names the first entry that
//! was edited or deleted — through the API and the `audit verify` command.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, on_each_backend};
use serde_json::json;
use tether_server::audit::{self, Actor, Event};
use tether_server::store::now_ms;

/// Generates a varied history and returns an auditor's token.
async fn history(app: &TestApp) -> String {
    let admin = app.admin_token().await;
    let tech_id = app.create_user(&admin, "tech", "technician", "tech initial password").await;
    assert_eq!(app.login("tech", "not the password").await.status, StatusCode::UNAUTHORIZED);
    app.call(
        Method::PATCH,
        &format!("/api/users/{tech_id}"),
        Some(&admin),
        Some(json!({ "display_name": "Tech Nician" })),
    )
    .await;
    app.call(Method::POST, "/api/auth/logout", Some(&admin), None).await;
    let admin = app.token("admin", common::ADMIN_PASSWORD).await;
    app.user_token(&admin, "audrey", "auditor").await
}

#[tokio::test]
async fn account_events_are_recorded_in_order() {
    on_each_backend(|app| async move {
        history(&app).await;
        let actions = app.audit_actions().await;
        assert_eq!(
            actions,
            [
                "system.first_admin",
                "auth.login",
                "auth.password_change",
                "user.create",
                "auth.login_failed",
                "user.update",
                "auth.logout",
                "auth.login",
                "user.create",
                "auth.login",
                "auth.password_change",
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn auditors_filter_and_page() {
    on_each_backend(|app| async move {
        let auditor = history(&app).await;
        let page = app.call(Method::GET, "/api/audit?limit=4", Some(&auditor), None).await;
        assert_eq!(page.status, StatusCode::OK);
        let seqs: Vec<i64> =
            page.body["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [11, 10, 9, 8]);
        assert_eq!(page.body["next_before_seq"], json!(8));
        let older = app.call(Method::GET, "/api/audit?limit=4&before_seq=8", Some(&auditor), None).await;
        assert_eq!(older.body["entries"][0]["seq"], json!(7));

        let auth_only = app.call(Method::GET, "/api/audit?action=auth.", Some(&auditor), None).await;
        let entries = auth_only.body["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 7);
        assert!(entries.iter().all(|e| e["action"].as_str().unwrap().starts_with("auth.")));

        let failed = app.call(Method::GET, "/api/audit?action=auth.login_failed", Some(&auditor), None).await;
        let entry = &failed.body["entries"][0];
        assert_eq!((entry["actor"].as_str(), entry["source"].as_str()), (Some("tech"), Some("127.0.0.1")));
        assert_eq!(entry["details"]["reason"], json!("wrong_password"));

        let by_admin = app.call(Method::GET, "/api/audit?actor=admin&action=user.create", Some(&auditor), None).await;
        assert_eq!(by_admin.body["entries"].as_array().unwrap().len(), 2);

        let now = now_ms();
        let future = app.call(Method::GET, &format!("/api/audit?since={}", now + 60_000), Some(&auditor), None).await;
        assert_eq!(future.body["entries"], json!([]));
        let past = app.call(Method::GET, &format!("/api/audit?until={}", now + 60_000), Some(&auditor), None).await;
        assert_eq!(past.body["entries"].as_array().unwrap().len(), 11);
    })
    .await;
}

/// The actions of the entries `GET /api/audit?{filter}` returns, newest first.
async fn actions_matching(app: &TestApp, auditor: &str, filter: &str) -> Vec<String> {
    let page = app.call(Method::GET, &format!("/api/audit?{filter}"), Some(auditor), None).await;
    assert_eq!(page.status, StatusCode::OK, "{filter}: {:?}", page.body);
    page.body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn filters_find_any_part_in_any_case_and_take_wildcards_literally() {
    on_each_backend(|app| async move {
        let auditor = history(&app).await;
        let admin = app.token("admin", common::ADMIN_PASSWORD).await;
        let tech = app.user_token(&admin, "brook", "technician").await;
        let issued = common::broker::create(&app, &tech).await;
        assert_eq!(issued.status, StatusCode::CREATED, "{:?}", issued.body);

        assert_eq!(actions_matching(&app, &auditor, "action=broker").await, ["broker_session.issue"]);
        assert_eq!(actions_matching(&app, &auditor, "action=Broker_Session.").await, ["broker_session.issue"]);
        assert_eq!(actions_matching(&app, &auditor, "action=LOGIN_F").await, ["auth.login_failed"]);
        // `_` and `%` are the characters typed, not wildcards: "user_" would
        // otherwise match every "user." action, "%" everything.
        assert_eq!(actions_matching(&app, &auditor, "action=user_").await, Vec::<String>::new());
        assert_eq!(actions_matching(&app, &auditor, "action=%25").await, Vec::<String>::new());
        assert_eq!(actions_matching(&app, &auditor, "action=%5C").await, Vec::<String>::new());

        let by_admin = actions_matching(&app, &auditor, "actor=DMI&action=create").await;
        assert_eq!(by_admin, ["user.create", "user.create", "user.create"]);
        let about_tech = actions_matching(&app, &auditor, "target=ech").await;
        assert_eq!(about_tech, ["user.update", "auth.login_failed", "user.create"]);

        let long = "x".repeat(tether_shared::api::MAX_AUDIT_FILTER_CHARS + 1);
        let refused = app.call(Method::GET, &format!("/api/audit?target={long}"), Some(&auditor), None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{:?}", refused.body);
        assert!(refused.body["message"].as_str().unwrap().contains("target filter"), "{:?}", refused.body);
        let unknown = app.call(Method::GET, "/api/audit?acter=admin", Some(&auditor), None).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    })
    .await;
}

async fn verify(app: &TestApp, token: &str) -> serde_json::Value {
    let reply = app.call(Method::GET, "/api/audit/verify", Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.body
}

fn cli_verify(database_url: &str) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tether-server"))
        .args(["audit", "verify", "--database-url", database_url])
        .output()
        .expect("run tether-server");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn an_edited_entry_is_named_by_the_api_and_the_command() {
    on_each_backend(|app| async move {
        let auditor = history(&app).await;
        let status = verify(&app, &auditor).await;
        assert_eq!((status["ok"].clone(), status["entries_checked"].clone()), (json!(true), json!(11)));
        let (ok, output) = cli_verify(&app.backend.url);
        assert!(ok && output.contains("intact: 12 entries"), "{output}");

        sqlx::query("UPDATE audit_log SET details = '{\"reason\":\"nothing to see\"}' WHERE seq = 5")
            .execute(app.store.pool())
            .await
            .unwrap();
        let status = verify(&app, &auditor).await;
        assert_eq!(status["ok"], json!(false));
        assert_eq!(status["first_break"]["seq"], json!(5));
        assert_eq!(status["first_break"]["kind"], json!("altered"));
        let (ok, output) = cli_verify(&app.backend.url);
        assert!(!ok, "a broken chain makes the command fail");
        assert!(output.contains("BROKEN at entry 5"), "{output}");
    })
    .await;
}

#[tokio::test]
async fn deleted_entries_are_named_in_the_middle_and_at_the_end() {
    on_each_backend(|app| async move {
        let auditor = history(&app).await;
        sqlx::query("DELETE FROM audit_log WHERE seq = 3").execute(app.store.pool()).await.unwrap();
        let status = verify(&app, &auditor).await;
        assert_eq!(
            (status["first_break"]["seq"].clone(), status["first_break"]["kind"].clone()),
            (json!(4), json!("missing"))
        );

        // Put the middle back, then cut the tail.
        let app2 = TestApp::start(&common::backends().await[0], common::relaxed_limits()).await;
        let auditor2 = history(&app2).await;
        sqlx::query("DELETE FROM audit_log WHERE seq >= 10").execute(app2.store.pool()).await.unwrap();
        let status = verify(&app2, &auditor2).await;
        assert_eq!(
            (status["first_break"]["seq"].clone(), status["first_break"]["kind"].clone()),
            (json!(10), json!("missing"))
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_appends_keep_one_chain() {
    on_each_backend(|app| async move {
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let store = app.store.clone();
                tokio::spawn(async move {
                    let mut tx = store.begin_write().await.unwrap();
                    let event = Event::new(Actor::system(), "test.concurrent").details(json!({ "i": i }));
                    audit::record(&mut tx, &event, now_ms()).await.unwrap();
                    tx.commit().await.unwrap();
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let status = audit::verify(app.store.pool()).await.unwrap();
        assert!(status.ok, "{status:?}");
        assert_eq!(status.entries_checked, 41);
    })
    .await;
}

#[tokio::test]
async fn an_action_that_fails_leaves_no_entry() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        app.create_user(&admin, "tech", "technician", "tech initial password").await;
        let before = app.audit_len().await;
        let duplicate = app
            .call(
                Method::POST,
                "/api/users",
                Some(&admin),
                Some(json!({ "username": "tech", "display_name": "T", "role": "technician", "password": "another password" })),
            )
            .await;
        assert_eq!(duplicate.status, StatusCode::CONFLICT);
        assert_eq!(app.audit_len().await, before, "the rolled-back entry is gone with its action");
    })
    .await;
}
