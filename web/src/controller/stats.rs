//! The stats overlay's numbers from `RTCPeerConnection.getStats()`: each
//! stats object arrives as JSON (so parsing is tested natively with what
//! Chromium reports), one [`Sample`] is kept per second, and rates such as
//! the bitrate come from the difference between two samples.

use serde::Deserialize;

/// One stats object, by its `type`; other types are ignored.
#[derive(Debug, Deserialize)]
#[serde(tag = "type")]
enum Raw {
    #[serde(rename = "inbound-rtp")]
    InboundRtp(RawInbound),
    #[serde(rename = "candidate-pair")]
    CandidatePair(RawPair),
    #[serde(rename = "local-candidate")]
    LocalCandidate(RawCandidate),
    #[serde(rename = "remote-candidate")]
    RemoteCandidate(RawCandidate),
    #[serde(rename = "transport")]
    Transport(RawTransport),
    #[serde(rename = "codec")]
    Codec(RawCodec),
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawInbound {
    kind: Option<String>,
    timestamp: Option<f64>,
    codec_id: Option<String>,
    bytes_received: Option<f64>,
    frames_decoded: Option<f64>,
    frames_per_second: Option<f64>,
    total_decode_time: Option<f64>,
    frame_width: Option<u32>,
    frame_height: Option<u32>,
    packets_lost: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPair {
    id: String,
    local_candidate_id: Option<String>,
    remote_candidate_id: Option<String>,
    state: Option<String>,
    nominated: Option<bool>,
    /// Firefox marks the pair in use this way; Chromium names it in the transport.
    selected: Option<bool>,
    current_round_trip_time: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCandidate {
    id: String,
    address: Option<String>,
    /// The older name of `address`.
    ip: Option<String>,
    port: Option<u16>,
    protocol: Option<String>,
    candidate_type: Option<String>,
    relay_protocol: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTransport {
    selected_candidate_pair_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCodec {
    id: String,
    mime_type: Option<String>,
}

/// The received video's counters at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoCounters {
    /// The stats' own timestamp, milliseconds.
    pub timestamp_ms: f64,
    pub bytes_received: f64,
    pub frames_decoded: f64,
    /// Seconds spent decoding, over all frames.
    pub total_decode_time_s: Option<f64>,
    /// The browser's own frame rate estimate.
    pub frames_per_second: Option<f64>,
    pub frame_size: Option<(u32, u32)>,
    pub packets_lost: Option<i64>,
    /// E.g. `H264`, from the codec's `mimeType`.
    pub codec: Option<String>,
}

/// One end of the candidate pair in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// `host`, `srflx`, `prflx` or `relay`.
    pub candidate_type: String,
    pub address: Option<String>,
    pub port: Option<u16>,
    /// `udp` or `tcp`.
    pub protocol: Option<String>,
    /// How a local relay candidate reaches its TURN server (`udp`, `tcp`, `tls`).
    pub relay_protocol: Option<String>,
}

impl Candidate {
    /// `address:port` (`[v6]:port` for IPv6), when both are known.
    pub fn endpoint(&self) -> Option<String> {
        let (address, port) = (self.address.as_deref()?, self.port?);
        Some(if address.contains(':') { format!("[{address}]:{port}") } else { format!("{address}:{port}") })
    }

    /// `relay (tls)`, `host (udp)`: the type with the transport it uses.
    pub fn describe(&self) -> String {
        match (&self.relay_protocol, &self.protocol) {
            (Some(relay), _) => format!("{} ({relay})", self.candidate_type),
            (None, Some(protocol)) => format!("{} ({protocol})", self.candidate_type),
            (None, None) => self.candidate_type.clone(),
        }
    }
}

/// The candidate pair ICE selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidatePath {
    pub local: Candidate,
    pub remote: Candidate,
}

impl CandidatePath {
    /// "host (udp) → relay (udp)": how the packets travel.
    pub fn describe(&self) -> String {
        format!("{} → {}", self.local.describe(), self.remote.describe())
    }
}

/// What one `getStats()` call says about the session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    pub video: Option<VideoCounters>,
    pub path: Option<CandidatePath>,
    /// The selected pair's current round-trip time, seconds.
    pub round_trip_s: Option<f64>,
}

impl Sample {
    /// Builds a sample from the JSON of each stats object. Objects that do
    /// not parse are skipped: a browser may add fields or types at will.
    pub fn parse<'a>(objects: impl IntoIterator<Item = &'a str>) -> Self {
        let mut inbound = None;
        let mut pairs = Vec::new();
        let mut locals = Vec::new();
        let mut remotes = Vec::new();
        let mut selected_id = None;
        let mut codecs = Vec::new();
        for object in objects {
            match serde_json::from_str::<Raw>(object) {
                Ok(Raw::InboundRtp(rtp)) if rtp.kind.as_deref() == Some("video") => inbound = Some(rtp),
                Ok(Raw::CandidatePair(pair)) => pairs.push(pair),
                Ok(Raw::LocalCandidate(candidate)) => locals.push(candidate),
                Ok(Raw::RemoteCandidate(candidate)) => remotes.push(candidate),
                Ok(Raw::Transport(transport)) => {
                    selected_id = selected_id.or(transport.selected_candidate_pair_id);
                }
                Ok(Raw::Codec(codec)) => codecs.push(codec),
                Ok(_) | Err(_) => {}
            }
        }
        let selected = match &selected_id {
            Some(id) => pairs.iter().find(|pair| &pair.id == id),
            None => pairs.iter().find(|pair| {
                pair.selected == Some(true)
                    || (pair.nominated == Some(true) && pair.state.as_deref() == Some("succeeded"))
            }),
        };
        let find = |list: &[RawCandidate], id: &Option<String>| {
            let id = id.as_deref()?;
            list.iter().find(|candidate| candidate.id == id).map(|raw| Candidate {
                candidate_type: raw.candidate_type.clone().unwrap_or_else(|| "unknown".to_owned()),
                address: raw.address.clone().or_else(|| raw.ip.clone()),
                port: raw.port,
                protocol: raw.protocol.clone(),
                relay_protocol: raw.relay_protocol.clone(),
            })
        };
        let path = selected.and_then(|pair| {
            Some(CandidatePath {
                local: find(&locals, &pair.local_candidate_id)?,
                remote: find(&remotes, &pair.remote_candidate_id)?,
            })
        });
        let video = inbound.and_then(|rtp| {
            let codec = rtp.codec_id.as_deref().and_then(|id| codecs.iter().find(|codec| codec.id == id));
            Some(VideoCounters {
                timestamp_ms: rtp.timestamp?,
                bytes_received: rtp.bytes_received.unwrap_or(0.0),
                frames_decoded: rtp.frames_decoded.unwrap_or(0.0),
                total_decode_time_s: rtp.total_decode_time,
                frames_per_second: rtp.frames_per_second,
                frame_size: rtp.frame_width.zip(rtp.frame_height),
                packets_lost: rtp.packets_lost,
                codec: codec
                    .and_then(|codec| codec.mime_type.as_deref())
                    .map(|mime| mime.split_once('/').map_or(mime, |(_, name)| name).to_owned()),
            })
        });
        Sample { video, path, round_trip_s: selected.and_then(|pair| pair.current_round_trip_time) }
    }
}

