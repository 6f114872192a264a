//! The target user's acceptance (policy: "ask the user to accept incoming
//! sessions"): the policy reaches the target with its redemption and is kept
//! from when the code was issued; the target's consent steps are audited,
//! move the code (awaiting acceptance → active, rejected, expired), reach
//! the controller, and a refusal — or silence past the announced time —
//! ends the session. Steps out of place change nothing.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::broker::{Accounts, accounts, connect_target, create, redeem, set_policy};
use common::ws::{DEADLINE, Socket, connect_controller, ended_reason, eventually, next, send, session_row};
use common::{TestApp, agent_info, on_each_backend};
use serde_json::{Value, json};
use std::net::SocketAddr;
use tether_shared::grant::{Expectation, SignedGrant, code_target, verify};
use tether_shared::mode::SessionMode;
use tether_shared::signal::PROTOCOL_VERSION;

/// A redeemed code whose target is connected and has had its session
/// request: (broker session id, session id, target socket, redemption body).
struct Redeemed {
    id: String,
    session_id: String,
    target: Socket,
    redemption: Value,
}

async fn redeem_and_connect(app: &TestApp, tech: &str, address: SocketAddr) -> Redeemed {
    let created = create(app, tech).await;
    let redemption = redeem(app, created.body["code"].as_str().unwrap()).await;
    assert_eq!(redemption.status, StatusCode::OK, "{:?}", redemption.body);
    let token = redemption.body["session_token"].as_str().unwrap();
    let mut target = connect_target(address, token).await.unwrap();
    send(&mut target, json!({ "type": "hello", "info": agent_info("guest-pc"), "protocol": PROTOCOL_VERSION })).await;
    assert_eq!(next(&mut target).await["type"], "welcome");
    Redeemed {
        id: created.body["id"].as_str().unwrap().to_owned(),
        session_id: redemption.body["session_id"].as_str().unwrap().to_owned(),
        target,
        redemption: redemption.body,
    }
}

async fn consent(target: &mut Socket, session_id: &str, step: Value) {
    send(target, json!({ "type": "consent", "session_id": session_id, "step": step })).await;
}

async fn code_status(app: &TestApp, tech: &str, id: &str) -> String {
    let read = app.call(Method::GET, &format!("/api/broker-sessions/{id}"), Some(tech), None).await;
    read.body["state"]["status"].as_str().unwrap().to_owned()
}

