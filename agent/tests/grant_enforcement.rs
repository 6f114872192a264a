//! A session enforces its grant on loopback with Xvfb, whatever arrives:
//! an offer from a controller the grant does not name is refused (and
//! reported), never answered or swapped in, while the granted controller
//! keeps its video; in Monitor the screen streams but the input channel is
//! refused; and a grant that narrows from Active to Monitor stops input at
//! once (reported), the X server never seeing the key.

#![allow(clippy::unwrap_used)]

mod common;

use common::Xvfb;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tether_agent::session::{Session, SessionConfig, SessionEvent, ToolAssent};
use tether_shared::mode::SessionMode;
use tether_shared::signal::{Refusal, Refused, Signal};
use tether_shared::{clipboard, system_info};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceCandidateInit, RTCPeerConnectionIceEvent, RTCSessionDescription,
};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::ConnectionExt;

const DEADLINE: Duration = Duration::from_secs(20);

struct Handler {
    candidates: mpsc::UnboundedSender<RTCIceCandidateInit>,
    packets: mpsc::UnboundedSender<()>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let _ = self.candidates.send(event.candidate.to_json().unwrap());
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let packets = self.packets.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if matches!(event, TrackRemoteEvent::OnRtpPacket(_)) && packets.send(()).is_err() {
                    break;
                }
            }
        });
    }
}

/// A controller connection (its own certificate) with an input channel.
struct Controller {
    connection: Arc<dyn PeerConnection>,
    input: Arc<dyn DataChannel>,
    packets: mpsc::UnboundedReceiver<()>,
}

impl Controller {
    async fn new(session: &Arc<Session>, negotiation: u64) -> Self {
        let (candidates, mut local_candidates) = mpsc::unbounded_channel();
        let (packets, received) = mpsc::unbounded_channel();
        let connection =
            common::controller::recv_only_controller(Arc::new(Handler { candidates, packets }), 108, None).await;
        let input = connection.create_data_channel("input", None).await.unwrap();
        connection.create_data_channel("control", None).await.unwrap();
        let to_agent = Arc::downgrade(session);
        tokio::spawn(async move {
            while let Some(init) = local_candidates.recv().await {
                let Some(session) = to_agent.upgrade() else { break };
                let signal = Signal::Candidate {
                    candidate: init.candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_mline_index: init.sdp_mline_index,
                    negotiation: Some(negotiation),
                };
                session.signal(signal).await;
            }
        });
        Self { connection, input, packets: received }
    }

    async fn offer(&self) -> String {
        let offer = self.connection.create_offer(None).await.unwrap();
        let sdp = offer.sdp.clone();
        self.connection.set_local_description(offer).await.unwrap();
        sdp
    }

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

/// A session on a fresh Xvfb; the agent's answers and candidates routed to
/// controllers by negotiation id, its refusals on a channel of their own.
struct Harness {
    xvfb: Xvfb,
    /// Kept open: Xvfb resets when its last client leaves.
    _scene: (x11rb::rust_connection::RustConnection, u32),
    session: Arc<Session>,
    routes: Arc<Mutex<HashMap<u64, Arc<dyn PeerConnection>>>>,
    answers: mpsc::UnboundedReceiver<u64>,
    refusals: mpsc::UnboundedReceiver<Refusal>,
}

impl Harness {
    fn start() -> Self {
        Self::start_with(ToolAssent::default())
    }

    /// A harness whose session asks (or does not ask) about tools as `assent` says.
    fn start_with(assent: ToolAssent) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("TETHER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let xvfb = Xvfb::start(640, 360);
        let scene = common::draw_scene(&xvfb.display);
        let (agent_events, mut from_agent) = mpsc::unbounded_channel();
        let config = SessionConfig {
            udp_addrs: vec!["127.0.0.1:0".into()],
            display: Some(xvfb.display.clone()),
            ..SessionConfig::default()
        };
        let session = Arc::new(Session::start("s1".into(), vec![], config, assent, agent_events));
        let routes: Arc<Mutex<HashMap<u64, Arc<dyn PeerConnection>>>> = Arc::default();
        let (answered, answers) = mpsc::unbounded_channel();
        let (refused, refusals) = mpsc::unbounded_channel();
        let to_controllers = Arc::clone(&routes);
        tokio::spawn(async move {
            while let Some(event) = from_agent.recv().await {
                let signal = match event {
                    SessionEvent::Signal { signal, .. } => signal,
                    SessionEvent::Refused { refusal, .. } => {
                        let _ = refused.send(refusal);
                        continue;
                    }
                    SessionEvent::Ended { reason, .. } => panic!("the session ended: {reason}"),
                    SessionEvent::Tool { .. } => continue,
                    SessionEvent::Consent { .. }
                    | SessionEvent::ModeAnswer { .. }
                    | SessionEvent::EndedFromBar { .. } => {
                        panic!("a session never reports the person's answers")
                    }
                };
                let target = signal.negotiation().and_then(|n| to_controllers.lock().unwrap().get(&n).cloned());
                match (signal, target) {
                    (Signal::Answer { negotiation, sdp }, Some(connection)) => {
                        connection.set_remote_description(RTCSessionDescription::answer(sdp).unwrap()).await.unwrap();
                        let _ = answered.send(negotiation);
                    }
                    (Signal::Candidate { candidate, sdp_mid, sdp_mline_index, .. }, Some(connection)) => {
                        let init = RTCIceCandidateInit { candidate, sdp_mid, sdp_mline_index, ..Default::default() };
                        let _ = connection.add_ice_candidate(init).await;
                    }
                    (signal, _) => panic!("unroutable agent signal {signal:?}"),
                }
            }
        });
        Self { xvfb, _scene: scene, session, routes, answers, refusals }
    }