/// What the overlay shows, worked out from this sample and the one before.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsView {
    pub fps: Option<f64>,
    pub bitrate_bps: Option<f64>,
    pub round_trip_ms: Option<f64>,
    /// Average decode time per frame since the previous sample, milliseconds.
    pub decode_ms: Option<f64>,
    pub frames_decoded: u64,
    pub frame_size: Option<(u32, u32)>,
    pub packets_lost: Option<i64>,
    pub codec: Option<String>,
    pub path: Option<CandidatePath>,
}

impl StatsView {
    /// The view of `current`, with rates over the time since `previous`.
    /// Counters that went backwards (a new peer connection) give no rate.
    pub fn between(previous: Option<&Sample>, current: &Sample) -> Self {
        let video = current.video.as_ref();
        let before = previous.and_then(|sample| sample.video.as_ref());
        let deltas = video.zip(before).and_then(|(now, then)| {
            let seconds = (now.timestamp_ms - then.timestamp_ms) / 1_000.0;
            let frames = now.frames_decoded - then.frames_decoded;
            let bytes = now.bytes_received - then.bytes_received;
            (seconds > 0.0 && frames >= 0.0 && bytes >= 0.0).then_some((now, then, seconds, frames, bytes))
        });
        let fps = deltas.map(|(_, _, seconds, frames, _)| frames / seconds).or(video.and_then(|v| v.frames_per_second));
        let bitrate_bps = deltas.map(|(_, _, seconds, _, bytes)| bytes * 8.0 / seconds);
        let decode_ms = match deltas {
            Some((now, then, _, frames, _)) if frames > 0.0 => {
                now.total_decode_time_s.zip(then.total_decode_time_s).map(|(now, then)| (now - then) / frames * 1_000.0)
            }
            Some(_) => None,
            None => video.and_then(|v| {
                let total = v.total_decode_time_s?;
                (v.frames_decoded > 0.0).then(|| total / v.frames_decoded * 1_000.0)
            }),
        };
        StatsView {
            fps,
            bitrate_bps,
            round_trip_ms: current.round_trip_s.map(|s| s * 1_000.0),
            decode_ms,
            // A count of frames: whole and far below 2^53.
            frames_decoded: video.map_or(0, |v| v.frames_decoded.max(0.0) as u64),
            frame_size: video.and_then(|v| v.frame_size),
            packets_lost: video.and_then(|v| v.packets_lost),
            codec: video.and_then(|v| v.codec.clone()),
            path: current.path.clone(),
        }
    }
}

