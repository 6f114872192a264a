//! The live screen end to end on loopback: an agent [`Session`] streams a
//! known scene from Xvfb to a controller built with webrtc-rs (offering
//! receive-only H.264 and an `input` data channel, as the browser does);
//! the controller depacketises, decodes with openh264 and checks colours,
//! then drives the pointer and keyboard through the data channel and checks
//! the X server saw it. Bad input is dropped and the session stays up. Over
//! the `control` channel a quality change applies live (acknowledged, the
//! picture shrinks, input stays in screen pixels) and the pointer's
//! position and shape come back.

#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::{BLUE, RED, Xvfb, draw_scene};
use openh264::decoder::Decoder;
use openh264::formats::YUVSource;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp::codec::h264::H264Packet;
use rtc::rtp::packetizer::Depacketizer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tether_agent::encode::nal_units;
use tether_agent::session::{IceTimeouts, Session, SessionConfig, SessionEvent, ToolAssent};
use tether_shared::control::{AgentToController, ControllerToAgent, QualityPreset, decode_from_agent, encode};
use tether_shared::mode::SessionMode;
use tether_shared::signal::Signal;
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceCandidateInit, RTCIceGatheringState, RTCPeerConnectionIceEvent,
    RTCSessionDescription,
};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ChangeWindowAttributesAux, ConfigureWindowAux, ConnectionExt, KeyButMask};

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 720;
/// Chromium picks its own H.264 payload type; so does this controller.
const CONTROLLER_PAYLOAD_TYPE: u8 = 108;
const DEADLINE: Duration = Duration::from_secs(20);

/// One received access unit.
struct Unit {
    data: Vec<u8>,
    rtp_timestamp: u32,
    arrived: Instant,
}

impl Unit {
    fn is_key_frame(&self) -> bool {
        nal_units(&self.data).iter().any(|nal| nal.first().is_some_and(|b| b & 0x1f == 5))
    }
}

/// A decoded picture.
struct Picture {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Picture {
    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    fn shows(&self, x: usize, y: usize, pixel: u32) -> bool {
        let want = [(pixel >> 16) as u8, (pixel >> 8) as u8, pixel as u8];
        self.at(x, y).iter().zip(want).all(|(got, want)| got.abs_diff(want) <= 12)
    }
}

/// The controller's callbacks, forwarded to the test.
struct ControllerHandler {
    candidates: mpsc::UnboundedSender<RTCIceCandidateInit>,
    tracks: mpsc::UnboundedSender<Arc<dyn TrackRemote>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for ControllerHandler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        let _ = self.candidates.send(event.candidate.to_json().unwrap());
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.candidates.send(RTCIceCandidateInit::default());
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let _ = self.tracks.send(track);
    }
}

/// An agent session on Xvfb and a controller connected to it.
struct Harness {
    _xvfb: Xvfb,
    display: String,
    scene: (x11rb::rust_connection::RustConnection, u32),
    session: Option<Arc<Session>>,
    controller: Arc<dyn PeerConnection>,
    input: Arc<dyn DataChannel>,
    control: Arc<dyn DataChannel>,
    /// Every message the agent sent on `control`, decoded strictly.
    from_agent: mpsc::UnboundedReceiver<AgentToController>,
    track: Arc<dyn TrackRemote>,
    units: mpsc::UnboundedReceiver<Unit>,
    decoder: Decoder,
    agent_byes: mpsc::UnboundedReceiver<String>,
    ended: mpsc::UnboundedReceiver<String>,
    offered_at: Instant,
}

impl Harness {
    async fn start() -> Self {
        Self::start_with(IceTimeouts::default()).await
    }

