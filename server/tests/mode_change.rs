//! Changing a live session's mode: the technician asks over the
//! controller's socket, the server records the request and sends the agent
//! a grant for the mode the policy gives, the agent's steps (the person
//! asked, the mode in force, a refusal) are audited and reach the
//! controller, and every later grant is held to the mode in force.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::live::live_session;
use common::on_each_backend;
use common::ws::{Socket, next, offer_after_grant, send, setup};
use serde_json::{Value, json};
use tether_shared::grant::{Expectation, Grant, SignedGrant, verify};
use tether_shared::mode::SessionMode;

/// The grant in `message`, verified with the server's key.
fn verified(app: &common::TestApp, message: &Value, session_id: &str, target: &str) -> Grant {
    assert_eq!(message["type"], "grant", "{message}");
    let signed: SignedGrant = serde_json::from_value(message["grant"].clone()).unwrap();
    let key = app.state.grant_key.public().verifying_key().unwrap();
    let now = tether_server::store::now_ms();
    verify(&signed, &key, Expectation { session_id, target, now }).unwrap()
}

async fn request_mode(controller: &mut Socket, mode: &str) {
    send(controller, json!({ "type": "request_mode", "mode": mode })).await;
}

async fn mode_step(agent: &mut Socket, session_id: &str, step: Value) {
    send(agent, json!({ "type": "mode", "session_id": session_id, "step": step })).await;
}

#[tokio::test]
async fn a_request_is_granted_decided_by_the_agent_and_heard_by_the_technician_and_the_log() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let (session_id, mut controller) = live_session(&app, &mut s).await;

        // A narrowing: granted, applied by the agent, in force.
        request_mode(&mut controller, "monitor").await;
        let grant = verified(&app, &next(&mut s.agent).await, &session_id, &s.agent_id);
        assert_eq!((grant.mode, grant.access), (SessionMode::Monitor, SessionMode::Monitor.access()));
        mode_step(&mut s.agent, &session_id, json!({ "step": "in_force", "mode": "monitor", "by": "technician" }))
            .await;
        let told = next(&mut controller).await;
        assert_eq!(told["type"], "mode_change", "{told}");
        assert_eq!(told["step"]["mode"], "monitor");
        assert_eq!(next(&mut controller).await, json!({ "type": "mode_chosen", "mode": "monitor" }));

        // A widening the person refuses: the mode stays.
        request_mode(&mut controller, "active").await;
        let grant = verified(&app, &next(&mut s.agent).await, &session_id, &s.agent_id);
        assert_eq!(grant.mode, SessionMode::Active);
        mode_step(&mut s.agent, &session_id, json!({ "step": "asking", "mode": "active", "timeout_secs": 30 })).await;
        assert_eq!(next(&mut controller).await["step"]["step"], "asking");
        mode_step(&mut s.agent, &session_id, json!({ "step": "refused", "mode": "active", "reason": "rejected" }))
            .await;
        assert_eq!(next(&mut controller).await["step"]["reason"], "rejected");
        // An impossible prompt is refused and recorded nowhere.
        mode_step(&mut s.agent, &session_id, json!({ "step": "asking", "mode": "active", "timeout_secs": 0 })).await;

        // Later grants (a reloaded page's offer) are held to the mode in force.
        let offer = json!({ "type": "signal", "signal": { "kind": "offer", "negotiation": 2, "sdp": "v=0" } });
        send(&mut controller, offer).await;
        let grant_message = next(&mut s.agent).await;
        assert_eq!(verified(&app, &grant_message, &session_id, &s.agent_id).mode, SessionMode::Monitor);
        assert_eq!(next(&mut s.agent).await["signal"]["kind"], "offer");

        let listed = app.call(Method::GET, "/api/sessions", Some(&s.technician), None).await;
        let listed = listed.body.as_array().unwrap().iter().find(|session| session["id"] == session_id.as_str());
        assert_eq!(listed.unwrap()["mode"], "monitor");

        let actions = app.audit_actions().await;
        let positions = |action: &str| -> Vec<usize> {
            actions.iter().enumerate().filter(|(_, a)| *a == action).map(|(i, _)| i).collect()
        };
        let (requests, changes) = (positions("session.mode_requested"), positions("session.mode_changed"));
        assert_eq!((requests.len(), changes.len()), (2, 1), "{actions:?}");
        let grants = positions("session.grant");
        assert!(grants.iter().any(|grant| requests[0] < *grant && *grant < changes[0]), "request, grant, change");
        assert_eq!(positions("session.mode_asked").len(), 1, "the bad prompt is not recorded");
        assert_eq!(positions("session.mode_refused").len(), 1);
        assert_eq!(
            app.audit_details("session.mode_requested").await[1],
            json!({ "mode": "active", "granted": "active" })
        );
        assert_eq!(
            app.audit_details("session.mode_changed").await[0],
            json!({ "step": "in_force", "mode": "monitor", "by": "technician" })
        );
    })
    .await;
}

