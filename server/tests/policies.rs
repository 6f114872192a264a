//! The session policy: every signed-in role reads it (the built-in default
//! until an administrator saves one); only administrators replace it, each
//! change audited with the policy before and after, kept across a restart;
//! bad bodies and other roles get a clear 4xx and change nothing; a stored
//! body gone bad is an error, not a silent default, until an admin saves.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Reply, TestApp, on_each_backend, relaxed_limits};
use serde_json::{Value, json};
use tether_server::policies::{PolicyError, session_policy};
use tether_server::state::AppState;
use tether_server::store::Store;
use tether_server::{app, db};
use tether_shared::policy::SessionPolicy;

const PATH: &str = "/api/policies/session";

/// The defaults, as the API shows them.
fn defaults() -> Value {
    json!({ "code_lifetime_secs": 900, "max_wrong_guesses": 5, "user_acceptance": true, "acceptance_timeout_secs": 120, "server_loss_timeout_secs": 15 })
}

fn chosen() -> Value {
    json!({ "code_lifetime_secs": 600, "max_wrong_guesses": 3, "user_acceptance": false, "acceptance_timeout_secs": 60, "server_loss_timeout_secs": 30 })
}

async fn read(app: &TestApp, token: &str) -> Value {
    let reply = app.call(Method::GET, PATH, Some(token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    reply.body
}

async fn put(app: &TestApp, token: &str, body: Value) -> Reply {
    app.call(Method::PUT, PATH, Some(token), Some(body)).await
}

/// The `details` of every `policy.update` entry, oldest first.
/// Each `policy.update`'s details with the session part of each whole
/// default policy (what this endpoint changes; the access rules stay).
async fn policy_updates(app: &TestApp) -> Vec<Value> {
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT details FROM audit_log WHERE action = 'policy.update' ORDER BY seq")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    let session_part = |policy: &Value| policy.get("session").cloned().unwrap_or_else(|| policy.clone());
    rows.into_iter()
        .map(|(details,)| {
            let details: Value = serde_json::from_str(&details).unwrap();
            json!({ "before": session_part(&details["before"]), "after": session_part(&details["after"]) })
        })
        .collect()
}

/// The same database served by a new app (fresh pool and state), as after a
/// restart; the old tokens stay valid because the signing keys are kept.
async fn restarted(app: &TestApp) -> TestApp {
    let store = Store::new(db::connect(&app.backend.url).await.unwrap());
    let state = AppState::new(store.clone(), app.keys.clone(), relaxed_limits(), false).await.unwrap();
    TestApp {
        backend: app.backend.clone(),
        store,
        keys: app.keys.clone(),
        router: app::api(state.clone()),
        state,
        first_admin_password: app.first_admin_password.clone(),
    }
}

#[tokio::test]
async fn every_role_reads_the_default_until_one_is_saved_and_strangers_get_401() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let technician = app.user_token(&admin, "tech", "technician").await;
        let auditor = app.user_token(&admin, "audrey", "auditor").await;
        for token in [&admin, &technician, &auditor] {
            assert_eq!(read(&app, token).await, defaults());
        }
        assert_eq!(session_policy(app.store.pool()).await.unwrap(), SessionPolicy::default());

        let before = app.audit_len().await;
        let reply = app.call(Method::GET, PATH, None, None).await;
        assert_eq!((reply.status, reply.error()), (StatusCode::UNAUTHORIZED, "not_authenticated"));
        let reply = app.call(Method::PUT, PATH, None, Some(chosen())).await;
        assert_eq!((reply.status, reply.error()), (StatusCode::UNAUTHORIZED, "not_authenticated"));
        assert_eq!(app.audit_len().await, before);
        assert_eq!(read(&app, &admin).await, defaults());
    })
    .await;
}

#[tokio::test]
async fn an_admin_update_is_answered_audited_and_kept_across_a_restart() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let reply = put(&app, &admin, chosen()).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(reply.body, chosen());
        assert_eq!(read(&app, &admin).await, chosen());

        // A field left out takes its default: PUT replaces the whole policy.
        let reply = put(&app, &admin, json!({ "code_lifetime_secs": 300 })).await;
        let partial = json!({ "code_lifetime_secs": 300, "max_wrong_guesses": 5, "user_acceptance": true, "acceptance_timeout_secs": 120, "server_loss_timeout_secs": 15 });
        assert_eq!((reply.status, &reply.body), (StatusCode::OK, &partial));

        assert_eq!(app.audit_actions().await.last().map(String::as_str), Some("policy.update"));
        assert_eq!(
            policy_updates(&app).await,
            [json!({ "before": defaults(), "after": chosen() }), json!({ "before": chosen(), "after": partial })]
        );
        let (actor, target): (String, String) =
            sqlx::query_as("SELECT actor, target FROM audit_log WHERE action = 'policy.update' ORDER BY seq DESC")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        assert_eq!((actor.as_str(), target.as_str()), ("admin", "session"));

        let again = restarted(&app).await;
        assert_eq!(read(&again, &admin).await, partial);
        let policy = session_policy(again.store.pool()).await.unwrap();
        assert_eq!(json!(policy), partial);
    })
    .await;
}

