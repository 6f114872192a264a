//! Offline probe of openh264 settings under the benchmark's scenes
//! (bench/timecode.py), captured at 30 fps: full motion (a photo-like
//! texture with fine noise scrolling 7 px right and 3 px down every 1/60 s)
//! and typing (a still desktop of flat panels, one more glyph every 1/8 s).
//! For each setting: the frames it sends, the bitrate, the luma PSNR of what
//! a decoder shows against what was captured, and the time per encode. No
//! display, no network.
//!
//! `cargo run --release -p tether-agent --example encoder_probe -- [WIDTH HEIGHT SECONDS]`

use openh264::OpenH264API;
use openh264::Timestamp;
use openh264::decoder::Decoder;
use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile, QpRange,
    RateControlMode, UsageType, VuiConfig,
};
use openh264::formats::{BgraSliceU8, YUVBuffer, YUVSource};
use std::time::Instant;

const FPS: f64 = 30.0;
const BITRATE_BPS: u32 = 2_500_000;

/// One setting to try.
#[derive(Debug, Clone, Copy)]
struct Setting {
    name: &'static str,
    usage: UsageType,
    skip: bool,
    real_timestamps: bool,
    complexity: Complexity,
    threads: u16,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args().skip(1).map(|arg| arg.parse()).collect::<Result<_, _>>()?;
    let (width, height, seconds): (usize, usize, usize) = match args.as_slice() {
        [] => (1920, 1080, 5),
        [w, h] => (*w, *h, 5),
        [w, h, s] => (*w, *h, *s),
        _ => anyhow::bail!("usage: encoder_probe [WIDTH HEIGHT [SECONDS]]"),
    };
    let motion = Texture::new(width * 2, height * 2);
    let typing = Desktop::new(width, height);
    let frames = (seconds as f64 * FPS) as usize;
    let base = Setting {
        name: "",
        usage: UsageType::ScreenContentRealTime,
        skip: true,
        real_timestamps: false,
        complexity: Complexity::Medium,
        threads: 1,
    };
    let camera = Setting { usage: UsageType::CameraVideoRealTime, ..base };
    let settings = [
        Setting { name: "screen content (before)", ..base },
        Setting { name: "screen content, timestamps", real_timestamps: true, ..base },
        Setting { name: "camera", ..camera },
        Setting { name: "camera, low complexity", complexity: Complexity::Low, ..camera },
        Setting { name: "camera, low complexity, 2 threads", complexity: Complexity::Low, threads: 2, ..camera },
    ];
    println!("{width}x{height}, {frames} frames at {FPS} fps, target {} kbit/s", BITRATE_BPS / 1000);
    println!("| scene | setting | sent fps | kbit/s | PSNR Y (dB) | encode ms/frame |");
    println!("|---|---|---:|---:|---:|---:|");
    for setting in settings {
        probe("motion", setting, |index, out| motion.window(index * 2, width, height, out), width, height, frames)?;
        probe("typing", setting, |index, out| typing.after(index, out), width, height, frames)?;
    }
    Ok(())
}

fn probe(
    scene: &str,
    setting: Setting,
    mut draw: impl FnMut(usize, &mut [u8]),
    width: usize,
    height: usize,
    frames: usize,
) -> anyhow::Result<()> {
    let config = EncoderConfig::new()
        .usage_type(setting.usage)
        .profile(Profile::Baseline)
        .bitrate(BitRate::from_bps(BITRATE_BPS))
        .max_frame_rate(FrameRate::from_hz(FPS as f32))
        .rate_control_mode(RateControlMode::Bitrate)
        .skip_frames(setting.skip)
        .qp(QpRange::new(26, 51))
        .complexity(setting.complexity)
        .num_threads(setting.threads)
        .intra_frame_period(IntraFramePeriod::from_num_frames(600))
        .vui(VuiConfig::bt601());
    let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)?;
    let mut decoder = Decoder::new()?;
    let mut bgra = vec![0_u8; width * height * 4];
    let (mut sent, mut bytes) = (0_usize, 0_usize);
    let mut encoding = 0.0_f64;
    let mut squared_error = 0.0_f64;
    let mut shown: Option<Vec<u8>> = None;
    for index in 0..frames {
        draw(index, &mut bgra);
        let yuv = YUVBuffer::from_bgra8_source(BgraSliceU8::new(&bgra, (width, height)));
        let converted = Instant::now();
        let at = if setting.real_timestamps {
            Timestamp::from_millis((index as f64 * 1000.0 / FPS) as u64)
        } else {
            Timestamp::ZERO
        };
        let stream = encoder.encode_at(&yuv, at)?;
        let data = stream.to_vec();
        encoding += converted.elapsed().as_secs_f64();
        if !matches!(stream.frame_type(), FrameType::Skip | FrameType::Invalid) && !data.is_empty() {
            sent += 1;
            bytes += data.len();
            if let Some(picture) = decoder.decode(&data)? {
                shown = Some(luma(&picture));
            }
        }
        // What the viewer sees now (the last decoded picture) against the screen.
        if let Some(shown) = &shown {
            squared_error += mean_squared_error(shown, &luma(&yuv));
        }
    }
    let seconds = frames as f64 / FPS;
    let psnr = 10.0 * (255.0_f64.powi(2) / (squared_error / frames as f64).max(1e-9)).log10();
    println!(
        "| {scene} | {} | {:.1} | {:.0} | {psnr:.1} | {:.1} |",
        setting.name,
        sent as f64 / seconds,
        bytes as f64 * 8.0 / seconds / 1000.0,
        encoding * 1000.0 / frames as f64,
    );
    Ok(())
}

