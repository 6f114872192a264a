//! One `RTCPeerConnection` to the agent: a receive-only video transceiver
//! preferring H.264 Constrained Baseline, the ordered data channels of the
//! `input` and `control` tools (`tether_shared::tool`), opened with it, and
//! those of the other tools, opened on their first use (which is when the
//! person is asked, where the policy wants it); and its events. Dropping it
//! removes the handlers and closes the connection.

use crate::controller::codecs::preference_order;
use crate::controller::machine::PeerState;
use std::rc::Rc;
use tether_shared::signal::{IceServer, Signal};
use tether_shared::tool::Tool;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStreamTrack, RtcConfiguration, RtcDataChannel, RtcDataChannelInit, RtcDataChannelState, RtcIceCandidateInit,
    RtcIceServer, RtcOfferOptions, RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState,
    RtcRtpCodecCapability, RtcRtpReceiver, RtcRtpTransceiverDirection, RtcRtpTransceiverInit, RtcSdpType,
    RtcSessionDescriptionInit, RtcStatsReport, RtcTrackEvent,
};

/// What the peer connection reports.
#[derive(Debug, Clone)]
pub enum PeerEvent {
    /// A local ICE candidate to send (empty: gathering finished).
    Candidate(Signal),
    /// `connectionState` changed.
    State(PeerState),
    /// The remote video track arrived.
    Track(MediaStreamTrack),
    /// The input channel opened (true) or closed (false).
    InputChannel(bool),
    /// A text message on the control channel.
    Control(String),
    /// A text message on another tool's channel.
    ToolMessage(Tool, String),
    /// A binary message on another tool's channel (a file's chunk).
    ToolBinary(Tool, Vec<u8>),
    /// A tool's channel closed: the agent refused it (the mode lacks its
    /// access, or the person did not allow it) or the connection went.
    ToolClosed(Tool),
}

/// A JS error as text.
pub fn describe(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| format!("{error:?}"))
}

/// The peer connection with its channels and handlers.
pub struct PeerLink {
    connection: RtcPeerConnection,
    input: RtcDataChannel,
    control: RtcDataChannel,
    /// The other tools' channels, opened on first use, with what waits for
    /// each to open.
    tools: Vec<ToolChannel>,
    /// Where the connection's events go (for a reopened input channel).
    on_event: Rc<dyn Fn(PeerEvent)>,
    /// Kept alive while the link lives.
    handlers: Vec<Handler>,
}

/// A JS event handler.
type Handler = Closure<dyn FnMut(JsValue)>;

/// A tool's channel and the messages waiting for it to open.
struct ToolChannel {
    tool: Tool,
    channel: RtcDataChannel,
    pending: Rc<std::cell::RefCell<Vec<String>>>,
}

impl std::fmt::Debug for PeerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerLink").finish_non_exhaustive()
    }
}

fn handler(f: impl FnMut(JsValue) + 'static) -> Closure<dyn FnMut(JsValue)> {
    Closure::<dyn FnMut(JsValue)>::new(f)
}

fn configuration(ice_servers: &[IceServer]) -> RtcConfiguration {
    let servers = js_sys::Array::new();
    for server in ice_servers {
        let ice = RtcIceServer::new();
        let urls: js_sys::Array = server.urls.iter().map(|url| JsValue::from_str(url)).collect();
        ice.set_urls(&urls);
        if let Some(username) = &server.username {
            ice.set_username(username);
        }
        if let Some(credential) = &server.credential {
            ice.set_credential(credential);
        }
        servers.push(&ice);
    }
    let configuration = RtcConfiguration::new();
    configuration.set_ice_servers(&servers);
    configuration
}

/// Puts H.264 Constrained Baseline first in the transceiver's codec list.
fn prefer_h264(transceiver: &web_sys::RtcRtpTransceiver) -> Result<(), JsValue> {
    let Some(capabilities) = RtcRtpReceiver::get_capabilities("video") else { return Ok(()) };
    let codecs: Vec<RtcRtpCodecCapability> =
        capabilities.get_codecs().iter().map(|codec| codec.unchecked_into::<RtcRtpCodecCapability>()).collect();
    let described: Vec<(String, Option<String>)> =
        codecs.iter().map(|codec| (codec.get_mime_type(), codec.get_sdp_fmtp_line())).collect();
    let ordered: js_sys::Array = preference_order(&described).into_iter().map(|i| JsValue::from(&codecs[i])).collect();
    // Called through Reflect so that a browser refusing the list throws
    // into a `Result` here instead of through the wasm frame.
    let set = js_sys::Reflect::get(transceiver, &JsValue::from_str("setCodecPreferences"))?;
    set.dyn_into::<js_sys::Function>()?.call1(transceiver, &ordered)?;
    Ok(())
}

