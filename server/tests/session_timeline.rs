//! One session's timeline for auditors: every audit entry about it, from
//! the technician's request (or the connection code's issue) to its end,
//! in order, with who acted and the computer named; and audit list entries
//! that concern a session say which.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::broker::{self, Accounts};
use common::ws::{connect_controller, ended_reason, next, offer_after_grant, open_session, send, setup};
use common::{TestApp, on_each_backend};
use serde_json::{Value, json};

async fn timeline(app: &TestApp, token: &str, session_id: &str) -> common::Reply {
    app.call(Method::GET, &format!("/api/sessions/{session_id}/timeline"), Some(token), None).await
}

fn entries(reply: &common::Reply) -> Vec<Value> {
    reply.body["entries"].as_array().unwrap().clone()
}

fn field<'a>(entry: &'a Value, name: &str) -> &'a str {
    entry[name].as_str().unwrap_or("")
}

#[tokio::test]
async fn an_enrolled_computers_session_from_request_to_an_administrators_end() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let session_id = open_session(&app, &mut s).await;
        let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
        assert_eq!(ready["type"], "ready");
        send(
            &mut controller,
            json!({ "type": "signal", "signal": { "kind": "offer", "negotiation": 1, "sdp": "v=0" } }),
        )
        .await;
        assert_eq!(offer_after_grant(&mut s.agent).await["signal"]["kind"], "offer");
        let answer = json!({ "kind": "answer", "negotiation": 1, "sdp": "v=0" });
        send(&mut s.agent, json!({ "type": "signal", "session_id": session_id, "signal": answer })).await;
        assert_eq!(next(&mut controller).await["signal"]["kind"], "answer");
        let admin = app.token("admin", common::ADMIN_PASSWORD).await;
        let ended = app.call(Method::POST, &format!("/api/sessions/{session_id}/end"), Some(&admin), None).await;
        assert_eq!(ended.status, StatusCode::NO_CONTENT);
        ended_reason(&app, &session_id).await;
        let auditor = app.user_token(&admin, "ada", "auditor").await;

        let reply = timeline(&app, &auditor, &session_id).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        assert_eq!(
            (field(&reply.body["session"], "computer"), field(&reply.body["session"], "state")),
            ("pc-1", "ended")
        );
        let timeline_entries = entries(&reply);
        let actions: Vec<&str> = timeline_entries.iter().map(|entry| field(entry, "action")).collect();
        assert_eq!(actions, ["session.request", "session.grant", "session.grant", "session.start", "session.end"]);
        let [request, first_grant, offer_grant, start, end] = &timeline_entries[..] else { unreachable!() };
        assert_eq!(first_grant["details"]["controller_fingerprint"], Value::Null, "before any offer");
        assert_eq!(offer_grant["details"]["mode"], "active", "{offer_grant}");
        assert_eq!((field(request, "actor"), field(request, "target_name")), ("tech", "pc-1"));
        assert_eq!(field(start, "actor_name"), "pc-1", "the agent acting is named by its computer");
        assert_eq!((field(end, "actor"), field(&end["details"], "reason")), ("admin", "ended by administrator admin"));
        assert!(timeline_entries.iter().all(|entry| field(entry, "session_id") == session_id));
        assert_eq!(reply.body["truncated"], false);

        // The log's own list says which entries concern the session.
        let listed = app.call(Method::GET, "/api/audit?action=session.", Some(&auditor), None).await;
        let listed = listed.body["entries"].as_array().unwrap().clone();
        assert_eq!(listed.len(), 5);
        assert!(listed.iter().all(|entry| field(entry, "session_id") == session_id), "{listed:?}");

        for (token, status) in [(&admin, StatusCode::FORBIDDEN), (&s.technician, StatusCode::FORBIDDEN)] {
            assert_eq!(timeline(&app, token, &session_id).await.status, status);
        }
        assert_eq!(timeline(&app, &auditor, "no-such-session").await.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn a_code_sessions_timeline_holds_its_codes_life() {
    on_each_backend(|app| async move {
        let Accounts { tech, auditor, .. } = broker::accounts(&app).await;
        let (code_id, session_id, _token) = broker::redeemed(&app, &tech).await;
        let (other_code, _, _) = broker::redeemed(&app, &tech).await;
        assert_eq!(broker::act(&app, &tech, &code_id, "cancel").await.status, StatusCode::OK);
        ended_reason(&app, &session_id).await;

        let reply = timeline(&app, &auditor, &session_id).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let timeline_entries = entries(&reply);
        let actions: Vec<&str> = timeline_entries.iter().map(|entry| field(entry, "action")).collect();
        assert_eq!(actions.first(), Some(&"broker_session.issue"), "{actions:?}");
        assert!(actions.contains(&"broker_session.redeemed"), "{actions:?}");
        assert_eq!(actions.last(), Some(&"session.end"), "{actions:?}");
        let seqs: Vec<i64> = timeline_entries.iter().map(|entry| entry["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "oldest first: {seqs:?}");
        assert!(timeline_entries.iter().all(|entry| field(entry, "target") != other_code), "another code's entries");
        let redeemed =
            timeline_entries.iter().find(|entry| field(entry, "action") == "broker_session.redeemed").unwrap();
        assert_eq!(field(redeemed, "target_name"), "guest-pc");
        assert!(timeline_entries.iter().all(|entry| field(entry, "session_id") == session_id));
    })
    .await;
}
