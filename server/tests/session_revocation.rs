//! Sessions ended from outside their two ends, and ends that must happen
//! whatever broke: a technician disabled or demoted mid-session, an
//! administrator's End, a server shutting down, an agent socket that
//! fails. Each time both ends are told why within a second, and the end is
//! audited once, by whoever caused it.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::live::{both_told, live_session, promptly};
use common::ws::{ended_reason, open_session, setup};
use common::{TestApp, on_each_backend};
use serde_json::{Value, json};
use tether_server::app;
use tether_server::sessions::table;
use tether_shared::session_lifecycle::{Party, Step};

/// The `session.end` entries of `session_id`: (actor, reason).
async fn end_entries(app: &TestApp, session_id: &str) -> Vec<(String, String)> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, details FROM audit_log WHERE action = 'session.end' AND target = $1")
            .bind(session_id)
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    rows.into_iter()
        .map(|(actor, details)| {
            let details: Value = serde_json::from_str(&details).unwrap();
            (actor, details["reason"].as_str().unwrap().to_owned())
        })
        .collect()
}

async fn user_id(app: &TestApp, admin: &str, username: &str) -> String {
    let users = app.call(Method::GET, "/api/users", Some(admin), None).await;
    let users = users.body.as_array().unwrap().clone();
    users.iter().find(|user| user["username"] == username).unwrap()["id"].as_str().unwrap().to_owned()
}

/// In a live session, the admin changes the technician's account with
/// `method` and `change`: both ends hear `reason` within a second, and the
/// end is audited once, as the admin's.
async fn changing_the_technician_ends_the_session(method: Method, change: Option<Value>, reason: &str) {
    on_each_backend(|app| {
        let (method, change) = (method.clone(), change.clone());
        async move {
            let mut s = setup(&app).await;
            let (session_id, mut controller) = live_session(&app, &mut s).await;
            let admin = app.token("admin", common::ADMIN_PASSWORD).await;
            let tech = user_id(&app, &admin, "tech").await;
            let reply = app.call(method, &format!("/api/users/{tech}"), Some(&admin), change).await;
            assert!(reply.status.is_success(), "{:?}", reply.body);
            both_told(&mut s.agent, &mut controller, &session_id, reason).await;
            assert_eq!(end_entries(&app, &session_id).await, vec![("admin".to_owned(), reason.to_owned())]);
        }
    })
    .await;
}

#[tokio::test]
async fn disabling_a_technician_ends_their_session_on_both_ends() {
    let reason = "the technician's account was disabled by administrator admin";
    changing_the_technician_ends_the_session(Method::PATCH, Some(json!({ "disabled": true })), reason).await;
}

#[tokio::test]
async fn demoting_a_technician_ends_their_session() {
    let reason = "the technician's account was made auditor by administrator admin";
    changing_the_technician_ends_the_session(Method::PATCH, Some(json!({ "role": "auditor" })), reason).await;
}

#[tokio::test]
async fn deleting_a_technician_ends_their_session() {
    let reason = "the technician's account was deleted by administrator admin";
    changing_the_technician_ends_the_session(Method::DELETE, None, reason).await;
}

