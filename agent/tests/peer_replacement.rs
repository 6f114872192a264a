//! One session, several controller connections, on loopback with Xvfb: a
//! controller whose page reloaded (a new webrtc-rs connection, so a new
//! DTLS fingerprint) gets a fresh peer and video again; an offer from the
//! same connection is an ICE restart on the existing peer (the agent keeps
//! its certificate); a stale offer is dropped without an answer. Agent
//! signals are routed to the controller by the negotiation id they echo.

#![allow(clippy::unwrap_used)]

mod common;

use common::Xvfb;
use common::session_harness::Handler;
use rtc::peer_connection::configuration::RTCOfferOptions;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_agent::session::{Session, SessionConfig, SessionEvent, ToolAssent};
use tether_shared::mode::SessionMode;
use tether_shared::signal::{Signal, dtls_fingerprint};
use tokio::sync::mpsc;
use webrtc::peer_connection::{PeerConnection, RTCIceCandidateInit, RTCSessionDescription};

const DEADLINE: Duration = Duration::from_secs(20);

/// A controller connection; forwards its candidates and video packets.
struct Controller {
    connection: Arc<dyn PeerConnection>,
    packets: mpsc::UnboundedReceiver<()>,
}

/// Where each negotiation's answer and candidates go.
type Routes = Arc<Mutex<HashMap<u64, Arc<dyn PeerConnection>>>>;

impl Controller {
    /// A new connection (new certificate), receive-only video and an input channel.
    async fn new(session: &Arc<Session>, negotiation: Arc<Mutex<u64>>) -> Self {
        let (candidates, mut local_candidates) = mpsc::unbounded_channel();
        let (packets, packets_received) = mpsc::unbounded_channel();
        let connection =
            common::controller::recv_only_controller(Arc::new(Handler { candidates, packets }), 108, None).await;
        connection.create_data_channel("input", None).await.unwrap();
        let to_agent = Arc::downgrade(session);
        tokio::spawn(async move {
            while let Some(init) = local_candidates.recv().await {
                let Some(session) = to_agent.upgrade() else { break };
                let tag = *negotiation.lock().unwrap();
                let signal = Signal::Candidate {
                    candidate: init.candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_mline_index: init.sdp_mline_index,
                    negotiation: Some(tag),
                };
                session.signal(signal).await;
            }
        });
        Self { connection, packets: packets_received }
    }

    /// Makes an offer and returns its SDP.
    async fn offer(&self, ice_restart: bool) -> String {
        let options = RTCOfferOptions { ice_restart };
        let offer = self.connection.create_offer(Some(options)).await.unwrap();
        let sdp = offer.sdp.clone();
        self.connection.set_local_description(offer).await.unwrap();
        sdp
    }

    /// Waits for video packets to arrive (after draining old ones).
    async fn receives_video(&mut self, what: &str) {
        while self.packets.try_recv().is_ok() {}
        for _ in 0..3 {
            tokio::time::timeout(DEADLINE, self.packets.recv())
                .await
                .unwrap_or_else(|_| panic!("{what}: no video in time"))
                .unwrap();
        }
    }
}