    /// A new controller, offering as negotiation `negotiation`; granted in
    /// `mode` first unless `mode` is `None`. Returns it once its offer was
    /// handed over.
    async fn offer(&mut self, negotiation: u64, mode: Option<SessionMode>) -> Controller {
        let controller = Controller::new(&self.session, negotiation).await;
        self.routes.lock().unwrap().insert(negotiation, Arc::clone(&controller.connection));
        let sdp = controller.offer().await;
        if let Some(mode) = mode {
            assert!(self.session.grant(common::grants::for_offer("s1", &sdp, mode)).await);
        }
        assert!(self.session.signal(Signal::Offer { negotiation, sdp }).await);
        controller
    }

    async fn answered(&mut self) -> u64 {
        tokio::time::timeout(DEADLINE, self.answers.recv()).await.expect("an answer in time").unwrap()
    }

    async fn refusal(&mut self) -> Refusal {
        tokio::time::timeout(DEADLINE, self.refusals.recv()).await.expect("a refusal in time").unwrap()
    }
}

async fn wait_open(channel: &Arc<dyn DataChannel>) {
    tokio::time::timeout(DEADLINE, async {
        while let Some(event) = channel.poll().await {
            if matches!(event, DataChannelEvent::OnOpen) {
                return;
            }
        }
        panic!("a data channel closed before opening");
    })
    .await
    .expect("a data channel did not open in time");
}

fn key_down(conn: &impl Connection, keycode: u8) -> bool {
    let keys = conn.query_keymap().unwrap().reply().unwrap().keys;
    keys[usize::from(keycode / 8)] & (1 << (keycode % 8)) != 0
}

fn pointer(conn: &impl Connection) -> (i16, i16) {
    let root = conn.setup().roots[0].root;
    let reply = conn.query_pointer(root).unwrap().reply().unwrap();
    (reply.root_x, reply.root_y)
}

/// Polls the X server until `check` holds, with a deadline.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_from_a_controller_the_grant_does_not_name_is_refused_never_swapped_in() {
    let mut h = Harness::start();

    // Before any grant, nobody is answered.
    let _ungranted = h.offer(1, None).await;
    let refusal = h.refusal().await;
    assert_eq!(refusal.what, Refused::Offer);
    assert!(refusal.reason.contains("no grant"), "{}", refusal.reason);

    let mut granted = h.offer(2, Some(SessionMode::Active)).await;
    assert_eq!(h.answered().await, 2);
    granted.receives_video("the granted controller").await;