    async fn start_with(ice_timeouts: IceTimeouts) -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("TETHER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .with_test_writer()
            .try_init();
        let xvfb = Xvfb::start(WIDTH, HEIGHT);
        let scene = draw_scene(&xvfb.display);
        let display = xvfb.display.clone();

        let (agent_events, mut from_agent) = mpsc::unbounded_channel();
        let config = SessionConfig {
            udp_addrs: vec!["127.0.0.1:0".into()],
            display: Some(display.clone()),
            ice_timeouts,
            // Short, for the test where the controller disappears.
            rejoin_timeout: Duration::from_millis(500),
            ..SessionConfig::default()
        };
        let session = Arc::new(Session::start("s1".into(), vec![], config, ToolAssent::default(), agent_events));

        let (candidates, mut local_candidates) = mpsc::unbounded_channel();
        let (tracks, mut new_tracks) = mpsc::unbounded_channel();
        let controller = common::controller::recv_only_controller(
            Arc::new(ControllerHandler { candidates, tracks }),
            CONTROLLER_PAYLOAD_TYPE,
            None,
        )
        .await;
        let input = controller.create_data_channel("input", None).await.unwrap();
        let control = controller.create_data_channel("control", None).await.unwrap();

        // Signalling, as the server relays it: the agent's answer and
        // candidates to the controller, the controller's candidates to the agent.
        let (byes, agent_byes) = mpsc::unbounded_channel();
        let (ended_sender, ended) = mpsc::unbounded_channel();
        let to_controller = Arc::clone(&controller);
        tokio::spawn(async move {
            while let Some(event) = from_agent.recv().await {
                match event {
                    SessionEvent::Signal { signal: Signal::Answer { sdp, .. }, .. } => {
                        to_controller
                            .set_remote_description(RTCSessionDescription::answer(sdp).unwrap())
                            .await
                            .unwrap();
                    }
                    SessionEvent::Signal {
                        signal: Signal::Candidate { candidate, sdp_mid, sdp_mline_index, .. },
                        ..
                    } => {
                        let init = RTCIceCandidateInit { candidate, sdp_mid, sdp_mline_index, ..Default::default() };
                        to_controller.add_ice_candidate(init).await.unwrap();
                    }
                    SessionEvent::Signal { signal: Signal::Bye { reason }, .. } => {
                        let _ = byes.send(reason);
                    }
                    SessionEvent::Signal { signal, .. } => panic!("the agent sent {signal:?}"),
                    SessionEvent::Ended { reason, .. } => {
                        let _ = ended_sender.send(reason);
                    }
                    SessionEvent::Refused { refusal, .. } => panic!("the agent refused {refusal:?}"),
                    SessionEvent::Tool { .. } | SessionEvent::InUse { .. } => {}
                    SessionEvent::Consent { .. }
                    | SessionEvent::ModeAnswer { .. }
                    | SessionEvent::EndedFromBar { .. }
                    | SessionEvent::BarChat { .. } => {
                        panic!("a session never reports the person's answers")
                    }
                }
            }
        });
        let to_agent = Arc::downgrade(&session);
        tokio::spawn(async move {
            while let Some(init) = local_candidates.recv().await {
                let Some(session) = to_agent.upgrade() else { break };
                let signal = Signal::Candidate {
                    candidate: init.candidate,
                    sdp_mid: init.sdp_mid,
                    sdp_mline_index: init.sdp_mline_index,
                    negotiation: Some(1),
                };
                session.signal(signal).await;
            }
        });

        let offer = controller.create_offer(None).await.unwrap();
        let sdp = offer.sdp.clone();
        controller.set_local_description(offer).await.unwrap();
        let offered_at = Instant::now();
        assert!(session.grant(common::grants::for_offer("s1", &sdp, SessionMode::Active)).await);
        assert!(session.signal(Signal::Offer { negotiation: 1, sdp }).await);

        let track = tokio::time::timeout(DEADLINE, new_tracks.recv()).await.expect("no video track").unwrap();
        let units = receive_units(Arc::clone(&track));
        wait_open(&input).await;
        wait_open(&control).await;
        let from_agent = receive_control(Arc::clone(&control));
        Self {
            _xvfb: xvfb,
            display,
            scene,
            session: Some(session),
            controller,
            input,
            control,
            from_agent,
            track,
            units,
            decoder: Decoder::new().unwrap(),
            agent_byes,
            ended,
            offered_at,
        }
    }

    async fn next_unit(&mut self) -> Unit {
        tokio::time::timeout(DEADLINE, self.units.recv()).await.expect("no video arrived in time").unwrap()
    }

    /// Decodes units until one yields a picture.
    async fn next_picture(&mut self) -> Picture {
        loop {
            let unit = self.next_unit().await;
            if let Some(yuv) = self.decoder.decode(&unit.data).unwrap() {
                let (width, height) = yuv.dimensions();
                let mut rgb = vec![0; width * height * 3];
                yuv.write_rgb8(&mut rgb);
                return Picture { width, height, rgb };
            }
        }
    }

