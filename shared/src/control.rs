//! The `control` data channel: the controller's quality-versus-speed choice
//! going to the agent, and what the agent applied, where its pointer is and
//! what it looks like coming back. One enum per direction, small JSON
//! objects tagged by `t`, and a strict decoder for each (size, shape, ranges),
//! since neither end trusts the other's bytes.
//!
//! The quality choice is a performance bias, as remote-support tools offer
//! it: three [`QualityPreset`]s, each fixing the bitrate, frame rate and
//! scale the agent streams with ([`QualityPreset::settings`]).
//!
//! Cursor shapes travel once each: the agent sends a [`CursorShape`] the
//! first time a shape is used and then only [`AgentToController::Cursor`]
//! messages naming it by id. Both ends remember the last
//! [`CURSOR_SHAPES_KEPT`] shapes in a [`ShapeCache`], evicting the oldest
//! first, so they always agree on which ids the controller still knows.

use crate::input::ScreenSize;
use crate::local_input::{LocalUse, LockState};
use crate::media_path::AgentEnd;
use crate::monitor::{MAX_MONITOR_NAME_CHARS, MAX_MONITORS, Monitor, View};
use crate::privacy::PrivacyState;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Largest control message accepted, in bytes.
pub const MAX_CONTROL_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest cursor image side, in pixels.
pub const MAX_CURSOR_SIDE: u32 = 128;
/// Largest cursor PNG, in bytes (before base64).
pub const MAX_CURSOR_PNG_BYTES: usize = 40 * 1024;
/// Largest screen side or coordinate either end accepts.
pub const MAX_SCREEN_SIDE: u32 = 16_384;
/// The shape id meaning "no image": the controller draws a plain pointer.
pub const NO_SHAPE: u32 = 0;
/// How many cursor shapes both ends remember.
pub const CURSOR_SHAPES_KEPT: usize = 32;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// The controller's performance bias, from fastest to sharpest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum QualityPreset {
    /// Lower quality, higher performance: for slow or busy networks.
    Speed,
    /// Full resolution at a moderate bitrate.
    #[default]
    Balanced,
    /// Full resolution, sharpest picture, most bandwidth.
    Quality,
}

/// What a preset means for the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualitySettings {
    /// The encoder's target bitrate.
    pub max_bitrate_kbps: u32,
    /// The most frames a second the agent captures and sends.
    pub max_fps: u32,
    /// The stream's size as a percentage of the screen's (each side).
    pub scale_percent: u32,
}

impl QualityPreset {
    /// Every preset, from fastest to sharpest.
    pub const ALL: [QualityPreset; 3] = [QualityPreset::Speed, QualityPreset::Balanced, QualityPreset::Quality];

    /// The bitrate, frame rate and scale this preset streams with.
    pub fn settings(self) -> QualitySettings {
        match self {
            QualityPreset::Speed => QualitySettings { max_bitrate_kbps: 1_000, max_fps: 20, scale_percent: 50 },
            QualityPreset::Balanced => QualitySettings { max_bitrate_kbps: 2_500, max_fps: 30, scale_percent: 100 },
            QualityPreset::Quality => QualitySettings { max_bitrate_kbps: 6_000, max_fps: 30, scale_percent: 100 },
        }
    }

    /// A short name for people.
    pub fn label(self) -> &'static str {
        match self {
            QualityPreset::Speed => "Speed",
            QualityPreset::Balanced => "Balanced",
            QualityPreset::Quality => "Quality",
        }
    }

    /// A stable name for the wire, styling and tests.
    pub fn key(self) -> &'static str {
        match self {
            QualityPreset::Speed => "speed",
            QualityPreset::Balanced => "balanced",
            QualityPreset::Quality => "quality",
        }
    }
}