    // Another connection offers without a grant naming it: refused, and the
    // granted controller keeps the session.
    let _intruder = h.offer(3, None).await;
    let refusal = h.refusal().await;
    assert_eq!(refusal.what, Refused::Offer);
    assert!(refusal.reason.contains("does not name"), "{}", refusal.reason);
    granted.receives_video("the granted controller, after the refused offer").await;
    assert!(h.answers.try_recv().is_err(), "the intruder was never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_streams_but_never_injects_and_a_narrowed_grant_stops_input_at_once() {
    let mut h = Harness::start();
    let x = x11rb::connect(Some(&h.xvfb.display)).unwrap().0;

    // Monitor: frames, but the input channel is refused.
    let mut monitor = h.offer(1, Some(SessionMode::Monitor)).await;
    assert_eq!(h.answered().await, 1);
    monitor.receives_video("in Monitor").await;
    let refusal = h.refusal().await;
    assert_eq!(refusal.what, Refused::Channel, "{refusal:?}");
    assert!(refusal.reason.contains("input"), "{}", refusal.reason);
    drop(monitor);

    // Active on a new connection: input reaches the display.
    let mut active = h.offer(2, Some(SessionMode::Active)).await;
    assert_eq!(h.answered().await, 2);
    active.receives_video("in Active").await;
    wait_open(&active.input).await;
    active.input.send_text(r#"{"t":"mouse_move","x":300,"y":200}"#).await.unwrap();
    eventually("the pointer moved", || pointer(&x) == (300, 200)).await;

    // The grant narrows to Monitor for the same controller: a key sent now
    // is refused, reported, and never typed.
    let sdp = active.connection.local_description().await.unwrap().sdp;
    assert!(h.session.grant(common::grants::for_offer("s1", &sdp, SessionMode::Monitor)).await);
    let mut refusal = None;
    let deadline = Instant::now() + DEADLINE;
    while refusal.is_none() {
        assert!(Instant::now() < deadline, "input was not refused after the grant narrowed");
        active.input.send_text(r#"{"t":"key","key":"KeyA","down":true}"#).await.unwrap();
        refusal = tokio::time::timeout(Duration::from_millis(200), h.refusals.recv()).await.ok().flatten();
    }
    assert_eq!(refusal.unwrap().what, Refused::Input);

    // Control comes back: later input lands, the refused key never did.
    assert!(h.session.grant(common::grants::for_offer("s1", &sdp, SessionMode::Active)).await);
    let deadline = Instant::now() + DEADLINE;
    while pointer(&x) != (310, 210) {
        assert!(Instant::now() < deadline, "input did not come back with control");
        active.input.send_text(r#"{"t":"mouse_move","x":310,"y":210}"#).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!key_down(&x, 38), "the key sent while in Monitor reached the display");
    active.receives_video("still streaming").await;
}

/// Opens `label` on `controller`'s connection and sends `request` once it opens; the first answer.
async fn ask_tool(controller: &Controller, label: &str, request: &str) -> String {
    let channel = controller.connection.create_data_channel(label, None).await.unwrap();
    wait_open(&channel).await;
    channel.send_text(request).await.unwrap();
    tokio::time::timeout(DEADLINE, async {
        while let Some(event) = channel.poll().await {
            if let DataChannelEvent::OnMessage(message) = event {
                return String::from_utf8(message.data.to_vec()).unwrap();
            }
        }
        panic!("the {label} channel closed unanswered");
    })
    .await
    .unwrap_or_else(|_| panic!("no answer on {label} in time"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_is_refused_beyond_the_grant_and_where_the_person_must_allow_it_but_nobody_can() {
    let mut h = Harness::start();
    let monitor = h.offer(1, Some(SessionMode::Monitor)).await;
    assert_eq!(h.answered().await, 1);
    assert!(h.refusal().await.reason.contains("input"), "Monitor refuses input first");
    let _clipboard = monitor.connection.create_data_channel("clipboard", None).await.unwrap();
    let refusal = h.refusal().await;
    assert_eq!(refusal.what, Refused::Channel);
    assert!(refusal.reason.contains("Clipboard") && refusal.reason.contains("Monitor"), "{}", refusal.reason);

    // Active covers it, but the policy wants the person to allow it and nobody can be asked.
    let sdp = monitor.connection.local_description().await.unwrap().sdp;
    assert!(h.session.grant(common::grants::for_offer("s1", &sdp, SessionMode::Active)).await);
    let _system = monitor.connection.create_data_channel("system", None).await.unwrap();
    let refusal = h.refusal().await;
    assert!(refusal.reason.contains("nobody can be asked"), "{}", refusal.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unattended_session_reads_system_information_but_not_another_displays_clipboard() {
    let mut h = Harness::start_with(ToolAssent::new(None, true));
    let active = h.offer(1, Some(SessionMode::Active)).await;
    assert_eq!(h.answered().await, 1);
    let answer = ask_tool(&active, "system", r#"{"t":"refresh"}"#).await;
    match system_info::decode_from_agent(answer.as_bytes()) {
        Ok(system_info::AgentToController::Report(report)) => assert!(report.cpu.cores > 0, "{report:?}"),
        other => panic!("no report: {other:?}"),
    }
    // The session shows the test's Xvfb, which is not this process's DISPLAY: the clipboard
    // (reachable only through DISPLAY) says so rather than touch another display's.
    let answer = ask_tool(&active, "clipboard", r#"{"t":"set","text":"from the technician"}"#).await;
    match clipboard::decode_from_agent(answer.as_bytes()) {
        Ok(clipboard::AgentToController::Failed { reason }) => assert!(reason.contains("DISPLAY"), "{reason}"),
        other => panic!("the clipboard of another display was used: {other:?}"),
    }
}