    /// Waits for a picture that satisfies `check`.
    async fn picture_where(&mut self, what: &str, check: impl Fn(&Picture) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if check(&self.next_picture().await) {
                return;
            }
        }
        panic!("no picture {what} in time");
    }

    async fn send_input(&self, text: &str) {
        self.input.send_text(text).await.unwrap();
    }

    async fn set_quality(&self, preset: QualityPreset) {
        self.control.send_text(&encode(&ControllerToAgent::SetQuality { preset })).await.unwrap();
    }

    /// Waits for a control message that satisfies `check`, skipping others.
    async fn control_where(&mut self, what: &str, check: impl Fn(&AgentToController) -> bool) -> AgentToController {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = tokio::time::timeout(left, self.from_agent.recv())
                .await
                .unwrap_or_else(|_| panic!("no control message {what} in time"))
                .expect("the control channel closed");
            if check(&message) {
                return message;
            }
        }
    }

    /// Moves the scene's blue window.
    fn move_window(&self, x: i32, y: i32) {
        let (conn, window) = &self.scene;
        conn.configure_window(*window, &ConfigureWindowAux::new().x(x).y(y)).unwrap();
        conn.flush().unwrap();
    }

    fn x(&self) -> x11rb::rust_connection::RustConnection {
        x11rb::connect(Some(&self.display)).unwrap().0
    }
}

/// Collects each access unit (all packets up to the marker) of the track.
fn receive_units(track: Arc<dyn TrackRemote>) -> mpsc::UnboundedReceiver<Unit> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut depacketizer = H264Packet::default();
        let mut data = Vec::new();
        while let Some(event) = track.poll().await {
            if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                let payload: Bytes = packet.payload.clone();
                data.extend_from_slice(&depacketizer.depacketize(&payload).unwrap());
                if packet.header.marker {
                    let unit = Unit {
                        data: std::mem::take(&mut data),
                        rtp_timestamp: packet.header.timestamp,
                        arrived: Instant::now(),
                    };
                    if sender.send(unit).is_err() {
                        break;
                    }
                }
            }
        }
    });
    receiver
}

/// Decodes every message of the control channel, as the web controller does.
fn receive_control(channel: Arc<dyn DataChannel>) -> mpsc::UnboundedReceiver<AgentToController> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = channel.poll().await {
            if let DataChannelEvent::OnMessage(message) = event {
                let decoded = decode_from_agent(&message.data).expect("the agent sends valid control messages");
                if sender.send(decoded).is_err() {
                    break;
                }
            }
        }
    });
    receiver
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

/// Polls the X server until `check` holds, with a deadline.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn pointer(conn: &impl Connection) -> (i16, i16, KeyButMask) {
    let root = conn.setup().roots[0].root;
    let reply = conn.query_pointer(root).unwrap().reply().unwrap();
    (reply.root_x, reply.root_y, reply.mask)
}