/// The luma plane without stride padding.
fn luma(picture: &impl YUVSource) -> Vec<u8> {
    let (width, height) = picture.dimensions();
    let stride = picture.strides().0;
    picture.y().chunks(stride).take(height).flat_map(|row| &row[..width]).copied().collect()
}

fn mean_squared_error(a: &[u8], b: &[u8]) -> f64 {
    let sum: f64 = a.iter().zip(b).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum();
    sum / a.len().max(1) as f64
}

/// A still desktop of flat panels where a line of dark glyphs grows by one
/// every 1/8 s (bench/timecode.py's typing scene, simplified).
struct Desktop {
    width: usize,
    height: usize,
    bgra: Vec<u8>,
}

impl Desktop {
    const GLYPH: (usize, usize) = (9, 14);

    fn new(width: usize, height: usize) -> Self {
        let mut bgra = [0x6e, 0x4a, 0x2d, 0xff].repeat(width * height);
        let (left, top) = (width / 8, height / 6);
        for y in top..top + height / 2 {
            for x in left..left + width / 2 {
                bgra[(y * width + x) * 4..][..4].copy_from_slice(&[0xf4, 0xf4, 0xf4, 0xff]);
            }
        }
        Self { width, height, bgra }
    }

    /// The desktop after `frame` captures: `frame / 4` glyphs typed.
    fn after(&self, frame: usize, out: &mut [u8]) {
        out.copy_from_slice(&self.bgra);
        let (glyph_w, glyph_h) = Self::GLYPH;
        let per_line = (self.width / 2 - 48) / glyph_w;
        for typed in 0..frame / 4 {
            let (line, column) = (typed / per_line, typed % per_line);
            let (x0, y0) = (self.width / 8 + 24 + column * glyph_w, self.height / 6 + 56 + line * (glyph_h + 4));
            // A glyph: a few strokes chosen by its index.
            for y in y0 + 2..(y0 + glyph_h - 2).min(self.height) {
                for x in x0 + 1..(x0 + glyph_w - 2).min(self.width) {
                    let stroke = (x - x0 + (y - y0) * (typed % 5 + 1)) % 4 == 0 || y == y0 + 2 || x == x0 + 1;
                    if stroke {
                        out[(y * self.width + x) * 4..][..4].copy_from_slice(&[0x20, 0x20, 0x20, 0xff]);
                    }
                }
            }
        }
    }
}

/// bench/timecode.py's texture: smooth colour waves, fine noise and 24 px blocks.
struct Texture {
    width: usize,
    height: usize,
    bgra: Vec<u8>,
}

impl Texture {
    fn new(width: usize, height: usize) -> Self {
        let mut random = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            (random >> 11) as f64 / (1_u64 << 53) as f64
        };
        let waves: Vec<[f64; 3]> = (0..3).map(|_| [0.0; 3].map(|_| 0.002 + 0.018 * next())).collect();
        let blocks: Vec<[f64; 3]> =
            (0..(width / 24 + 1) * (height / 24 + 1)).map(|_| [0.0; 3].map(|_| next() * 255.0)).collect();
        let mut bgra = vec![255_u8; width * height * 4];
        for y in 0..height {
            for x in 0..width {
                // Roughly normal noise (sum of uniforms), sigma ≈ 12.
                let noise = ((next() + next() + next() + next()) - 2.0) * 20.8;
                let block = blocks[(y / 24) * (width / 24 + 1) + x / 24];
                for channel in 0..3 {
                    let [f1, f2, f3] = waves[channel];
                    let (fx, fy) = (x as f64, y as f64);
                    let radial = ((fx - width as f64 / 3.0).hypot(fy - height as f64 / 2.0) * f3).sin();
                    let value = 128.0
                        + 50.0 * (fx * f1 + fy * f2).sin()
                        + 40.0 * radial
                        + noise
                        + 0.25 * (block[channel] - 128.0);
                    bgra[(y * width + x) * 4 + 2 - channel] = value.clamp(0.0, 255.0) as u8;
                }
            }
        }
        Self { width, height, bgra }
    }

    /// The screen after `step` scroll steps, as bench/timecode.py copies it.
    fn window(&self, step: usize, width: usize, height: usize, out: &mut [u8]) {
        let offset = step % 100_000;
        let (sx, sy) = ((offset * 7) % width, (offset * 3) % height);
        for row in 0..height {
            let from = ((sy + row) * self.width + sx) * 4;
            out[row * width * 4..(row + 1) * width * 4].copy_from_slice(&self.bgra[from..from + width * 4]);
        }
        debug_assert!(self.height >= sy + height);
    }
}