#[tokio::test]
async fn an_administrator_lists_live_sessions_and_ends_one() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let (session_id, mut controller) = live_session(&app, &mut s).await;
        let admin = app.token("admin", common::ADMIN_PASSWORD).await;

        let live = app.call(Method::GET, "/api/sessions?live=true", Some(&admin), None).await;
        assert_eq!(live.status, StatusCode::OK, "{:?}", live.body);
        let row = &live.body[0];
        assert_eq!(
            (row["id"].as_str(), row["technician"].as_str(), row["computer"].as_str(), row["state"].as_str()),
            (Some(session_id.as_str()), Some("tech"), Some("pc-1"), Some("active"))
        );
        assert_eq!((row["kind"].as_str(), row["controller_attached"].as_bool()), (Some("enrolled"), Some(true)));
        let theirs = app.call(Method::GET, "/api/sessions?live=true", Some(&s.other_technician), None).await;
        assert_eq!(theirs.body, json!([]), "a technician lists only their own");
        let refused =
            app.call(Method::POST, &format!("/api/sessions/{session_id}/end"), Some(&s.other_technician), None).await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "another technician's session");
        let bad = app.call(Method::GET, "/api/sessions?live=maybe", Some(&admin), None).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        let ended = app.call(Method::POST, &format!("/api/sessions/{session_id}/end"), Some(&admin), None).await;
        assert_eq!(ended.status, StatusCode::NO_CONTENT, "{:?}", ended.body);
        both_told(&mut s.agent, &mut controller, &session_id, "ended by administrator admin").await;
        assert_eq!(
            end_entries(&app, &session_id).await,
            vec![("admin".to_owned(), "ended by administrator admin".to_owned())]
        );

        let again = app.call(Method::POST, &format!("/api/sessions/{session_id}/end"), Some(&admin), None).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        let all = app.call(Method::GET, "/api/sessions", Some(&s.technician), None).await;
        let row = &all.body[0];
        assert_eq!(
            (row["state"].as_str(), row["end_reason"].as_str(), row["ended_by"].as_str()),
            (Some("ended"), Some("ended by administrator admin"), Some("admin"))
        );
        assert_eq!(app.call(Method::GET, "/api/sessions?live=true", Some(&admin), None).await.body, json!([]));
    })
    .await;
}

#[tokio::test]
async fn a_technician_ends_their_own_session_from_the_api() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let (session_id, mut controller) = live_session(&app, &mut s).await;
        let ended = app.call(Method::POST, &format!("/api/sessions/{session_id}/end"), Some(&s.technician), None).await;
        assert_eq!(ended.status, StatusCode::NO_CONTENT);
        both_told(&mut s.agent, &mut controller, &session_id, "ended by the technician tech").await;
    })
    .await;
}

#[tokio::test]
async fn a_shutdown_ends_every_session_and_tells_both_ends_why() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let (session_id, mut controller) = live_session(&app, &mut s).await;
        app::end_sessions_on_shutdown(app.state.clone(), async {}).await;
        both_told(&mut s.agent, &mut controller, &session_id, "the server is shutting down").await;
        assert_eq!(ended_reason(&app, &session_id).await, "the server is shutting down");
        assert_eq!(end_entries(&app, &session_id).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn an_agent_socket_that_fails_ends_its_sessions() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let (session_id, mut controller) = live_session(&app, &mut s).await;
        // Too many malformed messages: the server closes the socket with an error.
        for _ in 0..30 {
            use futures_util::SinkExt;
            if s.agent.send(tokio_tungstenite::tungstenite::Message::text("not json")).await.is_err() {
                break;
            }
        }
        let ended = loop {
            let message = promptly(&mut controller, "the controller's end").await;
            if message["type"] == "ended" {
                break message;
            }
        };
        assert_eq!(ended["reason"], "the target disconnected");
        assert_eq!(ended_reason(&app, &session_id).await, "the target disconnected");
    })
    .await;
}

#[tokio::test]
async fn an_end_is_recorded_once_however_many_try() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = open_session(&app, &mut s).await;
        let end = |reason: &str| Step::Ended { reason: reason.to_owned(), by: Party::System, at: None };
        let actor = tether_server::audit::Actor::system();
        let (first_end, second_end) = (end("first"), end("second"));
        let (first, second) = tokio::join!(
            table::record(&app.store, &session_id, &first_end, actor.clone(), 1),
            table::record(&app.store, &session_id, &second_end, actor.clone(), 2),
        );
        assert_eq!([first.unwrap(), second.unwrap()].iter().filter(|recorded| **recorded).count(), 1);
        assert_eq!(end_entries(&app, &session_id).await.len(), 1);
        assert!(
            !table::record(&app.store, &session_id, &Step::Started, actor, 3).await.unwrap(),
            "nothing after the end"
        );
    })
    .await;
}
