//! The WebRTC peer of one session: a PeerConnection with H.264 registered the
//! way Chromium takes it, one outgoing video track, and an event handler that
//! forwards everything the session cares about into a channel.

use super::SessionConfig;
use super::keyframe::forward_keyframe_requests;
use super::turn_tunnel::{self, Tunnels};
use anyhow::Context;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::MIME_TYPE_H264;
use rtc::peer_connection::configuration::setting_engine::SctpMaxMessageSize;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use std::sync::Arc;
use tether_shared::signal::IceServer;
use tether_shared::tool_message::MAX_DATA_CHANNEL_MESSAGE_BYTES;
use tokio::sync::mpsc::UnboundedSender;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfigurationBuilder,
    RTCIceCandidateInit, RTCIceGatheringState, RTCIceServer, RTCPeerConnectionIceEvent, RTCPeerConnectionState,
    Registry, SettingEngineBuilder, register_default_interceptors,
};
use webrtc::rtp_transceiver::RtpSender;

/// The payload type we register; the offerer's own number wins (Chromium
/// picked 108 in trials), so the sender reads the negotiated one.
const H264_PAYLOAD_TYPE: u8 = 102;

/// What the PeerConnection tells the session.
pub enum PeerEvent {
    /// A local ICE candidate to trickle to the controller.
    LocalCandidate(RTCIceCandidateInit),
    /// Every local candidate has been announced.
    GatheringComplete,
    /// The connection's overall state changed.
    State(RTCPeerConnectionState),
    /// The controller opened a data channel.
    DataChannel(Arc<dyn DataChannel>),
}

impl std::fmt::Debug for PeerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::LocalCandidate(candidate) => f.debug_tuple("LocalCandidate").field(&candidate.candidate).finish(),
            Self::GatheringComplete => f.write_str("GatheringComplete"),
            Self::State(state) => f.debug_tuple("State").field(state).finish(),
            Self::DataChannel(channel) => f.debug_tuple("DataChannel").field(&channel.id()).finish(),
        }
    }
}

/// A built peer with its video track attached, and the tunnels its TURN
/// over TCP goes through (they live as long as it does).
pub struct Peer {
    pub connection: Arc<dyn PeerConnection>,
    pub track: Arc<TrackLocalStaticSample>,
    pub sender: Arc<dyn RtpSender>,
    pub ssrc: u32,
    pub tunnels: Tunnels,
}