async fn eventually_status(app: &TestApp, tech: &str, id: &str, wanted: &str) {
    eventually(&format!("the code becomes {wanted}"), || async {
        (code_status(app, tech, id).await == wanted).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_accepted_session_starts_after_the_question_reached_the_controller() {
    on_each_backend(|app| async move {
        let Accounts { tech, .. } = accounts(&app).await;
        let (address, _stop) = common::serve(&app).await;
        let mut r = redeem_and_connect(&app, &tech, address).await;
        assert_eq!(r.redemption["policy"]["user_acceptance"], true, "asking is the default");
        assert_eq!(r.redemption["policy"]["acceptance_timeout_secs"], 120);
        let (mut controller, ready) = connect_controller(address, &r.session_id, &tech).await;
        assert_eq!(ready["type"], "ready");

        consent(&mut r.target, &r.session_id, json!({ "step": "asking", "timeout_secs": 60 })).await;
        assert_eq!(next(&mut controller).await, json!({ "type": "awaiting_user", "timeout_secs": 60 }));
        eventually_status(&app, &tech, &r.id, "awaiting_acceptance").await;
        // A reloaded controller is told too.
        drop(controller);
        let (mut controller, ready) = connect_controller(address, &r.session_id, &tech).await;
        assert_eq!(ready["type"], "ready");
        assert_eq!(next(&mut controller).await, json!({ "type": "awaiting_user", "timeout_secs": 60 }));

        consent(&mut r.target, &r.session_id, json!({ "step": "accepted" })).await;
        eventually_status(&app, &tech, &r.id, "active").await;
        let answer = json!({ "kind": "answer", "negotiation": 1, "sdp": "v=0 answer" });
        send(&mut r.target, json!({ "type": "signal", "session_id": r.session_id, "signal": answer })).await;
        assert_eq!(next(&mut controller).await, json!({ "type": "signal", "signal": answer }));
        eventually("the session is active", || async {
            (session_row(&app, &r.session_id).await.0 == "active").then_some(())
        })
        .await;
        let actions = app.audit_actions().await;
        let position = |action: &str| actions.iter().position(|a| a == action).unwrap_or_else(|| panic!("{action}"));
        assert!(position("session.user_asked") < position("session.user_accepted"));
        assert!(position("session.user_accepted") < position("session.start"), "consent is logged first");
        for action in ["broker_session.acceptance_prompted", "broker_session.accepted"] {
            position(action);
        }
    })
    .await;
}

#[tokio::test]
async fn the_redemption_carries_a_signed_grant_and_the_persons_choice_of_mode_reaches_the_controller_and_the_log() {
    on_each_backend(|app| async move {
        let Accounts { tech, .. } = accounts(&app).await;
        let (address, _stop) = common::serve(&app).await;
        let mut r = redeem_and_connect(&app, &tech, address).await;
        // The grant the agent asks the person about: signed by the server's
        // key, for this code's target, naming the technician.
        let signed: SignedGrant = serde_json::from_value(r.redemption["grant"].clone()).unwrap();
        let key = app.state.grant_key.public().verifying_key().unwrap();
        let now = tether_server::store::now_ms();
        let target = code_target(&r.session_id);
        let grant = verify(&signed, &key, Expectation { session_id: &r.session_id, target: &target, now }).unwrap();
        assert_eq!(grant.mode, SessionMode::Active);
        assert!(grant.user_acceptance, "asking is the default");
        assert_eq!(grant.acceptance_timeout_secs, 120);
        assert!(grant.allowed_modes.contains(SessionMode::Monitor), "the person may pick Monitor");
        assert_eq!(grant.technician_name, r.redemption["technician"].as_str().unwrap());
        assert_eq!(grant.controller_fingerprint, None, "no controller yet");

        let (mut controller, _ready) = connect_controller(address, &r.session_id, &tech).await;
        consent(&mut r.target, &r.session_id, json!({ "step": "asking", "timeout_secs": 60 })).await;
        assert_eq!(next(&mut controller).await["type"], "awaiting_user");
        consent(&mut r.target, &r.session_id, json!({ "step": "accepted", "mode": "monitor" })).await;
        assert_eq!(next(&mut controller).await, json!({ "type": "mode_chosen", "mode": "monitor" }));
        // A reloaded controller learns it too.
        drop(controller);
        let (mut controller, _ready) = connect_controller(address, &r.session_id, &tech).await;
        assert_eq!(next(&mut controller).await, json!({ "type": "mode_chosen", "mode": "monitor" }));
        let (details,): (String,) =
            sqlx::query_as("SELECT details FROM audit_log WHERE action = 'session.user_accepted'")
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        assert_eq!(serde_json::from_str::<Value>(&details).unwrap()["mode"], "monitor");
        // The grant before the controller's offer asks for no more than Monitor.
        let sdp = "v=0\r\na=fingerprint:sha-256 AB:CD\r\n";
        send(&mut controller, json!({ "type": "signal", "signal": { "kind": "offer", "negotiation": 1, "sdp": sdp } }))
            .await;
        let granted = next(&mut r.target).await;
        assert_eq!(granted["type"], "grant", "{granted}");
        let signed: SignedGrant = serde_json::from_value(granted["grant"].clone()).unwrap();
        let now = tether_server::store::now_ms();
        let grant = verify(&signed, &key, Expectation { session_id: &r.session_id, target: &target, now }).unwrap();
        assert_eq!((grant.mode, grant.access), (SessionMode::Monitor, SessionMode::Monitor.access()));
        assert_eq!(next(&mut r.target).await["signal"]["kind"], "offer", "the offer follows its grant");
        let listed = app.call(Method::GET, "/api/sessions", Some(&tech), None).await;
        let listed = listed.body.as_array().unwrap().iter().find(|session| session["id"] == r.session_id.as_str());
        assert_eq!(listed.unwrap()["mode"], "monitor", "{listed:?}");
        // A mode that is not one's to name is refused as malformed.
        consent(&mut r.target, &r.session_id, json!({ "step": "accepted", "mode": "root" })).await;
        assert_eq!(next(&mut r.target).await["type"], "error");
    })
    .await;
}

#[tokio::test]
async fn a_rejection_ends_the_session_and_the_code() {
    on_each_backend(|app| async move {
        let Accounts { tech, .. } = accounts(&app).await;
        let (address, _stop) = common::serve(&app).await;
        let mut r = redeem_and_connect(&app, &tech, address).await;
        let (mut controller, _) = connect_controller(address, &r.session_id, &tech).await;
        consent(&mut r.target, &r.session_id, json!({ "step": "asking", "timeout_secs": 30 })).await;
        assert_eq!(next(&mut controller).await["type"], "awaiting_user");
        consent(&mut r.target, &r.session_id, json!({ "step": "rejected" })).await;
        let reason = "the user at the target rejected the session";
        assert_eq!(ended_reason(&app, &r.session_id).await, reason);
        let ended = tokio::time::timeout(DEADLINE, next(&mut controller)).await.unwrap();
        assert_eq!(ended, json!({ "type": "ended", "reason": reason }));
        assert_eq!(code_status(&app, &tech, &r.id).await, "rejected");
        let actions = app.audit_actions().await;
        assert!(actions.iter().any(|a| a == "session.user_rejected"), "{actions:?}");
        assert!(actions.iter().any(|a| a == "broker_session.rejected"), "{actions:?}");
    })
    .await;
}

#[tokio::test]
async fn no_answer_or_silence_ends_the_session() {
    on_each_backend(|app| async move {
        let Accounts { tech, .. } = accounts(&app).await;
        let (address, _stop) = common::serve(&app).await;

        let mut told = redeem_and_connect(&app, &tech, address).await;
        consent(&mut told.target, &told.session_id, json!({ "step": "asking", "timeout_secs": 30 })).await;
        consent(&mut told.target, &told.session_id, json!({ "step": "no_answer" })).await;
        assert_eq!(ended_reason(&app, &told.session_id).await, "the user at the target did not answer in time");
        assert_eq!(code_status(&app, &tech, &told.id).await, "expired");

        // A target that asks and then says nothing: the server's own clock.
        let mut silent = redeem_and_connect(&app, &tech, address).await;
        consent(&mut silent.target, &silent.session_id, json!({ "step": "asking", "timeout_secs": 1 })).await;
        assert_eq!(ended_reason(&app, &silent.session_id).await, "the user at the target did not answer within 1 s");
    })
    .await;
}

#[tokio::test]
async fn a_target_that_leaves_before_answering_ends_its_code_at_once() {
    on_each_backend(|app| async move {
        let Accounts { tech, .. } = accounts(&app).await;
        let (address, _stop) = common::serve(&app).await;
        let mut r = redeem_and_connect(&app, &tech, address).await;
        consent(&mut r.target, &r.session_id, json!({ "step": "asking", "timeout_secs": 60 })).await;
        eventually_status(&app, &tech, &r.id, "awaiting_acceptance").await;
        drop(r.target);
        assert_eq!(ended_reason(&app, &r.session_id).await, "the target disconnected");
        assert_eq!(code_status(&app, &tech, &r.id).await, "ended", "not left awaiting until its deadline");
        assert!(app.audit_actions().await.iter().any(|a| a == "broker_session.ended"));
    })
    .await;
}

#[tokio::test]
async fn consent_steps_out_of_place_change_nothing() {
    on_each_backend(|app| async move {
        let Accounts { tech, other, .. } = accounts(&app).await;
        let (address, _stop) = common::serve(&app).await;
        let mut r = redeem_and_connect(&app, &tech, address).await;
        let theirs = redeem_and_connect(&app, &other, address).await;
        let before = app.audit_len().await;
        for (session, step) in [
            (&r.session_id, json!({ "step": "accepted" })),
            (&r.session_id, json!({ "step": "rejected" })),
            (&r.session_id, json!({ "step": "asking", "timeout_secs": 0 })),
            (&r.session_id, json!({ "step": "asking", "timeout_secs": 601 })),
            (&theirs.session_id, json!({ "step": "asking", "timeout_secs": 30 })),
        ] {
            consent(&mut r.target, session, step).await;
        }
        // A malformed step is answered with an error; the socket stays.
        send(&mut r.target, json!({ "type": "consent", "session_id": r.session_id, "step": { "step": "maybe" } }))
            .await;
        assert_eq!(next(&mut r.target).await["type"], "error");
        consent(&mut r.target, &r.session_id, json!({ "step": "asking", "timeout_secs": 30 })).await;
        eventually_status(&app, &tech, &r.id, "awaiting_acceptance").await;
        assert_eq!(code_status(&app, &other, &theirs.id).await, "target_connected", "another session is untouched");
        assert_eq!(session_row(&app, &r.session_id).await.0, "asking");
        // Only the good question was audited (with its code event).
        assert_eq!(app.audit_len().await, before + 2);
    })
    .await;
}

#[tokio::test]
async fn a_code_keeps_the_policy_it_was_issued_under() {
    on_each_backend(|app| async move {
        let Accounts { tech, admin, .. } = accounts(&app).await;
        let asked = create(&app, &tech).await;
        set_policy(&app, &admin, json!({ "user_acceptance": false, "acceptance_timeout_secs": 30 })).await;
        let unasked = create(&app, &tech).await;

        let first = redeem(&app, asked.body["code"].as_str().unwrap()).await;
        assert_eq!(first.body["policy"]["user_acceptance"], true, "issued before the change");
        assert_eq!(first.body["policy"]["acceptance_timeout_secs"], 120);
        let second = redeem(&app, unasked.body["code"].as_str().unwrap()).await;
        assert_eq!(second.body["policy"]["user_acceptance"], false);
        assert_eq!(second.body["policy"]["acceptance_timeout_secs"], 30);
        let issued = app.audit_actions().await.iter().filter(|a| *a == "broker_session.issue").count();
        assert_eq!(issued, 2);
    })
    .await;
}