impl QualitySettings {
    /// The size the stream has for a screen of `screen`: each side scaled,
    /// rounded down to an even number (H.264 4:2:0 needs one), at least 2.
    pub fn stream_size(self, screen: ScreenSize) -> ScreenSize {
        let scale = |side: u32| {
            let scaled = u64::from(side) * u64::from(self.scale_percent.clamp(1, 100)) / 100;
            // At most `side`, so it fits back into a u32.
            (u32::try_from(scaled).unwrap_or(side) & !1).max(2)
        };
        ScreenSize { width: scale(screen.width), height: scale(screen.height) }
    }
}

/// A message from the controller. Added in protocol version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControllerToAgent {
    /// Stream with this preset from now on.
    SetQuality { preset: QualityPreset },
    /// Show this part of the screen from now on: every monitor, or one.
    /// Added in protocol version 11.
    Show { view: View },
    /// Lock (or unlock) the person's own keyboard and mouse. Added in
    /// protocol version 11.
    Lock { on: bool },
    /// The controller is still there (every 2 s): a lock lapses without.
    /// Added in protocol version 11.
    Heartbeat {},
    /// Put the privacy screen up (locking the keyboard and mouse too) or
    /// take it away (the lock stays). Added in protocol version 12.
    Privacy { on: bool },
}

/// A message from the agent. Added in protocol version 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentToController {
    /// What the stream uses now, and the real screen size behind it (the
    /// video may be scaled down; input coordinates stay in screen pixels).
    /// Sent when the channel opens, after each quality change, and when the
    /// screen size changes.
    Applied {
        preset: QualityPreset,
        max_bitrate_kbps: u32,
        max_fps: u32,
        scale_percent: u32,
        screen_width: u32,
        screen_height: u32,
    },
    /// Where the pointer is, in screen pixels, and which shape it has
    /// ([`NO_SHAPE`]: none the agent could send; draw a plain pointer).
    Cursor { x: u32, y: u32, visible: bool, shape: u32 },
    /// A cursor shape, sent once before the first `cursor` naming it.
    CursorShape(CursorShape),
    /// The computer's monitors, and which part of the screen is shown
    /// (the stream, `applied`'s size and the pointer are that part's).
    /// Sent when the channel opens and whenever either changes. Added in
    /// protocol version 11.
    Monitors { monitors: Vec<Monitor>, showing: View },
    /// The person at the computer started or stopped using their own mouse
    /// or keyboard: while they do, the technician's input waits. Added in
    /// protocol version 11.
    LocalUse { state: LocalUse },
    /// Where the local-input lock stands. Added in protocol version 11.
    Lock { state: LockState },
    /// Where the privacy screen stands. Added in protocol version 12.
    Privacy { state: PrivacyState },
    /// How the agent's end of the media path is reached, when it changes.
    /// Added in protocol version 12.
    Path { end: AgentEnd },
}

/// One cursor image: a PNG (base64 on the wire) and its hot spot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CursorShape {
    /// The id later `cursor` messages name it by; never [`NO_SHAPE`].
    pub id: u32,
    pub width: u32,
    pub height: u32,
    /// The pixel of the image that is the pointer's position.
    pub hot_x: u32,
    pub hot_y: u32,
    /// The PNG file, base64 (standard alphabet, padded).
    pub png: String,
}

impl CursorShape {
    /// A shape from PNG bytes.
    pub fn new(id: u32, width: u32, height: u32, hot_x: u32, hot_y: u32, png: &[u8]) -> Self {
        Self { id, width, height, hot_x, hot_y, png: BASE64.encode(png) }
    }

    /// The image as a `data:` URL, for an `<img>` or a CSS cursor.
    pub fn data_url(&self) -> String {
        format!("data:image/png;base64,{}", self.png)
    }
}

impl AgentToController {
    /// The `applied` message for `preset` on a screen of `screen`.
    pub fn applied(preset: QualityPreset, screen: ScreenSize) -> Self {
        let settings = preset.settings();
        AgentToController::Applied {
            preset,
            max_bitrate_kbps: settings.max_bitrate_kbps,
            max_fps: settings.max_fps,
            scale_percent: settings.scale_percent,
            screen_width: screen.width,
            screen_height: screen.height,
        }
    }
}