#[tokio::test]
async fn a_request_the_policy_narrows_or_refuses_or_that_comes_too_early_says_why() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let admin = app.token("admin", common::ADMIN_PASSWORD).await;
        let policy = json!({ "session": {}, "access": { "allowed_modes": ["active", "monitor", "chat"] } });
        let saved = app.call(Method::PUT, "/api/policies/default", Some(&admin), Some(policy)).await;
        assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);

        // Before the agent answered, the mode cannot change yet.
        let session_id = common::ws::open_session(&app, &mut s).await;
        let (mut controller, _ready) = common::ws::connect_controller(s.address, &session_id, &s.technician).await;
        request_mode(&mut controller, "monitor").await;
        let early = next(&mut controller).await;
        assert!(early["message"].as_str().unwrap().contains("once the session has started"), "{early}");
        let offer = json!({ "type": "signal", "signal": { "kind": "offer", "negotiation": 1, "sdp": "v=0" } });
        send(&mut controller, offer).await;
        offer_after_grant(&mut s.agent).await;
        let answer = json!({ "kind": "answer", "negotiation": 1, "sdp": "v=0" });
        send(&mut s.agent, json!({ "type": "signal", "session_id": session_id, "signal": answer })).await;
        assert_eq!(next(&mut controller).await["signal"]["kind"], "answer");
        assert_eq!(next(&mut controller).await["mode"], "active");

        // Already in Active; File transfer has no allowed mode below it; Guidance falls to Monitor.
        request_mode(&mut controller, "active").await;
        assert_eq!(next(&mut controller).await["message"], "The session is already in Active mode.");
        request_mode(&mut controller, "file_transfer").await;
        assert_eq!(
            next(&mut controller).await["message"],
            "The policy allows no mode like File transfer on this computer."
        );
        request_mode(&mut controller, "guidance").await;
        let grant = verified(&app, &next(&mut s.agent).await, &session_id, &s.agent_id);
        assert_eq!(grant.mode, SessionMode::Monitor, "the next allowed mode that asks for no more");
        // A mode that is not one is malformed.
        request_mode(&mut controller, "root").await;
        assert_eq!(next(&mut controller).await["message"], "malformed signalling message");
        assert_eq!(
            app.audit_details("session.mode_requested").await,
            vec![json!({ "mode": "guidance", "granted": "monitor" })]
        );
    })
    .await;
}

#[tokio::test]
async fn a_policy_change_narrows_live_sessions_at_once_and_ends_those_it_leaves_no_mode() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let (session_id, mut controller) = live_session(&app, &mut s).await;
        let admin = app.token("admin", common::ADMIN_PASSWORD).await;
        let save = |modes: Value| {
            let policy = json!({ "session": {}, "access": { "allowed_modes": modes } });
            app.call(Method::PUT, "/api/policies/default", Some(&admin), Some(policy))
        };

        // Active is no longer allowed: by the time the change is saved the agent holds a Monitor grant.
        assert_eq!(save(json!(["monitor", "chat"])).await.status, StatusCode::OK);
        let grant = verified(&app, &next(&mut s.agent).await, &session_id, &s.agent_id);
        assert_eq!(grant.mode, SessionMode::Monitor);
        let narrowed = app.audit_details("session.policy_narrowed").await;
        assert_eq!(narrowed, vec![json!({ "from": "active", "to": "monitor" })]);
        mode_step(&mut s.agent, &session_id, json!({ "step": "in_force", "mode": "monitor", "by": "technician" }))
            .await;
        assert_eq!(next(&mut controller).await["type"], "mode_change");
        assert_eq!(next(&mut controller).await, json!({ "type": "mode_chosen", "mode": "monitor" }));

        // A policy still allowing Monitor changes nothing; one leaving nothing below it ends the session.
        assert_eq!(save(json!(["active", "monitor"])).await.status, StatusCode::OK);
        assert_eq!(save(json!(["active", "file_transfer"])).await.status, StatusCode::OK);
        let bye = next(&mut s.agent).await;
        assert_eq!(bye["signal"]["kind"], "bye", "{bye}");
        let reason = "the policy no longer allows Monitor mode or any that asks for less";
        assert_eq!(next(&mut controller).await, json!({ "type": "ended", "reason": reason }));
        assert_eq!(common::ws::ended_reason(&app, &session_id).await, reason);
        let (ended_by,): (Option<String>,) = sqlx::query_as("SELECT ended_by FROM sessions WHERE id = $1")
            .bind(&session_id)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        assert_eq!(ended_by.as_deref(), Some("admin"), "the administrator's change ended it");
    })
    .await;
}