fn key_down(conn: &impl Connection, keycode: u8) -> bool {
    let keys = conn.query_keymap().unwrap().reply().unwrap().keys;
    keys[usize::from(keycode / 8)] & (1 << (keycode % 8)) != 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_the_screen_and_obeys_input() {
    let mut h = Harness::start().await;

    // The first picture shows the scene.
    let first = h.next_picture().await;
    let first_frame_after = h.offered_at.elapsed();
    eprintln!("offer → first decoded frame: {first_frame_after:?}");
    assert!(first.shows(5, 5, RED), "background {:?}", first.at(5, 5));
    assert!(first.shows(90, 70, BLUE), "window {:?}", first.at(90, 70));
    assert!(first.shows(1270, 710, RED), "far corner {:?}", first.at(1270, 710));

    // A change on screen reaches the viewer.
    h.move_window(600, 400);
    h.picture_where("with the window moved", |p| p.shows(650, 440, BLUE) && p.shows(90, 70, RED)).await;

    // The pointer follows the controller; a click presses and releases.
    let x = h.x();
    h.send_input(r#"{"t":"mouse_move","x":300,"y":200}"#).await;
    eventually("pointer at (300, 200)", || {
        let (px, py, _) = pointer(&x);
        (px, py) == (300, 200)
    })
    .await;
    h.send_input(r#"{"t":"mouse_button","button":"left","down":true,"x":310,"y":210}"#).await;
    eventually("left button down at (310, 210)", || {
        let (px, py, mask) = pointer(&x);
        (px, py) == (310, 210) && mask.contains(KeyButMask::BUTTON1)
    })
    .await;
    h.send_input(r#"{"t":"mouse_button","button":"left","down":false,"x":310,"y":210}"#).await;
    eventually("left button released", || !pointer(&x).2.contains(KeyButMask::BUTTON1)).await;

    // Keys are physical keys; release_all lets go of everything.
    h.send_input(r#"{"t":"key","key":"ShiftLeft","down":true}"#).await;
    h.send_input(r#"{"t":"key","key":"KeyA","down":true}"#).await;
    eventually("Shift and A held", || key_down(&x, 50) && key_down(&x, 38)).await;
    h.send_input(r#"{"t":"release_all"}"#).await;
    eventually("everything released", || !key_down(&x, 50) && !key_down(&x, 38)).await;

    // Malformed and off-screen messages are dropped; the session goes on.
    h.send_input("not json").await;
    h.send_input(r#"{"t":"mouse_move","x":5000,"y":10}"#).await;
    h.send_input(r#"{"t":"format_disk"}"#).await;
    h.send_input(r#"{"t":"mouse_move","x":400,"y":250}"#).await;
    eventually("pointer at (400, 250)", || {
        let (px, py, _) = pointer(&x);
        (px, py) == (400, 250)
    })
    .await;
    h.move_window(100, 500);
    h.picture_where("with the window moved again", |p| p.shows(150, 540, BLUE)).await;

    // A picture loss indication brings a key frame while the screen is still.
    while h.units.try_recv().is_ok() {}
    let ssrc = h.track.ssrcs().await[0];
    h.track.write_rtcp(vec![Box::new(PictureLossIndication { sender_ssrc: 0, media_ssrc: ssrc })]).await.unwrap();
    let key_frame_deadline = Instant::now() + DEADLINE;
    loop {
        assert!(Instant::now() < key_frame_deadline, "no key frame after PLI");
        if h.next_unit().await.is_key_frame() {
            break;
        }
    }

    // On a still screen one frame a second arrives, its RTP timestamp
    // following the wall clock.
    let a = h.next_unit().await;
    let b = h.next_unit().await;
    let wall = b.arrived - a.arrived;
    let rtp = Duration::from_micros(u64::from(b.rtp_timestamp.wrapping_sub(a.rtp_timestamp)) * 1_000_000 / 90_000);
    assert!(wall > Duration::from_millis(800), "idle frames came {wall:?} apart");
    assert!(rtp.abs_diff(wall) < Duration::from_millis(100), "RTP says {rtp:?}, the wall clock {wall:?}");

    // Bye ends the session without a bye back.
    let session = h.session.take().unwrap();
    assert!(session.signal(Signal::Bye { reason: "done".into() }).await);
    let reason = tokio::time::timeout(DEADLINE, h.ended.recv()).await.expect("session did not end").unwrap();
    assert!(reason.contains("done"), "{reason}");
    assert!(h.agent_byes.try_recv().is_err(), "the agent answered bye with bye");
    h.controller.close().await.unwrap();
}

fn is_applied(message: &AgentToController, want: QualityPreset) -> bool {
    matches!(message, AgentToController::Applied { preset, .. } if *preset == want)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_changes_apply_live() {
    let mut h = Harness::start().await;
    let first = h.next_picture().await;
    assert_eq!((first.width, first.height), (1280, 720));
    let balanced = h.control_where("applied: balanced", |m| is_applied(m, QualityPreset::Balanced)).await;
    assert_eq!(
        balanced,
        AgentToController::applied(
            QualityPreset::Balanced,
            tether_shared::input::ScreenSize { width: WIDTH, height: HEIGHT }
        )
    );

    // Speed: acknowledged, then pictures at half size showing the same scene.
    h.control.send_text("{\"t\":\"set_quality\",\"preset\":\"turbo\"}").await.unwrap();
    h.set_quality(QualityPreset::Speed).await;
    let speed = h.control_where("applied: speed", |m| is_applied(m, QualityPreset::Speed)).await;
    let AgentToController::Applied { scale_percent, max_fps, screen_width, screen_height, .. } = speed else {
        unreachable!()
    };
    assert_eq!((scale_percent, max_fps, screen_width, screen_height), (50, 20, WIDTH, HEIGHT));
    h.picture_where("at half size", |p| {
        (p.width, p.height) == (640, 360) && p.shows(45, 35, BLUE) && p.shows(5, 5, RED)
    })
    .await;

    // Input stays in screen pixels, beyond the scaled picture's size.
    let x = h.x();
    h.send_input(r#"{"t":"mouse_move","x":1000,"y":600}"#).await;
    eventually("pointer at (1000, 600)", || {
        let (px, py, _) = pointer(&x);
        (px, py) == (1000, 600)
    })
    .await;

    // Quality: full size again; asking again for it says so again.
    h.set_quality(QualityPreset::Quality).await;
    h.control_where("applied: quality", |m| is_applied(m, QualityPreset::Quality)).await;
    h.picture_where("at full size", |p| (p.width, p.height) == (1280, 720) && p.shows(90, 70, BLUE)).await;
    h.set_quality(QualityPreset::Quality).await;
    h.control_where("applied again: quality", |m| is_applied(m, QualityPreset::Quality)).await;
    h.controller.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_the_pointer_and_its_shape() {
    let mut h = Harness::start().await;
    let AgentToController::CursorShape(first) =
        h.control_where("a cursor shape", |m| matches!(m, AgentToController::CursorShape(_))).await
    else {
        unreachable!()
    };
    assert!(first.width > 0 && first.height > 0);

    // Moved on the target (as its user would), and through the controller's input.
    let x = h.x();
    let root = x.setup().roots[0].root;
    x.warp_pointer(x11rb::NONE, root, 0, 0, 0, 0, 321, 123).unwrap();
    x.flush().unwrap();
    h.control_where("the pointer at (321, 123)", |m| {
        *m == AgentToController::Cursor { x: 321, y: 123, visible: true, shape: first.id }
    })
    .await;
    h.send_input(r#"{"t":"mouse_move","x":700,"y":500}"#).await;
    h.control_where("the pointer at (700, 500)", |m| matches!(m, AgentToController::Cursor { x: 700, y: 500, .. }))
        .await;

    // A new shape (the root window's cursor becomes the text beam) is sent
    // once, then named by the cursor messages.
    let font = x.generate_id().unwrap();
    x.open_font(font, b"cursor").unwrap();
    let beam = x.generate_id().unwrap();
    const XC_XTERM: u16 = 152;
    x.create_glyph_cursor(beam, font, font, XC_XTERM, XC_XTERM + 1, 0, 0, 0, 0xffff, 0xffff, 0xffff).unwrap();
    x.change_window_attributes(root, &ChangeWindowAttributesAux::new().cursor(beam)).unwrap();
    x.flush().unwrap();
    let AgentToController::CursorShape(second) = h
        .control_where("the text beam's shape", |m| matches!(m, AgentToController::CursorShape(s) if s.id != first.id))
        .await
    else {
        unreachable!()
    };
    x.warp_pointer(x11rb::NONE, root, 0, 0, 0, 0, 400, 300).unwrap();
    x.flush().unwrap();
    h.control_where("the pointer with the text beam", |m| {
        *m == AgentToController::Cursor { x: 400, y: 300, visible: true, shape: second.id }
    })
    .await;
    h.controller.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ends_with_a_bye_when_the_controller_disappears() {
    let timeouts = IceTimeouts { disconnected: Duration::from_millis(500), failed: Duration::from_secs(1) };
    let mut h = Harness::start_with(timeouts).await;
    h.next_picture().await;
    h.controller.close().await.unwrap();
    let bye = tokio::time::timeout(DEADLINE, h.agent_byes.recv()).await.expect("no bye").unwrap();
    assert!(bye.contains("connection"), "{bye}");
    let reason = tokio::time::timeout(DEADLINE, h.ended.recv()).await.expect("session did not end").unwrap();
    assert_eq!(reason, bye);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ends_when_dropped() {
    let mut h = Harness::start().await;
    h.next_picture().await;
    drop(h.session.take());
    let reason = tokio::time::timeout(DEADLINE, h.ended.recv()).await.expect("session did not end").unwrap();
    assert_eq!(reason, "the agent ended the session");
    assert!(h.agent_byes.try_recv().is_err());
    h.controller.close().await.unwrap();
}
