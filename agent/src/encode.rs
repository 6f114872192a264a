//! H.264 encoding with openh264: BGRA frames in, Annex-B access units (SPS,
//! PPS and slices together) out, in a profile Chromium decodes without a
//! GPU (Constrained Baseline). Key frames on request and whenever the size
//! changes.

use crate::frame::Frame;
use anyhow::Context;
use openh264::OpenH264API;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile, QpRange,
    RateControlMode, UsageType, VuiConfig,
};
use openh264::formats::{BgraSliceU8, YUVBuffer};
use tether_shared::control::{QualityPreset, QualitySettings};

/// How the encoder trades quality for speed; changeable during a session.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderSettings {
    pub bitrate_bps: u32,
    pub max_fps: f32,
}

impl Default for EncoderSettings {
    /// The default quality preset's.
    fn default() -> Self {
        QualityPreset::default().settings().into()
    }
}

impl From<QualitySettings> for EncoderSettings {
    fn from(settings: QualitySettings) -> Self {
        Self {
            bitrate_bps: settings.max_bitrate_kbps.saturating_mul(1000),
            // Frame rates are small whole numbers: exact in an f32.
            max_fps: settings.max_fps as f32,
        }
    }
}

/// One encoded access unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    /// Annex-B byte stream.
    pub data: Vec<u8>,
    pub key_frame: bool,
}

/// Encodes frames of any (even or odd) size.
pub struct H264Encoder {
    encoder: Encoder,
    settings: EncoderSettings,
    cropped: Vec<u8>,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The quantiser range rate control may use (0 best … 51 worst). Left
/// unset, openh264 caps QP at 35 and under motion could only skip frames;
/// the floor stays at its 26, which keeps still-screen refreshes and typing
/// frames small.
const QP_RANGE: QpRange = QpRange::new(26, 51);

fn config(settings: EncoderSettings) -> EncoderConfig {
    EncoderConfig::new()
        // Camera rather than screen-content mode, at low complexity: under
        // the benchmark's full motion screen-content rate control skipped
        // all but 3.8 of 30 fps at 1080p (7 at 720p) where this sends 16.6
        // (26), at the same bitrate and a better picture, and a typing frame
        // encodes in half the time with the same quality (measured with
        // `cargo run --release -p tether-agent --example encoder_probe`).
        .usage_type(UsageType::CameraVideoRealTime)
        .complexity(Complexity::Low)
        .profile(Profile::Baseline)
        .bitrate(BitRate::from_bps(settings.bitrate_bps))
        .max_frame_rate(FrameRate::from_hz(settings.max_fps))
        .rate_control_mode(RateControlMode::Bitrate)
        // Rate control raises QP up to the ceiling before it skips a frame;
        // skipping stays as the last resort that holds the bitrate (without
        // it a scrolling photo at 720p ran at 4× the target).
        .skip_frames(true)
        .qp(QP_RANGE)
        // Key frames come on request (PLI/FIR) and on size changes; a slow
        // periodic one heals any loss nobody reported.
        .intra_frame_period(IntraFramePeriod::from_num_frames(600))
        // openh264's RGB→YUV conversion uses BT.601 limited range; say so,
        // so that decoders (Chromium) use the same matrix.
        .vui(VuiConfig::bt601())
}

impl H264Encoder {
    pub fn new(settings: EncoderSettings) -> anyhow::Result<Self> {
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config(settings))
            .context("cannot create the H.264 encoder")?;
        Ok(Self { encoder, settings, cropped: Vec::new() })
    }

    pub fn settings(&self) -> EncoderSettings {
        self.settings
    }

    /// Applies new settings; the next frame is a key frame.
    pub fn reconfigure(&mut self, settings: EncoderSettings) -> anyhow::Result<()> {
        if settings != self.settings {
            *self = Self::new(settings)?;
        }
        Ok(())
    }

    /// Encodes `frame`; `None` when the encoder chose to skip it (rate control).
    pub fn encode(&mut self, frame: &Frame, key_frame: bool) -> anyhow::Result<Option<EncodedFrame>> {
        // I420 needs even dimensions: drop a last odd column or row.
        let (width, height) = (frame.width & !1, frame.height & !1);
        if width == 0 || height == 0 {
            anyhow::bail!("cannot encode a {}x{} frame", frame.width, frame.height);
        }
        let pixels: &[u8] = if (width, height) == (frame.width, frame.height) {
            &frame.data
        } else {
            self.cropped.clear();
            for row in frame.data.chunks_exact(frame.width * 4).take(height) {
                self.cropped.extend_from_slice(&row[..width * 4]);
            }
            &self.cropped
        };
        let yuv = YUVBuffer::from_bgra8_source(BgraSliceU8::new(pixels, (width, height)));
        if key_frame {
            self.encoder.force_intra_frame();
        }
        let stream = self.encoder.encode(&yuv).context("H.264 encoding failed")?;
        let frame_type = stream.frame_type();
        if matches!(frame_type, FrameType::Skip | FrameType::Invalid) {
            return Ok(None);
        }
        let data = stream.to_vec();
        Ok((!data.is_empty())
            .then_some(EncodedFrame { data, key_frame: matches!(frame_type, FrameType::IDR | FrameType::I) }))
    }
}