#[tokio::test]
async fn technicians_and_auditors_read_but_may_not_change_it() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        assert_eq!(put(&app, &admin, chosen()).await.status, StatusCode::OK);
        let technician = app.user_token(&admin, "tech", "technician").await;
        let auditor = app.user_token(&admin, "audrey", "auditor").await;
        let before = app.audit_len().await;
        for token in [&technician, &auditor] {
            assert_eq!(read(&app, token).await, chosen());
            let reply = put(&app, token, defaults()).await;
            assert_eq!((reply.status, reply.error()), (StatusCode::FORBIDDEN, "forbidden"));
            assert_eq!(reply.body["message"], "your role may not change policies");
        }
        assert_eq!(app.audit_len().await, before, "refused changes leave no trace");
        assert_eq!(read(&app, &admin).await, chosen());
    })
    .await;
}

fn raw(token: &str, content_type: Option<&str>, body: String) -> Request<Body> {
    let mut builder =
        Request::builder().method(Method::PUT).uri(PATH).header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn bad_policies_get_a_clear_4xx_and_change_nothing() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        assert_eq!(put(&app, &admin, chosen()).await.status, StatusCode::OK);
        let before = app.audit_len().await;

        let invalid = StatusCode::UNPROCESSABLE_ENTITY;
        let cases: Vec<(Value, StatusCode, &str)> = vec![
            (json!({ "code_lifetime_secs": 9 }), invalid, "code_lifetime_secs must be between 10 and 86400"),
            (json!({ "code_lifetime_secs": 86_401 }), invalid, "code_lifetime_secs must be between 10 and 86400"),
            (json!({ "max_wrong_guesses": 0 }), invalid, "max_wrong_guesses must be between 1 and 20"),
            (json!({ "max_wrong_guesses": 21 }), invalid, "max_wrong_guesses must be between 1 and 20"),
            (json!({ "acceptance_timeout_secs": 601 }), invalid, "acceptance_timeout_secs must be between 10 and 600"),
            (json!({ "code_lifetime_secs": 600, "unlock": true }), invalid, "unknown field `unlock`"),
            (json!({ "code_lifetime_secs": "600" }), invalid, "invalid type: string \"600\""),
            (json!({ "code_lifetime_secs": -1 }), invalid, "invalid value: integer `-1`"),
            (json!({ "code_lifetime_secs": 4_294_967_296_u64 }), invalid, "invalid value: integer `4294967296`"),
            (json!({ "code_lifetime_secs": 60.5 }), invalid, "invalid type: floating point"),
            (json!({ "user_acceptance": "yes" }), invalid, "invalid type: string \"yes\""),
            (json!({ "user_acceptance": null }), invalid, "invalid type: null"),
            (json!("short"), invalid, "the body must be a JSON object"),
            (json!([600, 5, true, 120]), invalid, "the body must be a JSON object"),
        ];
        for (body, status, message) in cases {
            let reply = put(&app, &admin, body.clone()).await;
            assert_eq!((reply.status, reply.error()), (status, "invalid_field"), "{body}: {:?}", reply.body);
            let text = reply.body["message"].as_str().unwrap();
            assert!(text.contains(message), "{body}: {text:?} should say {message:?}");
        }

        let oversized = format!(r#"{{"code_lifetime_secs":600,"padding":"{}"}}"#, "a".repeat(70 * 1024));
        let raw_cases = [
            (
                raw(&admin, Some("application/json"), "{\"code_lifetime_secs\": ".into()),
                StatusCode::BAD_REQUEST,
                "malformed JSON",
            ),
            (
                raw(&admin, Some("text/plain"), chosen().to_string()),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "application/json",
            ),
            (raw(&admin, None, String::new()), StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/json"),
            (
                raw(&admin, Some("application/json"), oversized),
                StatusCode::PAYLOAD_TOO_LARGE,
                "larger than 65536 bytes",
            ),
        ];
        for (request, status, message) in raw_cases {
            let reply = app.send(request).await;
            assert_eq!(reply.status, status, "{:?}", reply.body);
            let text = reply.body["message"].as_str().unwrap();
            assert!(text.contains(message), "{text:?} should say {message:?}");
        }

        assert_eq!(app.audit_len().await, before, "bad input leaves no trace");
        assert_eq!(read(&app, &admin).await, chosen());
    })
    .await;
}

#[tokio::test]
async fn a_stored_policy_gone_bad_is_an_error_until_an_admin_saves_a_new_one() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        assert_eq!(put(&app, &admin, chosen()).await.status, StatusCode::OK);
        for (corrupt, recorded) in
            [("not json", json!("not json")), (r#"{"max_wrong_guesses":0}"#, json!({ "max_wrong_guesses": 0 }))]
        {
            sqlx::query("UPDATE policies SET body = $1 WHERE kind = 'session'")
                .bind(corrupt)
                .execute(app.store.pool())
                .await
                .unwrap();
            let reply = app.call(Method::GET, PATH, Some(&admin), None).await;
            assert_eq!((reply.status, reply.error()), (StatusCode::INTERNAL_SERVER_ERROR, "internal"));
            assert_eq!(reply.body["message"], "internal error", "no detail leaks");
            assert!(matches!(
                session_policy(app.store.pool()).await,
                Err(PolicyError::Unusable { kind: "session", .. })
            ));

            let reply = put(&app, &admin, chosen()).await;
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
            assert_eq!(read(&app, &admin).await, chosen());
            let updates = policy_updates(&app).await;
            assert_eq!(updates.last(), Some(&json!({ "before": recorded, "after": chosen() })));
        }
    })
    .await;
}