impl PeerLink {
    /// Creates the connection, its transceiver and channels; `on_event`
    /// hears what happens until the link is dropped.
    pub fn new(ice_servers: &[IceServer], on_event: Rc<dyn Fn(PeerEvent)>) -> Result<Self, JsValue> {
        let connection = RtcPeerConnection::new_with_configuration(&configuration(ice_servers))?;
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Recvonly);
        let transceiver = connection.add_transceiver_with_str_and_init("video", &init);
        if let Err(err) = prefer_h264(&transceiver) {
            web_sys::console::warn_1(&format!("keeping the browser's codec order: {}", describe(&err)).into());
        }
        let ordered = RtcDataChannelInit::new();
        ordered.set_ordered(true);
        let input = connection.create_data_channel_with_data_channel_dict(Tool::Input.label(), &ordered);
        let control = connection.create_data_channel_with_data_channel_dict(Tool::Control.label(), &ordered);

        let mut handlers = Vec::new();
        let emit = on_event.clone();
        let on_candidate = handler(move |event: JsValue| {
            let event = event.unchecked_into::<RtcPeerConnectionIceEvent>();
            let signal = match event.candidate() {
                Some(candidate) => Signal::Candidate {
                    candidate: candidate.candidate(),
                    sdp_mid: candidate.sdp_mid(),
                    sdp_mline_index: candidate.sdp_m_line_index(),
                    negotiation: None,
                },
                None => Signal::Candidate {
                    candidate: String::new(),
                    sdp_mid: None,
                    sdp_mline_index: None,
                    negotiation: None,
                },
            };
            emit(PeerEvent::Candidate(signal));
        });
        connection.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        handlers.push(on_candidate);

        let emit = on_event.clone();
        let watched = connection.clone();
        let on_state = handler(move |_| {
            let state = match watched.connection_state() {
                RtcPeerConnectionState::Connecting => PeerState::Connecting,
                RtcPeerConnectionState::Connected => PeerState::Connected,
                RtcPeerConnectionState::Disconnected => PeerState::Disconnected,
                RtcPeerConnectionState::Failed => PeerState::Failed,
                RtcPeerConnectionState::Closed => PeerState::Closed,
                _ => PeerState::New,
            };
            emit(PeerEvent::State(state));
        });
        connection.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        handlers.push(on_state);

        let emit = on_event.clone();
        let on_track = handler(move |event: JsValue| {
            let event = event.unchecked_into::<RtcTrackEvent>();
            emit(PeerEvent::Track(event.track()));
        });
        connection.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        handlers.push(on_track);

        follow_input(&input, &on_event, &mut handlers);

        let emit = on_event.clone();
        let on_control = handler(move |event: JsValue| {
            if let Some(text) = event.unchecked_into::<web_sys::MessageEvent>().data().as_string() {
                emit(PeerEvent::Control(text));
            }
        });
        control.set_onmessage(Some(on_control.as_ref().unchecked_ref()));
        handlers.push(on_control);