/// Routes the agent's answers and candidates by negotiation id; answers
/// also come out on the returned channel.
fn route_agent_signals(
    mut from_agent: mpsc::UnboundedReceiver<SessionEvent>,
    routes: Routes,
) -> mpsc::UnboundedReceiver<(u64, String)> {
    let (answers, answered) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = from_agent.recv().await {
            let signal = match event {
                SessionEvent::Signal { signal, .. } => signal,
                SessionEvent::Refused { refusal, .. } => panic!("the agent refused {refusal:?}"),
                SessionEvent::Ended { .. } | SessionEvent::Tool { .. } | SessionEvent::InUse { .. } => continue,
                SessionEvent::Consent { .. }
                | SessionEvent::ModeAnswer { .. }
                | SessionEvent::EndedFromBar { .. }
                | SessionEvent::BarChat { .. } => {
                    panic!("a session never reports the person's answers")
                }
            };
            let target = signal.negotiation().and_then(|n| routes.lock().unwrap().get(&n).cloned());
            match (signal, target) {
                (Signal::Answer { negotiation, sdp }, Some(connection)) => {
                    connection
                        .set_remote_description(RTCSessionDescription::answer(sdp.clone()).unwrap())
                        .await
                        .unwrap();
                    let _ = answers.send((negotiation, sdp));
                }
                (Signal::Candidate { candidate, sdp_mid, sdp_mline_index, .. }, Some(connection)) => {
                    let init = RTCIceCandidateInit { candidate, sdp_mid, sdp_mline_index, ..Default::default() };
                    let _ = connection.add_ice_candidate(init).await;
                }
                (Signal::Bye { reason }, _) => panic!("the agent ended the session: {reason}"),
                (signal, _) => panic!("unroutable agent signal {signal:?}"),
            }
        }
    });
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_controller_connection_gets_a_fresh_peer_and_a_restart_keeps_it() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("TETHER_LOG").unwrap_or_else(|_| "warn".into()))
        .with_test_writer()
        .try_init();
    let xvfb = Xvfb::start(640, 360);
    common::draw_scene(&xvfb.display);
    let (agent_events, from_agent) = mpsc::unbounded_channel();
    let config = SessionConfig {
        udp_addrs: vec!["127.0.0.1:0".into()],
        display: Some(xvfb.display.clone()),
        ..SessionConfig::default()
    };
    let session = Arc::new(Session::start("s1".into(), vec![], config, ToolAssent::default(), agent_events));
    let routes: Routes = Arc::default();
    let mut answers = route_agent_signals(from_agent, Arc::clone(&routes));
    let mut next_answer = async || tokio::time::timeout(DEADLINE, answers.recv()).await.expect("an answer").unwrap();

    // The first page.
    let tag = Arc::new(Mutex::new(1));
    let mut first = Controller::new(&session, Arc::clone(&tag)).await;
    routes.lock().unwrap().insert(1, Arc::clone(&first.connection));
    let sdp = first.offer(false).await;
    assert!(session.grant(common::grants::for_offer("s1", &sdp, SessionMode::Active)).await);
    assert!(session.signal(Signal::Offer { negotiation: 1, sdp }).await);
    let (negotiation, first_answer) = next_answer().await;
    assert_eq!(negotiation, 1);
    first.receives_video("the first page").await;

    // The page reloads: a new connection with its own certificate.
    let reloaded_tag = Arc::new(Mutex::new(2));
    let mut reloaded = Controller::new(&session, Arc::clone(&reloaded_tag)).await;
    routes.lock().unwrap().insert(2, Arc::clone(&reloaded.connection));
    let sdp = reloaded.offer(false).await;
    assert_ne!(dtls_fingerprint(&sdp), dtls_fingerprint(&first.connection.local_description().await.unwrap().sdp));
    // The server grants the reloaded page's connection before relaying its offer.
    assert!(session.grant(common::grants::for_offer("s1", &sdp, SessionMode::Active)).await);
    assert!(session.signal(Signal::Offer { negotiation: 2, sdp }).await);
    let (negotiation, second_answer) = next_answer().await;
    assert_eq!(negotiation, 2);
    assert_ne!(
        dtls_fingerprint(&second_answer),
        dtls_fingerprint(&first_answer),
        "a new controller connection gets a new agent peer"
    );
    reloaded.receives_video("the reloaded page").await;

    // A stale offer (the old page's number) is dropped: no answer.
    let stale = first.offer(true).await;
    assert!(session.signal(Signal::Offer { negotiation: 1, sdp: stale }).await);

    // An ICE restart on the reloaded page's connection keeps the peer.
    *reloaded_tag.lock().unwrap() = 3;
    routes.lock().unwrap().insert(3, Arc::clone(&reloaded.connection));
    let sdp = reloaded.offer(true).await;
    assert!(session.signal(Signal::Offer { negotiation: 3, sdp }).await);
    let (negotiation, third_answer) = next_answer().await;
    assert_eq!(negotiation, 3, "the stale offer got no answer");
    assert_eq!(dtls_fingerprint(&third_answer), dtls_fingerprint(&second_answer), "same peer, same certificate");
    reloaded.receives_video("after the ICE restart").await;

    drop(session);
    first.connection.close().await.unwrap();
    reloaded.connection.close().await.unwrap();
}