/// Why a control message was refused. The session goes on; the receiver
/// logs the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlRejected {
    /// Longer than [`MAX_CONTROL_MESSAGE_BYTES`].
    #[error("control message of {0} bytes is over the {MAX_CONTROL_MESSAGE_BYTES}-byte limit")]
    TooLarge(usize),
    /// Not a well-formed message (bad JSON, unknown type, extra fields).
    #[error("malformed control message: {0}")]
    Malformed(String),
    /// A number out of its range.
    #[error("{field} is out of range")]
    OutOfRange { field: &'static str },
    /// A cursor image that is not a small PNG in base64, or whose hot spot
    /// lies outside it.
    #[error("bad cursor shape: {0}")]
    BadShape(&'static str),
}

fn check_size(bytes: &[u8]) -> Result<(), ControlRejected> {
    if bytes.len() > MAX_CONTROL_MESSAGE_BYTES {
        return Err(ControlRejected::TooLarge(bytes.len()));
    }
    Ok(())
}

fn within(field: &'static str, value: u32, range: std::ops::RangeInclusive<u32>) -> Result<(), ControlRejected> {
    if range.contains(&value) { Ok(()) } else { Err(ControlRejected::OutOfRange { field }) }
}

/// Decodes a message from the controller (run by the agent).
pub fn decode_from_controller(bytes: &[u8]) -> Result<ControllerToAgent, ControlRejected> {
    check_size(bytes)?;
    serde_json::from_slice(bytes).map_err(|err| ControlRejected::Malformed(err.to_string()))
}

/// Decodes and checks a message from the agent (run by the controller).
pub fn decode_from_agent(bytes: &[u8]) -> Result<AgentToController, ControlRejected> {
    check_size(bytes)?;
    let message: AgentToController =
        serde_json::from_slice(bytes).map_err(|err| ControlRejected::Malformed(err.to_string()))?;
    match &message {
        AgentToController::Applied {
            max_bitrate_kbps, max_fps, scale_percent, screen_width, screen_height, ..
        } => {
            within("max_bitrate_kbps", *max_bitrate_kbps, 50..=100_000)?;
            within("max_fps", *max_fps, 1..=120)?;
            within("scale_percent", *scale_percent, 10..=100)?;
            within("screen_width", *screen_width, 1..=MAX_SCREEN_SIDE)?;
            within("screen_height", *screen_height, 1..=MAX_SCREEN_SIDE)?;
        }
        AgentToController::Cursor { x, y, .. } => {
            within("x", *x, 0..=MAX_SCREEN_SIDE)?;
            within("y", *y, 0..=MAX_SCREEN_SIDE)?;
        }
        AgentToController::CursorShape(shape) => check_shape(shape)?,
        AgentToController::LocalUse { .. } => {}
        AgentToController::Lock { state: LockState::Failed { reason } } if reason.chars().count() > 1_000 => {
            return Err(ControlRejected::OutOfRange { field: "reason" });
        }
        AgentToController::Lock { .. } => {}
        AgentToController::Privacy { state: PrivacyState::Failed { reason } } if reason.chars().count() > 1_000 => {
            return Err(ControlRejected::OutOfRange { field: "reason" });
        }
        AgentToController::Privacy { state: PrivacyState::On { monitors } } => {
            within("monitors", *monitors, 1..=u32::try_from(MAX_MONITORS).unwrap_or(u32::MAX))?;
        }
        AgentToController::Privacy { .. } | AgentToController::Path { .. } => {}
        AgentToController::Monitors { monitors, .. } => {
            if monitors.len() > MAX_MONITORS {
                return Err(ControlRejected::OutOfRange { field: "monitors" });
            }
            for monitor in monitors {
                within("monitor x", monitor.x, 0..=MAX_SCREEN_SIDE)?;
                within("monitor y", monitor.y, 0..=MAX_SCREEN_SIDE)?;
                within("monitor width", monitor.width, 1..=MAX_SCREEN_SIDE)?;
                within("monitor height", monitor.height, 1..=MAX_SCREEN_SIDE)?;
                if monitor.name.is_empty() || monitor.name.chars().count() > MAX_MONITOR_NAME_CHARS {
                    return Err(ControlRejected::OutOfRange { field: "monitor name" });
                }
            }
        }
    }
    Ok(message)
}

fn check_shape(shape: &CursorShape) -> Result<(), ControlRejected> {
    within("id", shape.id, NO_SHAPE + 1..=u32::MAX)?;
    within("width", shape.width, 1..=MAX_CURSOR_SIDE)?;
    within("height", shape.height, 1..=MAX_CURSOR_SIDE)?;
    if shape.hot_x >= shape.width || shape.hot_y >= shape.height {
        return Err(ControlRejected::BadShape("the hot spot lies outside the image"));
    }
    if shape.png.len() > MAX_CURSOR_PNG_BYTES.div_ceil(3) * 4 {
        return Err(ControlRejected::BadShape("the image is too large"));
    }
    let png = BASE64.decode(&shape.png).map_err(|_| ControlRejected::BadShape("the image is not base64"))?;
    if png.len() > MAX_CURSOR_PNG_BYTES || !png.starts_with(&PNG_SIGNATURE) {
        return Err(ControlRejected::BadShape("the image is not a PNG file"));
    }
    Ok(())
}

/// Encodes a message for the control channel.
pub fn encode<T: Serialize>(message: &T) -> String {
    // Serialising these plain enums and strings cannot fail.
    serde_json::to_string(message).unwrap_or_default()
}

/// The cursor shapes one end remembers: the last [`CURSOR_SHAPES_KEPT`]
/// added, the oldest forgotten first. The agent keeps ids (what the
/// controller knows); the controller keeps the images.
#[derive(Debug, Clone)]
pub struct ShapeCache<V> {
    entries: VecDeque<(u32, V)>,
}

impl<V> Default for ShapeCache<V> {
    fn default() -> Self {
        Self { entries: VecDeque::with_capacity(CURSOR_SHAPES_KEPT) }
    }
}

impl<V> ShapeCache<V> {
    /// The value kept for `id`.
    pub fn get(&self, id: u32) -> Option<&V> {
        self.entries.iter().find(|(kept, _)| *kept == id).map(|(_, value)| value)
    }

    /// Whether `id` is kept.
    pub fn contains(&self, id: u32) -> bool {
        self.get(id).is_some()
    }

    /// Keeps `value` for `id` (replacing an older one in place), forgetting
    /// the oldest entry when full.
    pub fn insert(&mut self, id: u32, value: V) {
        if let Some(entry) = self.entries.iter_mut().find(|(kept, _)| *kept == id) {
            entry.1 = value;
            return;
        }
        if self.entries.len() == CURSOR_SHAPES_KEPT {
            self.entries.pop_front();
        }
        self.entries.push_back((id, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local_input::Unlocked;

    const ONE_PIXEL_PNG: [u8; 16] =
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13, b'I', b'H', b'D', b'R'];

    fn shape() -> CursorShape {
        CursorShape::new(7, 24, 24, 3, 2, &ONE_PIXEL_PNG)
    }

    fn from_agent(message: AgentToController) {
        let text = encode(&message);
        assert_eq!(decode_from_agent(text.as_bytes()), Ok(message), "{text}");
    }

    #[test]
    fn every_variant_round_trips() {
        for preset in QualityPreset::ALL {
            let message = ControllerToAgent::SetQuality { preset };
            assert_eq!(decode_from_controller(encode(&message).as_bytes()), Ok(message));
            from_agent(AgentToController::applied(preset, ScreenSize { width: 1920, height: 1080 }));
        }
        from_agent(AgentToController::Cursor { x: 0, y: 16_384, visible: false, shape: 0 });
        from_agent(AgentToController::CursorShape(shape()));
    }

    #[test]
    fn wire_format_is_stable() {
        assert_eq!(
            encode(&ControllerToAgent::SetQuality { preset: QualityPreset::Speed }),
            r#"{"t":"set_quality","preset":"speed"}"#
        );
        assert_eq!(
            encode(&AgentToController::applied(QualityPreset::Speed, ScreenSize { width: 1280, height: 720 })),
            r#"{"t":"applied","preset":"speed","max_bitrate_kbps":1000,"max_fps":20,"scale_percent":50,"screen_width":1280,"screen_height":720}"#
        );
        assert_eq!(
            encode(&AgentToController::Cursor { x: 5, y: 6, visible: true, shape: 9 }),
            r#"{"t":"cursor","x":5,"y":6,"visible":true,"shape":9}"#
        );
        assert_eq!(
            encode(&AgentToController::CursorShape(shape())),
            r#"{"t":"cursor_shape","id":7,"width":24,"height":24,"hot_x":3,"hot_y":2,"png":"iVBORw0KGgoAAAANSUhEUg=="}"#
        );
        assert_eq!(shape().data_url(), "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==");
    }

    #[test]
    fn presets_go_from_fast_to_sharp() {
        let [speed, balanced, quality] = QualityPreset::ALL.map(QualityPreset::settings);
        assert!(speed.max_bitrate_kbps < balanced.max_bitrate_kbps);
        assert!(balanced.max_bitrate_kbps < quality.max_bitrate_kbps);
        assert!(speed.scale_percent < balanced.scale_percent);
        assert!(speed.max_fps <= balanced.max_fps && balanced.max_fps <= quality.max_fps);
        assert_eq!(QualityPreset::default(), QualityPreset::Balanced);
        for preset in QualityPreset::ALL {
            assert_eq!(encode(&preset), format!("\"{}\"", preset.key()));
        }
    }

    #[test]
    fn stream_sizes_are_scaled_and_even() {
        let hd = ScreenSize { width: 1280, height: 720 };
        let half = QualityPreset::Speed.settings();
        assert_eq!(half.stream_size(hd), ScreenSize { width: 640, height: 360 });
        assert_eq!(QualityPreset::Quality.settings().stream_size(hd), hd);
        let odd = ScreenSize { width: 1366, height: 767 };
        assert_eq!(half.stream_size(odd), ScreenSize { width: 682, height: 382 });
        assert_eq!(QualityPreset::Balanced.settings().stream_size(odd), ScreenSize { width: 1366, height: 766 });
        assert_eq!(half.stream_size(ScreenSize { width: 1, height: 3 }), ScreenSize { width: 2, height: 2 });
    }

    #[test]
    fn hostile_controller_messages_are_refused() {
        let reject = |text: &str| decode_from_controller(text.as_bytes()).expect_err(text);
        assert!(matches!(reject("not json"), ControlRejected::Malformed(_)));
        assert!(matches!(reject(r#"{"t":"set_quality","preset":"ultra"}"#), ControlRejected::Malformed(_)));
        assert!(matches!(reject(r#"{"t":"set_quality","preset":"speed","fps":99}"#), ControlRejected::Malformed(_)));
        assert!(matches!(
            reject(r#"{"t":"cursor","x":1,"y":1,"visible":true,"shape":1}"#),
            ControlRejected::Malformed(_)
        ));
        let long = format!(r#"{{"t":"set_quality","preset":"speed","x":"{}"}}"#, "x".repeat(70_000));
        assert_eq!(reject(&long), ControlRejected::TooLarge(long.len()));
    }

    #[test]
    fn hostile_agent_messages_are_refused() {
        let reject = |message: AgentToController| decode_from_agent(encode(&message).as_bytes()).expect_err("refused");
        let applied = |scale_percent, screen_width| AgentToController::Applied {
            preset: QualityPreset::Speed,
            max_bitrate_kbps: 1_000,
            max_fps: 20,
            scale_percent,
            screen_width,
            screen_height: 720,
        };
        assert_eq!(reject(applied(0, 1280)), ControlRejected::OutOfRange { field: "scale_percent" });
        assert_eq!(reject(applied(50, 0)), ControlRejected::OutOfRange { field: "screen_width" });
        assert_eq!(
            reject(AgentToController::Cursor { x: 16_385, y: 0, visible: true, shape: 1 }),
            ControlRejected::OutOfRange { field: "x" }
        );
        let shaped = |change: fn(&mut CursorShape)| {
            let mut shape = shape();
            change(&mut shape);
            reject(AgentToController::CursorShape(shape))
        };
        assert_eq!(shaped(|s| s.width = 129), ControlRejected::OutOfRange { field: "width" });
        assert_eq!(shaped(|s| s.id = NO_SHAPE), ControlRejected::OutOfRange { field: "id" });
        assert!(matches!(shaped(|s| s.hot_y = 24), ControlRejected::BadShape(_)));
        assert!(matches!(shaped(|s| s.png = "not base64!".into()), ControlRejected::BadShape(_)));
        assert!(matches!(shaped(|s| s.png = BASE64.encode(b"GIF89a")), ControlRejected::BadShape(_)));
        assert!(matches!(shaped(|s| s.png = "A".repeat(60_000)), ControlRejected::BadShape(_)));
        let extra = r#"{"t":"cursor","x":1,"y":1,"visible":true,"shape":1,"script":"x"}"#;
        assert!(matches!(decode_from_agent(extra.as_bytes()), Err(ControlRejected::Malformed(_))));
    }

    #[test]
    fn privacy_messages_are_strict() {
        let on = ControllerToAgent::Privacy { on: true };
        assert_eq!(encode(&on), r#"{"t":"privacy","on":true}"#);
        assert_eq!(decode_from_controller(encode(&on).as_bytes()), Ok(on));
        for hostile in [r#"{"t":"privacy"}"#, r#"{"t":"privacy","on":1}"#, r#"{"t":"privacy","on":true,"for":"ever"}"#]
        {
            assert!(
                matches!(decode_from_controller(hostile.as_bytes()), Err(ControlRejected::Malformed(_))),
                "{hostile}"
            );
        }
        from_agent(AgentToController::Privacy { state: PrivacyState::On { monitors: 2 } });
        from_agent(AgentToController::Path { end: AgentEnd::Relayed { over: crate::media_path::Transport::Tcp } });
        assert_eq!(
            encode(&AgentToController::Path { end: AgentEnd::Direct {} }),
            r#"{"t":"path","end":{"t":"direct"}}"#
        );
        from_agent(AgentToController::Privacy { state: PrivacyState::Off { why: Some(Unlocked::Escape) } });
        let reject = |state| decode_from_agent(encode(&AgentToController::Privacy { state }).as_bytes());
        assert_eq!(reject(PrivacyState::On { monitors: 0 }), Err(ControlRejected::OutOfRange { field: "monitors" }));
        assert_eq!(
            reject(PrivacyState::Failed { reason: "x".repeat(1_001) }),
            Err(ControlRejected::OutOfRange { field: "reason" })
        );
    }

    #[test]
    fn the_shape_cache_forgets_the_oldest_first() {
        let mut cache = ShapeCache::default();
        for id in 0..CURSOR_SHAPES_KEPT as u32 {
            cache.insert(id, id * 10);
        }
        cache.insert(3, 333);
        assert_eq!(cache.get(3), Some(&333));
        cache.insert(100, 1000);
        assert!(!cache.contains(0), "the oldest went");
        assert!(cache.contains(1) && cache.contains(100));
        assert_eq!(cache.get(CURSOR_SHAPES_KEPT as u32 - 1), Some(&((CURSOR_SHAPES_KEPT as u32 - 1) * 10)));
    }
}