        Ok(Self { connection, input, control, tools: Vec::new(), on_event, handlers })
    }

    /// Opens a new `input` channel if the agent closed the last one (it
    /// refuses input in a mode without control): after a change to a mode
    /// with control. No renegotiation: the connection already carries
    /// data channels.
    pub fn reopen_input(&mut self) {
        if !matches!(self.input.ready_state(), RtcDataChannelState::Closing | RtcDataChannelState::Closed) {
            return;
        }
        self.input.set_onopen(None);
        self.input.set_onclose(None);
        let ordered = RtcDataChannelInit::new();
        ordered.set_ordered(true);
        self.input = self.connection.create_data_channel_with_data_channel_dict(Tool::Input.label(), &ordered);
        follow_input(&self.input, &self.on_event, &mut self.handlers);
    }

    /// The connection, to await its promises without holding the link.
    pub fn connection(&self) -> RtcPeerConnection {
        self.connection.clone()
    }

    /// Sends one encoded input event; false unless the channel is open.
    pub fn send_input(&self, text: &str) -> bool {
        self.input.ready_state() == RtcDataChannelState::Open && self.input.send_with_str(text).is_ok()
    }

    /// Sends one message on `tool`'s channel, opening it first where it is
    /// not open (the message goes once it opens).
    pub fn send_tool(&mut self, tool: Tool, text: String) {
        self.tools.retain(|channel| {
            !matches!(channel.channel.ready_state(), RtcDataChannelState::Closing | RtcDataChannelState::Closed)
        });
        if let Some(open) = self.tools.iter().find(|channel| channel.tool == tool) {
            if open.channel.ready_state() == RtcDataChannelState::Open {
                if open.channel.send_with_str(&text).is_err() {
                    (self.on_event)(PeerEvent::ToolClosed(tool));
                }
            } else {
                open.pending.borrow_mut().push(text);
            }
            return;
        }
        let ordered = RtcDataChannelInit::new();
        ordered.set_ordered(true);
        let channel = self.connection.create_data_channel_with_data_channel_dict(tool.label(), &ordered);
        let pending = Rc::new(std::cell::RefCell::new(vec![text]));
        let (queued, opened) = (pending.clone(), channel.clone());
        let on_open = handler(move |_| {
            for text in queued.borrow_mut().drain(..) {
                let _ = opened.send_with_str(&text);
            }
        });
        channel.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        let emit = self.on_event.clone();
        channel.set_binary_type(web_sys::RtcDataChannelType::Arraybuffer);
        let on_message = handler(move |event: JsValue| {
            let data = event.unchecked_into::<web_sys::MessageEvent>().data();
            match data.as_string() {
                Some(text) => emit(PeerEvent::ToolMessage(tool, text)),
                None => emit(PeerEvent::ToolBinary(tool, js_sys::Uint8Array::new(&data).to_vec())),
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        let emit = self.on_event.clone();
        let on_close = handler(move |_| emit(PeerEvent::ToolClosed(tool)));
        channel.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.handlers.extend([on_open, on_message, on_close]);
        self.tools.push(ToolChannel { tool, channel, pending });
    }

    /// Sends one binary message on `tool`'s open channel; false unless it
    /// is open.
    pub fn send_tool_binary(&self, tool: Tool, data: &[u8]) -> bool {
        self.tools.iter().any(|open| {
            open.tool == tool
                && open.channel.ready_state() == RtcDataChannelState::Open
                && open.channel.send_with_u8_array(data).is_ok()
        })
    }

    /// Sends one encoded control message; false unless the channel is open.
    pub fn send_control(&self, text: &str) -> bool {
        self.control.ready_state() == RtcDataChannelState::Open && self.control.send_with_str(text).is_ok()
    }
}

impl Drop for PeerLink {
    fn drop(&mut self) {
        self.connection.set_onicecandidate(None);
        self.connection.set_onconnectionstatechange(None);
        self.connection.set_ontrack(None);
        self.input.set_onopen(None);
        self.input.set_onclose(None);
        self.control.set_onmessage(None);
        self.input.close();
        self.control.close();
        for tool in &self.tools {
            tool.channel.set_onopen(None);
            tool.channel.set_onmessage(None);
            tool.channel.set_onclose(None);
            tool.channel.close();
        }
        self.connection.close();
    }
}

/// Tells `on_event` when the input channel opens and closes.
fn follow_input(input: &RtcDataChannel, on_event: &Rc<dyn Fn(PeerEvent)>, handlers: &mut Vec<Handler>) {
    let emit = on_event.clone();
    let on_open = handler(move |_| emit(PeerEvent::InputChannel(true)));
    input.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    handlers.push(on_open);
    let emit = on_event.clone();
    let on_close = handler(move |_| emit(PeerEvent::InputChannel(false)));
    input.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    handlers.push(on_close);
}

/// Creates an offer (restarting ICE if `ice_restart`) and sets it as the
/// local description; returns its SDP.
pub async fn make_offer(connection: &RtcPeerConnection, ice_restart: bool) -> Result<String, JsValue> {
    let options = RtcOfferOptions::new();
    options.set_ice_restart(ice_restart);
    let offer = JsFuture::from(connection.create_offer_with_rtc_offer_options(&options)).await?;
    let sdp = js_sys::Reflect::get(&offer, &JsValue::from_str("sdp"))?
        .as_string()
        .ok_or_else(|| JsValue::from_str("the offer has no SDP"))?;
    let description = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    description.set_sdp(&sdp);
    JsFuture::from(connection.set_local_description(&description)).await?;
    Ok(sdp)
}

/// What applying a remote signal started: await it for the outcome.
#[derive(Debug)]
pub enum Applying {
    /// Setting the answer; failure breaks the negotiation.
    Answer(JsFuture),
    /// Adding a candidate; failure costs one path at most.
    Candidate(JsFuture),
}

/// Starts applying the agent's answer or candidate. The promise is created
/// now, so the connection's operations chain keeps signals in arrival order
/// even though they are awaited later.
pub fn apply(connection: &RtcPeerConnection, signal: &Signal) -> Option<Applying> {
    match signal {
        Signal::Answer { sdp, .. } => {
            let description = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
            description.set_sdp(sdp);
            Some(Applying::Answer(JsFuture::from(connection.set_remote_description(&description))))
        }
        // The end of the agent's candidates needs a media section to name.
        Signal::Candidate { sdp_mid: None, sdp_mline_index: None, .. } => None,
        Signal::Candidate { candidate, sdp_mid, sdp_mline_index, .. } => {
            let init = RtcIceCandidateInit::new(candidate);
            init.set_sdp_mid(sdp_mid.as_deref());
            init.set_sdp_m_line_index(*sdp_mline_index);
            Some(Applying::Candidate(JsFuture::from(
                connection.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init)),
            )))
        }
        Signal::Offer { .. } | Signal::Bye { .. } => None,
    }
}

/// Every object of `getStats()` as JSON text.
pub async fn stats_objects(connection: &RtcPeerConnection) -> Result<Vec<String>, JsValue> {
    let report: RtcStatsReport = JsFuture::from(connection.get_stats()).await?.unchecked_into();
    let mut objects = Vec::new();
    for value in report.values() {
        if let Some(text) = js_sys::JSON::stringify(&value?)?.as_string() {
            objects.push(text);
        }
    }
    Ok(objects)
}