/// The NAL units of an Annex-B stream.
pub fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(n, &start)| {
            let mut end = starts.get(n + 1).map_or(stream.len(), |next| next - 3);
            while end > start && stream[end - 1] == 0 {
                end -= 1;
            }
            &stream[start..end]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use openh264::decoder::Decoder;
    use openh264::formats::YUVSource;

    fn gradient(width: usize, height: usize) -> Frame {
        let mut frame = Frame::solid(width, height, [0, 0, 0, 255]);
        for y in 0..height {
            for x in 0..width {
                let at = (y * width + x) * 4;
                frame.data[at..at + 3].copy_from_slice(&[(x * 255 / width) as u8, 128, (y * 255 / height) as u8]);
            }
        }
        frame
    }

    #[test]
    fn first_frame_is_a_constrained_baseline_key_frame() {
        let mut encoder = H264Encoder::new(EncoderSettings::default()).expect("encoder");
        let encoded = encoder.encode(&gradient(320, 240), false).expect("encode").expect("not skipped");
        assert!(encoded.key_frame);
        let units = nal_units(&encoded.data);
        let sps = units.iter().find(|unit| unit[0] & 0x1f == 7).expect("SPS present");
        assert_eq!(sps[1], 66, "profile_idc: Baseline");
        assert!(units.iter().any(|unit| unit[0] & 0x1f == 8), "PPS present");
        assert!(units.iter().any(|unit| unit[0] & 0x1f == 5), "IDR slice present");
    }

    #[test]
    fn frames_decode_back_to_their_colours() {
        let mut encoder = H264Encoder::new(EncoderSettings::default()).expect("encoder");
        let frame = Frame::solid(321, 241, [40, 200, 60, 255]);
        let encoded = encoder.encode(&frame, true).expect("encode").expect("frame");
        let mut decoder = Decoder::new().expect("decoder");
        let yuv = decoder.decode(&encoded.data).expect("decode").expect("picture");
        assert_eq!(yuv.dimensions(), (320, 240), "odd sizes are cropped to even");
        let mut rgb = vec![0; 320 * 240 * 3];
        yuv.write_rgb8(&mut rgb);
        let centre = (120 * 320 + 160) * 3;
        let [r, g, b] = [rgb[centre], rgb[centre + 1], rgb[centre + 2]];
        for (got, want) in [(r, 60), (g, 200), (b, 40)] {
            assert!(got.abs_diff(want) <= 6, "decoded ({r}, {g}, {b}), want (60, 200, 40)");
        }
    }

    #[test]
    fn key_frames_come_on_request_and_on_resize() {
        let mut encoder = H264Encoder::new(EncoderSettings::default()).expect("encoder");
        encoder.encode(&gradient(320, 240), false).expect("encode");
        let mut moved = gradient(320, 240);
        moved.data[0] ^= 0xff;
        let delta = encoder.encode(&moved, false).expect("encode");
        assert!(delta.is_none_or(|f| !f.key_frame), "a small change is a delta frame");
        let requested = encoder.encode(&gradient(320, 240), true).expect("encode").expect("frame");
        assert!(requested.key_frame);
        let resized = encoder.encode(&gradient(640, 360), false).expect("encode").expect("frame");
        assert!(resized.key_frame);
    }

    #[test]
    fn reconfiguring_starts_over_with_a_key_frame() {
        let mut encoder = H264Encoder::new(EncoderSettings::default()).expect("encoder");
        assert_eq!(encoder.settings(), EncoderSettings { bitrate_bps: 2_500_000, max_fps: 30.0 });
        encoder.encode(&gradient(320, 240), false).expect("encode");
        let speed = EncoderSettings::from(QualityPreset::Speed.settings());
        assert_eq!(speed, EncoderSettings { bitrate_bps: 1_000_000, max_fps: 20.0 });
        encoder.reconfigure(speed).expect("reconfigure");
        assert_eq!(encoder.settings(), speed);
        let next = encoder.encode(&gradient(160, 120), false).expect("encode").expect("frame");
        assert!(next.key_frame);
    }

    #[test]
    fn splits_annex_b() {
        let stream = [0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4];
        assert_eq!(nal_units(&stream), vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 4][..]]);
    }
}
