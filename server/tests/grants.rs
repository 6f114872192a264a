//! Session grants: the server's grant key is published (`GET
//! /api/grant-key`, and in the enrollment's answer), every session request
//! carries a signed grant and every relayed offer is preceded by one bound
//! to the offering controller's DTLS fingerprint, each audited
//! `session.grant` before it is sent; the agent's refusals are audited
//! `session.refused`, and only for its own sessions.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::on_each_backend;
use common::ws::{connect_controller, next, open_session, send, setup};
use serde_json::{Value, json};
use tether_shared::access::AccessSet;
use tether_shared::grant::{Expectation, PublicGrantKey, SignedGrant, verify};
use tether_shared::mode::SessionMode;

fn now_ms() -> i64 {
    tether_server::store::now_ms()
}

#[tokio::test]
async fn grants_are_signed_bound_to_the_offering_controller_and_audited() {
    on_each_backend(|app| async move {
        let mut s = setup(&app).await;
        let published = app.call(Method::GET, "/api/grant-key", None, None).await;
        assert_eq!(published.status, StatusCode::OK);
        let public: PublicGrantKey = serde_json::from_value(published.body.clone()).unwrap();
        let key = public.verifying_key().expect("a well-formed key");
        assert_eq!(public, app.state.grant_key.public(), "the state's key is the one published");

        let session_id = open_session(&app, &mut s).await;
        let requested = app.audit_details("session.grant").await;
        assert_eq!(requested.len(), 1, "the request's grant was audited before it was sent");
        assert_eq!(requested[0]["controller_fingerprint"], Value::Null);

        let (mut controller, ready) = connect_controller(s.address, &session_id, &s.technician).await;
        assert_eq!(ready["type"], "ready");
        let sdp = "v=0\r\na=fingerprint:sha-256 AB:CD:EF\r\n";
        send(&mut controller, json!({ "type": "signal", "signal": { "kind": "offer", "negotiation": 1, "sdp": sdp } }))
            .await;
        let message = next(&mut s.agent).await;
        assert_eq!((message["type"].as_str(), message["session_id"].as_str()), (Some("grant"), Some(&*session_id)));
        let signed: SignedGrant = serde_json::from_value(message["grant"].clone()).unwrap();
        let expected = Expectation { session_id: &session_id, target: &s.agent_id, now: now_ms() };
        let grant = verify(&signed, &key, expected).expect("the grant verifies with the published key");
        assert_eq!((grant.mode, grant.access), (SessionMode::Active, AccessSet::all()));
        assert!(grant.matches_controller("sha-256 ab:cd:ef"), "{grant:?}");
        assert!(!grant.unattended, "the default policy does not allow unattended access: the agent asks");
        assert_eq!(grant.technician_name, "tech");
        assert!(grant.expires_at > grant.issued_at && grant.expires_at <= now_ms() + 5 * 60 * 1000);
        assert_eq!(next(&mut s.agent).await["signal"]["kind"], "offer", "the offer follows its grant");

        let offered = app.audit_details("session.grant").await;
        assert_eq!(offered.len(), 2);
        assert_eq!(
            (offered[1]["controller_fingerprint"].as_str(), offered[1]["mode"].as_str()),
            (Some("sha-256 ab:cd:ef"), Some("active"))
        );
        assert_eq!(offered[1]["access"], json!(AccessSet::all()));

        // Wrong-key grants are refused by the agent, which says so.
        let other = format!("{session_id}-not-mine");
        for session in [&session_id, &other] {
            let refused = json!({ "type": "refused", "session_id": session, "refusal": { "what": "grant", "reason": "the grant was signed by an unknown key" } });
            send(&mut s.agent, refused).await;
        }
        let refusals = common::ws::eventually("the refusal audited", || async {
            let entries = app.audit_details("session.refused").await;
            (!entries.is_empty()).then_some(entries)
        })
        .await;
        assert_eq!(
            refusals,
            [json!({ "session_id": session_id, "what": "grant", "reason": "the grant was signed by an unknown key" })]
        );
        // Only its own session's: the second was for no session of this agent.
        send(&mut s.agent, json!({ "type": "refused", "session_id": session_id, "refusal": { "what": "offer", "reason": "r" } }))
            .await;
        common::ws::eventually("the second refusal", || async { (app.audit_details("session.refused").await.len() == 2).then_some(()) })
            .await;
    })
    .await;
}

#[tokio::test]
async fn enrollment_hands_the_agent_the_grant_key() {
    on_each_backend(|app| async move {
        let admin = app.admin_token().await;
        let token = common::enrollment_token(&app, &admin, 1).await;
        let enrolled = common::enroll(&app, &token, "pc-9").await;
        assert_eq!(enrolled.status, StatusCode::CREATED);
        let public: PublicGrantKey = serde_json::from_value(enrolled.body["grant_key"].clone()).unwrap();
        assert_eq!(public, app.state.grant_key.public());
        assert!(public.verifying_key().is_ok());
    })
    .await;
}