/// The H.264 codec as Chromium decodes it without a GPU: Constrained
/// Baseline, packetization-mode 1, with the feedback it uses.
pub fn h264_codec() -> RTCRtpCodec {
    let feedback = |typ: &str, parameter: &str| RTCPFeedback { typ: typ.into(), parameter: parameter.into() };
    RTCRtpCodec {
        mime_type: MIME_TYPE_H264.into(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f".into(),
        rtcp_feedback: vec![
            feedback("goog-remb", ""),
            feedback("ccm", "fir"),
            feedback("nack", ""),
            feedback("nack", "pli"),
        ],
    }
}

/// Builds the PeerConnection, bound to the configured addresses, and adds
/// the video track.
///
/// mDNS (resolving the browser's `.local` host candidates) needs a multicast
/// group, which a host without a default route cannot join; webrtc-rs then
/// refuses to build the peer at all. Such a host still reaches the browser
/// through its other candidates and the broker, so the peer is built again
/// without mDNS rather than failing the session.
pub async fn build(
    ice_servers: &[IceServer],
    config: &SessionConfig,
    events: UnboundedSender<PeerEvent>,
) -> anyhow::Result<Peer> {
    let (ice_servers, tunnels) = turn_tunnel::open(ice_servers, turn_tunnel::local_address(&config.udp_addrs)).await;
    let ice_servers = ice_servers.as_slice();
    let built = match build_with(ice_servers, config, events.clone(), MulticastDnsMode::QueryOnly).await {
        Ok(peer) => Ok(peer),
        Err(err) => {
            tracing::warn!(
                error = format!("{err:#}"),
                "building the WebRTC peer with mDNS failed; trying again without mDNS \
                 (the browser's .local candidates will not be resolved)"
            );
            build_with(ice_servers, config, events, MulticastDnsMode::Disabled).await
        }
    };
    let (connection, track, sender, ssrc) = built?;
    Ok(Peer { connection, track, sender, ssrc, tunnels })
}

/// A connection, its video track, the track's sender and its SSRC.
type Built = (Arc<dyn PeerConnection>, Arc<TrackLocalStaticSample>, Arc<dyn RtpSender>, u32);

async fn build_with(
    ice_servers: &[IceServer],
    config: &SessionConfig,
    events: UnboundedSender<PeerEvent>,
    mdns: MulticastDnsMode,
) -> anyhow::Result<Built> {
    let mut media_engine = MediaEngine::default();
    media_engine
        .register_codec(
            RTCRtpCodecParameters { rtp_codec: h264_codec(), payload_type: H264_PAYLOAD_TYPE },
            RtpCodecKind::Video,
        )
        .context("cannot register H.264")?;
    let registry = register_default_interceptors(Registry::new(), &mut media_engine)
        .context("cannot register the default interceptors")?;
    let registry = forward_keyframe_requests(registry);
    let configuration = RTCConfigurationBuilder::new()
        .with_ice_servers(
            ice_servers
                .iter()
                .map(|server| RTCIceServer {
                    urls: server.urls.clone(),
                    username: server.username.clone().unwrap_or_default(),
                    credential: server.credential.clone().unwrap_or_default(),
                })
                .collect(),
        )
        .build();
    let timeouts = config.ice_timeouts;
    let settings = SettingEngineBuilder::new()
        .with_ice_timeouts(Some(timeouts.disconnected), Some(timeouts.failed), None)
        .with_multicast_dns_mode(mdns)
        // The tools' messages (a clipboard, a system report, a file's chunk) go up to this.
        .with_sctp_max_message_size(SctpMaxMessageSize::Bounded(MAX_DATA_CHANNEL_MESSAGE_BYTES as u32))
        .build();
    let connection = PeerConnectionBuilder::new()
        .with_configuration(configuration)
        .with_setting_engine(settings)
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .with_handler(Arc::new(Forwarder { events }))
        .with_udp_addrs(config.udp_addrs.clone())
        .build()
        .await
        .context("cannot create the WebRTC peer")?;
    let connection: Arc<dyn PeerConnection> = Arc::new(connection);

    let ssrc = rand::random::<u32>();
    let track = Arc::new(
        TrackLocalStaticSample::new(
            std::time::Instant::now(),
            MediaStreamTrack::new(
                "tether-screen".into(),
                "tether-screen-video".into(),
                "screen".into(),
                RtpCodecKind::Video,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters { ssrc: Some(ssrc), ..Default::default() },
                    codec: h264_codec(),
                    ..Default::default()
                }],
            ),
        )
        .context("cannot create the video track")?,
    );
    // Added before the offer is applied, so the offer's receive-only video
    // section pairs with this track and the answer says send-only.
    let sender =
        connection.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>).await.context("cannot add the video track")?;
    Ok((connection, track, sender, ssrc))
}

/// Forwards PeerConnection callbacks to the session's channel. The channel
/// is unbounded so the connection's driver, which runs these callbacks,
/// never waits on the session.
struct Forwarder {
    events: UnboundedSender<PeerEvent>,
}

impl Forwarder {
    fn forward(&self, event: PeerEvent) {
        if self.events.send(event).is_err() {
            tracing::debug!("peer event after the session ended");
        }
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Forwarder {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        match event.candidate.to_json() {
            Ok(candidate) => self.forward(PeerEvent::LocalCandidate(candidate)),
            Err(err) => tracing::warn!(error = %err, "cannot describe a local ICE candidate"),
        }
    }

    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            self.forward(PeerEvent::GatheringComplete);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.forward(PeerEvent::State(state));
    }

    async fn on_data_channel(&self, channel: Arc<dyn DataChannel>) {
        self.forward(PeerEvent::DataChannel(channel));
    }
}
