//! A live session on Xvfb driven by a webrtc-rs controller on loopback:
//! offers routed by negotiation id, grants handed over as the server would,
//! the session's refusals and tool events on channels of their own.

use super::Xvfb;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_agent::session::{FilesConfig, Session, SessionConfig, SessionEvent, ToolAssent};
use tether_shared::access::AccessSet;
use tether_shared::mode::SessionMode;
use tether_shared::signal::{Refusal, Signal, ToolEvent};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceCandidateInit, RTCPeerConnectionIceEvent, RTCSessionDescription,
};

pub const DEADLINE: Duration = Duration::from_secs(20);

/// A controller's events: its ICE candidates and one `()` per video packet.
pub struct Handler {
    pub candidates: mpsc::UnboundedSender<RTCIceCandidateInit>,
    pub packets: mpsc::UnboundedSender<()>,
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
/// A webrtc-rs controller: receives video, opens `input` and `control`.
pub struct Controller {
    pub connection: Arc<dyn PeerConnection>,
    pub input: Arc<dyn DataChannel>,
    packets: mpsc::UnboundedReceiver<()>,
}

impl Controller {
    pub async fn new(session: &Arc<Session>, negotiation: u64) -> Self {
        let (candidates, mut local_candidates) = mpsc::unbounded_channel();
        let (packets, received) = mpsc::unbounded_channel();
        let connection =
            super::controller::recv_only_controller(Arc::new(Handler { candidates, packets }), 108, None).await;
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

    pub async fn offer(&self) -> String {
        let offer = self.connection.create_offer(None).await.unwrap();
        let sdp = offer.sdp.clone();
        self.connection.set_local_description(offer).await.unwrap();
        sdp
    }

    pub async fn receives_video(&mut self, what: &str) {
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
pub struct Harness {
    pub xvfb: Xvfb,
    /// Kept open: Xvfb resets when its last client leaves.
    _scene: (x11rb::rust_connection::RustConnection, u32),
    pub session: Arc<Session>,
    routes: Arc<Mutex<HashMap<u64, Arc<dyn PeerConnection>>>>,
    pub answers: mpsc::UnboundedReceiver<u64>,
    pub refusals: mpsc::UnboundedReceiver<Refusal>,
    /// What the session did with its tools.
    pub tools: mpsc::UnboundedReceiver<ToolEvent>,
    /// What was in use (and the moving file's progress), each time it changed.
    pub in_use: mpsc::UnboundedReceiver<(AccessSet, Option<String>)>,
}

impl Harness {
    pub fn start() -> Self {
        Self::start_with(ToolAssent::default(), SessionConfig::default().files)
    }

    /// A harness whose session asks (or does not ask) about tools as `assent` says.
    pub fn start_with(assent: ToolAssent, files: FilesConfig) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("TETHER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let xvfb = Xvfb::start(640, 360);
        let scene = super::draw_scene(&xvfb.display);
        let (agent_events, mut from_agent) = mpsc::unbounded_channel();
        let config = SessionConfig {
            udp_addrs: vec!["127.0.0.1:0".into()],
            display: Some(xvfb.display.clone()),
            files,
            ..SessionConfig::default()
        };
        let session = Arc::new(Session::start("s1".into(), vec![], config, assent, agent_events));
        let routes: Arc<Mutex<HashMap<u64, Arc<dyn PeerConnection>>>> = Arc::default();
        let (answered, answers) = mpsc::unbounded_channel();
        let (refused, refusals) = mpsc::unbounded_channel();
        let (used, tools) = mpsc::unbounded_channel();
        let (in_use_now, in_use) = mpsc::unbounded_channel();
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
                    SessionEvent::Tool { event, .. } => {
                        let _ = used.send(event);
                        continue;
                    }
                    SessionEvent::InUse { in_use, transfer, .. } => {
                        let _ = in_use_now.send((in_use, transfer));
                        continue;
                    }
                    SessionEvent::Consent { .. }
                    | SessionEvent::ModeAnswer { .. }
                    | SessionEvent::EndedFromBar { .. }
                    | SessionEvent::BarChat { .. } => {
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
        Self { xvfb, _scene: scene, session, routes, answers, refusals, tools, in_use }
    }

    /// A new controller, offering as negotiation `negotiation`; granted in
    /// `mode` first unless `mode` is `None`. Returns it once its offer was
    /// handed over.
    pub async fn offer(&mut self, negotiation: u64, mode: Option<SessionMode>) -> Controller {
        let controller = Controller::new(&self.session, negotiation).await;
        self.routes.lock().unwrap().insert(negotiation, Arc::clone(&controller.connection));
        let sdp = controller.offer().await;
        if let Some(mode) = mode {
            assert!(self.session.grant(super::grants::for_offer("s1", &sdp, mode)).await);
        }
        assert!(self.session.signal(Signal::Offer { negotiation, sdp }).await);
        controller
    }

    pub async fn answered(&mut self) -> u64 {
        tokio::time::timeout(DEADLINE, self.answers.recv()).await.expect("an answer in time").unwrap()
    }

    pub async fn refusal(&mut self) -> Refusal {
        tokio::time::timeout(DEADLINE, self.refusals.recv()).await.expect("a refusal in time").unwrap()
    }
}

/// Waits for `channel` to open.
pub async fn wait_open(channel: &Arc<dyn DataChannel>) {
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