/// "850 kbit/s", "2.4 Mbit/s".
pub fn format_bitrate(bits_per_second: f64) -> String {
    if bits_per_second >= 1e6 {
        format!("{:.1} Mbit/s", bits_per_second / 1e6)
    } else if bits_per_second >= 1e3 {
        format!("{:.0} kbit/s", bits_per_second / 1e3)
    } else {
        format!("{bits_per_second:.0} bit/s")
    }
}

/// "30 fps".
pub fn format_fps(fps: f64) -> String {
    format!("{fps:.0} fps")
}

/// "12 ms", or "1.4 ms" below 10 ms.
pub fn format_ms(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.1} ms") } else { format!("{ms:.0} ms") }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Objects as Chromium's `getStats()` reports them (trimmed), at `t` ms.
    fn chromium(t: f64, bytes: f64, frames: f64, decode_s: f64) -> Vec<String> {
        vec![
            format!(
                r#"{{"id":"IT01V","timestamp":{t},"type":"inbound-rtp","kind":"video","mediaType":"video",
                "codecId":"CIT01_108","bytesReceived":{bytes},"framesDecoded":{frames},"framesPerSecond":29,
                "totalDecodeTime":{decode_s},"frameWidth":1280,"frameHeight":720,"packetsLost":2,
                "decoderImplementation":"FFmpeg"}}"#
            ),
            r#"{"id":"CIT01_108","type":"codec","mimeType":"video/H264","payloadType":108,
                "sdpFmtpLine":"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}"#
                .to_owned(),
            r#"{"id":"T01","type":"transport","selectedCandidatePairId":"CPa_b","dtlsState":"connected"}"#.to_owned(),
            r#"{"id":"CPx_y","type":"candidate-pair","localCandidateId":"Ix","remoteCandidateId":"Iy",
                "state":"failed","nominated":false,"currentRoundTripTime":0.9}"#
                .to_owned(),
            r#"{"id":"CPa_b","type":"candidate-pair","localCandidateId":"Ia","remoteCandidateId":"Ib",
                "state":"succeeded","nominated":true,"currentRoundTripTime":0.012}"#
                .to_owned(),
            r#"{"id":"Ia","type":"local-candidate","address":"10.0.0.5","port":50000,"protocol":"udp",
                "candidateType":"relay","relayProtocol":"tls","isRemote":false}"#
                .to_owned(),
            r#"{"id":"Ib","type":"remote-candidate","address":"192.0.2.7","port":3478,"protocol":"udp",
                "candidateType":"host","isRemote":true}"#
                .to_owned(),
            r#"{"id":"Ix","type":"local-candidate","address":"x.local","port":1,"candidateType":"host"}"#.to_owned(),
            r#"{"id":"Iy","type":"remote-candidate","address":"::1","port":2,"candidateType":"host"}"#.to_owned(),
            r#"{"id":"P","type":"peer-connection","dataChannelsOpened":2}"#.to_owned(),
            r#"{"type":"inbound-rtp","kind":"audio","bytesReceived":5}"#.to_owned(),
            "not json".to_owned(),
        ]
    }

    fn sample(t: f64, bytes: f64, frames: f64, decode_s: f64) -> Sample {
        let objects = chromium(t, bytes, frames, decode_s);
        Sample::parse(objects.iter().map(String::as_str))
    }

    #[test]
    fn parses_what_chromium_reports() {
        let sample = sample(1_000.0, 50_000.0, 30.0, 0.09);
        let video = sample.video.as_ref().expect("video");
        assert_eq!(video.frame_size, Some((1280, 720)));
        assert_eq!(video.codec.as_deref(), Some("H264"));
        assert_eq!(video.packets_lost, Some(2));
        assert_eq!(sample.round_trip_s, Some(0.012));
        let path = sample.path.expect("path");
        assert_eq!(path.remote.endpoint().as_deref(), Some("192.0.2.7:3478"));
        assert_eq!(path.describe(), "relay (tls) → host (udp)");
    }

    #[test]
    fn without_a_transport_the_nominated_pair_counts() {
        let objects = chromium(0.0, 0.0, 0.0, 0.0);
        let sample = Sample::parse(objects.iter().map(String::as_str).filter(|o| !o.contains("\"transport\"")));
        assert_eq!(sample.path.map(|p| p.local.candidate_type), Some("relay".to_owned()));
        let none = Sample::parse(["{\"type\":\"transport\"}"]);
        assert_eq!(none, Sample::default());
    }

    #[test]
    fn rates_come_from_two_samples() {
        let first = sample(1_000.0, 50_000.0, 30.0, 0.09);
        let second = sample(3_000.0, 550_000.0, 90.0, 0.21);
        let view = StatsView::between(Some(&first), &second);
        assert_eq!(view.fps, Some(30.0));
        assert_eq!(view.bitrate_bps, Some(2_000_000.0));
        assert!(view.decode_ms.is_some_and(|ms| (ms - 2.0).abs() < 1e-9), "{view:?}");
        assert_eq!(view.frames_decoded, 90);
        assert_eq!(view.round_trip_ms, Some(12.0));
        assert_eq!(view.codec.as_deref(), Some("H264"));
    }

    #[test]
    fn the_first_sample_uses_the_browsers_own_figures() {
        let view = StatsView::between(None, &sample(1_000.0, 50_000.0, 30.0, 0.09));
        assert_eq!(view.fps, Some(29.0));
        assert_eq!(view.bitrate_bps, None);
        assert!(view.decode_ms.is_some_and(|ms| (ms - 3.0).abs() < 1e-9), "{view:?}");
    }

    #[test]
    fn counters_that_restart_give_no_rate() {
        let old = sample(9_000.0, 9_000_000.0, 900.0, 3.0);
        let fresh = sample(10_000.0, 1_000.0, 2.0, 0.01);
        let view = StatsView::between(Some(&old), &fresh);
        assert_eq!(view.bitrate_bps, None);
        assert_eq!(view.fps, Some(29.0));
        // The new connection's own average.
        assert!(view.decode_ms.is_some_and(|ms| (ms - 5.0).abs() < 1e-9), "{view:?}");
        assert_eq!(StatsView::between(Some(&old), &old).bitrate_bps, None);
        assert_eq!(StatsView::between(None, &Sample::default()), StatsView::default());
    }

    #[test]
    fn endpoints_and_formats() {
        let candidate = |address: &str| Candidate {
            candidate_type: "host".into(),
            address: Some(address.into()),
            port: Some(9),
            protocol: None,
            relay_protocol: None,
        };
        assert_eq!(candidate("::1").endpoint().as_deref(), Some("[::1]:9"));
        assert_eq!(candidate("::1").describe(), "host");
        assert_eq!(Candidate { port: None, ..candidate("1.2.3.4") }.endpoint(), None);
        assert_eq!(format_bitrate(2_400_000.0), "2.4 Mbit/s");
        assert_eq!(format_bitrate(850_400.0), "850 kbit/s");
        assert_eq!(format_bitrate(12.0), "12 bit/s");
        assert_eq!(format_fps(29.96), "30 fps");
        assert_eq!(format_ms(1.44), "1.4 ms");
        assert_eq!(format_ms(12.4), "12 ms");
    }
}
