//! A controller peer like the technician's browser, built with webrtc-rs:
//! H.264 registered, receive-only video, bound to loopback.

use rtc::peer_connection::configuration::setting_engine::SctpMaxMessageSize;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodecParameters, RtpCodecKind};
use rtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};
use std::sync::Arc;
use tether_agent::session::peer::h264_codec;
use tether_shared::tool_message::MAX_DATA_CHANNEL_MESSAGE_BYTES;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler, RTCConfiguration, Registry,
    SettingEngineBuilder, register_default_interceptors,
};

/// A new controller connection (its own certificate) with H.264 at
/// `payload_type` and a receive-only video transceiver; the caller opens the
/// data channels it needs.
pub async fn recv_only_controller(
    handler: Arc<dyn PeerConnectionEventHandler>,
    payload_type: u8,
    configuration: Option<RTCConfiguration>,
) -> Arc<dyn PeerConnection> {
    let mut media_engine = MediaEngine::default();
    let codec = RTCRtpCodecParameters { rtp_codec: h264_codec(), payload_type };
    media_engine.register_codec(codec, RtpCodecKind::Video).unwrap();
    let registry = register_default_interceptors(Registry::new(), &mut media_engine).unwrap();
    let mut builder = PeerConnectionBuilder::new()
        .with_media_engine(media_engine)
        .with_interceptor_registry(registry)
        .with_handler(handler)
        // As Chromium does: messages up to 256 KiB.
        .with_setting_engine(
            SettingEngineBuilder::new()
                .with_sctp_max_message_size(SctpMaxMessageSize::Bounded(MAX_DATA_CHANNEL_MESSAGE_BYTES as u32))
                .build(),
        )
        .with_udp_addrs(vec!["127.0.0.1:0".to_owned()]);
    if let Some(configuration) = configuration {
        builder = builder.with_configuration(configuration);
    }
    let connection: Arc<dyn PeerConnection> = Arc::new(builder.build().await.unwrap());
    let recv_only = RTCRtpTransceiverInit { direction: RTCRtpTransceiverDirection::Recvonly, ..Default::default() };
    connection.add_transceiver_from_kind(RtpCodecKind::Video, Some(recv_only)).await.unwrap();
    connection
}
