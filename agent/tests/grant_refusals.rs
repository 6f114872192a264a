//! An enrolled agent (the real link) against a real `tether-server` (in
//! process, SQLite, loopback) refuses what its pinned key and its session
//! do not vouch for, and the server audits each refusal
//! (`session.refused`): a grant signed by another key than the pinned one
//! (the session never starts), an expired grant and a grant for another
//! session (each ends its session), and an offer from a controller no
//! grant names (never answered). A genuine grant still starts a session.

#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use tether_agent::config::AgentConfig;
use tether_agent::link::{self, Consent, LinkOptions};
use tether_agent::session::SessionConfig;
use tether_agent::trust::{ServerTrust, unix_millis};
use tether_server::auth::rate_limit::LoginLimits;
use tether_server::auth::tokens::TokenKeys;
use tether_server::state::AppState;
use tether_server::store::Store;
use tether_server::{app, bootstrap, db};
use tether_shared::grant::Grant;
use tether_shared::local_floor::LocalFloor;
use tether_shared::mode::SessionMode;
use tether_shared::signal::{ServerToAgent, Signal};

const DEADLINE: Duration = Duration::from_secs(20);

/// A running server with an enrolled agent's configuration and a
/// technician's token.
struct Setup {
    url: String,
    state: AppState,
    technician: String,
    auditor: String,
    config: AgentConfig,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn call(method: reqwest::Method, url: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

async fn log_in(url: &str, username: &str, password: &str, new_password: &str) -> String {
    let credentials = json!({ "username": username, "password": password });
    let (_, reply) = call(reqwest::Method::POST, &format!("{url}/api/auth/login"), None, Some(credentials)).await;
    let token = reply["access_token"].as_str().unwrap_or_else(|| panic!("login: {reply}")).to_owned();
    let change = json!({ "current_password": password, "new_password": new_password });
    let (status, _) = call(reqwest::Method::POST, &format!("{url}/api/me/password"), Some(&token), Some(change)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    token
}

async fn setup() -> Setup {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TETHER_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("tether-agent-grants-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::new(db::connect(&format!("sqlite://{}/tether.db", dir.display())).await.unwrap());
    let admin = bootstrap::first_admin(&store).await.unwrap().unwrap();
    let limits = LoginLimits { account_burst: 1000, source_burst: 1000, ..LoginLimits::default() };
    let state = AppState::new(store, TokenKeys::ephemeral().unwrap(), limits, false).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app::serve(listener, app::api(state.clone()), async {
        let _ = stopped.await;
    }));
    let admin = log_in(&url, "admin", &admin.one_time_password, "admin chosen password").await;
    // Unattended access needs the policy too (the agent runs with its floor lifted).
    let policies = format!("{url}/api/policies/default");
    let (_, mut policy) = call(reqwest::Method::GET, &policies, Some(&admin), None).await;
    policy["access"]["unattended"] = json!(true);
    let (status, _) = call(reqwest::Method::PUT, &policies, Some(&admin), Some(policy)).await;
    assert_eq!(status, StatusCode::OK);
    let tess = json!({ "username": "tess", "display_name": "Tess", "role": "technician", "password": "tess initial password" });
    let (status, _) = call(reqwest::Method::POST, &format!("{url}/api/users"), Some(&admin), Some(tess)).await;
    assert_eq!(status, StatusCode::CREATED);
    let technician = log_in(&url, "tess", "tess initial password", "tess chosen password").await;
    let audrey = json!({ "username": "audrey", "display_name": "Audrey", "role": "auditor", "password": "audrey initial password" });
    let (status, _) = call(reqwest::Method::POST, &format!("{url}/api/users"), Some(&admin), Some(audrey)).await;
    assert_eq!(status, StatusCode::CREATED);
    let auditor = log_in(&url, "audrey", "audrey initial password", "audrey chosen password").await;
    let body = json!({ "label": "lab", "ttl_minutes": 60, "max_uses": 1 });
    let (_, token) =
        call(reqwest::Method::POST, &format!("{url}/api/enrollment-tokens"), Some(&admin), Some(body)).await;
    let config = tether_agent::enroll::enroll(&url, token["token"].as_str().unwrap()).await.unwrap();
    assert_eq!(config.grant_key, Some(state.grant_key.public()), "enrollment pins the server's key");
    Setup { url, state, technician, auditor, config, _stop: stop }
}

impl Setup {
    fn agent_id(&self) -> String {
        self.config.agent_id.clone().unwrap()
    }

    /// Runs the agent's link (unattended) trusting `trust`, until dropped.
    fn run_agent(&self, trust: ServerTrust) -> tokio::sync::oneshot::Sender<()> {
        let options = LinkOptions {
            consent: Consent::Enrolled { agent_id: self.agent_id(), floor: LocalFloor::NONE },
            session: SessionConfig { udp_addrs: vec!["127.0.0.1:0".into()], ..SessionConfig::default() },
            notify: tether_agent::notice::Notify::ignore(),
            trust,
            asker: None,
            requests: None,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(link::run(self.config.clone(), options, async {
            let _ = stopped.await;
        }));
        stop
    }

    async fn wait_online(&self) {
        let give_up = tokio::time::Instant::now() + DEADLINE;
        while !self.state.hub.is_online(&self.agent_id()) {
            assert!(tokio::time::Instant::now() < give_up, "the agent did not come online");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn open_session(&self) -> String {
        let body = json!({ "target_id": self.agent_id() });
        let (status, reply) =
            call(reqwest::Method::POST, &format!("{}/api/sessions", self.url), Some(&self.technician), Some(body))
                .await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        reply["id"].as_str().unwrap().to_owned()
    }

    /// The session's timeline as its auditor reads it.
    async fn timeline(&self, session_id: &str) -> Value {
        let url = format!("{}/api/sessions/{session_id}/timeline", self.url);
        let (status, reply) = call(reqwest::Method::GET, &url, Some(&self.auditor), None).await;
        assert_eq!(status, StatusCode::OK, "{reply}");
        reply
    }

    /// The `session.refused` entries in the session's timeline (their
    /// details), once there are `count`.
    async fn refusals(&self, session_id: &str, count: usize) -> Vec<Value> {
        let give_up = tokio::time::Instant::now() + DEADLINE;
        loop {
            let timeline = self.timeline(session_id).await;
            let refused: Vec<Value> = timeline["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|entry| entry["action"] == "session.refused")
                .map(|entry| entry["details"].clone())
                .collect();
            if refused.len() >= count {
                return refused;
            }
            assert!(tokio::time::Instant::now() < give_up, "{count} refusal(s) of {session_id} audited: {timeline}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the session's state is `wanted`.
    async fn session_becomes(&self, session_id: &str, wanted: &str) {
        let give_up = tokio::time::Instant::now() + DEADLINE;
        loop {
            let timeline = self.timeline(session_id).await;
            if timeline["session"]["state"] == wanted {
                return;
            }
            assert!(tokio::time::Instant::now() < give_up, "session {session_id} is not {wanted}: {timeline}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A grant the server's own key signs, for tampering with its fields.
    fn grant(&self, session_id: &str) -> Grant {
        let now = unix_millis();
        Grant {
            session_id: session_id.into(),
            technician_id: "someone".into(),
            technician_name: "Tess".into(),
            target: self.agent_id(),
            mode: SessionMode::Active,
            access: SessionMode::Active.access(),
            controller_fingerprint: Some("sha-256 aa:bb".into()),
            unattended: true,
            allowed_modes: tether_shared::mode::ModeSet::of(&[SessionMode::Active]),
            user_acceptance: true,
            assent_each_time: tether_shared::access::AccessSet::all(),
            acceptance_timeout_secs: 120,
            max_file_mib: Some(10_240),
            issued_at: now,
            expires_at: now + 60_000,
            key_id: String::new(),
        }
    }

    /// Sends the agent a grant for `session_id` as the server would.
    fn send_grant(&self, session_id: &str, grant: &Grant) {
        let message = ServerToAgent::Grant {
            session_id: session_id.into(),
            grant: self.state.grant_key.sign(grant),
            requested: false,
        };
        assert!(self.state.hub.send(&self.agent_id(), message));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_signed_by_another_key_starts_nothing_and_is_audited() {
    let s = setup().await;
    let impostor = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let _agent = s.run_agent(ServerTrust::pinned(impostor));
    s.wait_online().await;
    let session_id = s.open_session().await;
    let refusals = s.refusals(&session_id, 1).await;
    assert_eq!(
        refusals[0],
        json!({ "session_id": session_id, "what": "grant", "reason": "the grant was signed by an unknown key" })
    );
    s.session_becomes(&session_id, "ended").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_misdirected_grants_and_unnamed_controllers_are_refused_and_audited() {
    let s = setup().await;
    let _agent = s.run_agent(ServerTrust::from_config(&s.config).unwrap());
    s.wait_online().await;

    // An offer from a controller no grant names: never answered.
    let unnamed = s.open_session().await;
    let sdp = "v=0\r\na=fingerprint:sha-256 AA:BB\r\n".to_owned();
    let offer = ServerToAgent::Signal { session_id: unnamed.clone(), signal: Signal::Offer { negotiation: 1, sdp } };
    assert!(s.state.hub.send(&s.agent_id(), offer));
    let refusal = &s.refusals(&unnamed, 1).await[0];
    assert_eq!(refusal["what"], "offer");
    assert!(refusal["reason"].as_str().unwrap().contains("does not name"), "{refusal}");

    // An expired grant ends its session.
    let expired_session = s.open_session().await;
    let mut expired = s.grant(&expired_session);
    (expired.issued_at, expired.expires_at) = (expired.issued_at - 600_000, expired.issued_at - 300_000);
    s.send_grant(&expired_session, &expired);
    let refusal = &s.refusals(&expired_session, 1).await[0];
    assert_eq!((refusal["what"].as_str(), refusal["reason"].as_str()), (Some("grant"), Some("the grant has expired")));
    s.session_becomes(&expired_session, "ended").await;

    // A genuine grant for one session, sent as another's, ends that one.
    let other = s.open_session().await;
    s.send_grant(&other, &s.grant(&unnamed));
    let refusal = &s.refusals(&other, 1).await[0];
    assert_eq!(refusal["reason"], "the grant is for another session");
    s.session_becomes(&other, "ended").await;
    // The session the offer was refused in goes on.
    s.session_becomes(&unnamed, "requested").await;
}
