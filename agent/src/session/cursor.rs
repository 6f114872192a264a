//! The pointer for the controller: a thread polls the X pointer at 60 Hz
//! and fetches the cursor image when XFixes says it changed; a
//! [`CursorTracker`] turns that into control messages, sending each shape
//! once (as a PNG) and a position only when something moved.

use crate::platform::x11_cursor::{CursorImage, PointerPosition, X11Cursor};
use anyhow::Context;
use std::time::Duration;
use tether_shared::control::{
    AgentToController, CursorShape, MAX_CURSOR_PNG_BYTES, MAX_CURSOR_SIDE, NO_SHAPE, ShapeCache,
};
use tokio::sync::mpsc;

/// How often the pointer's position is read.
pub const POINTER_POLL: Duration = Duration::from_millis(16);

/// What the controller has been told about the cursor.
#[derive(Debug, Default)]
pub struct CursorTracker {
    /// The shape ids the controller still knows (it keeps the same ones).
    known: ShapeCache<()>,
    shape: u32,
    blank: bool,
    last: Option<AgentToController>,
}

impl CursorTracker {
    /// A cursor image is now in use: the shape message the controller
    /// needs first, unless it already knows this shape.
    pub fn on_image(&mut self, image: &CursorImage) -> Option<AgentToController> {
        self.blank = image.is_blank();
        if self.blank {
            return None;
        }
        if image.serial == NO_SHAPE {
            self.shape = NO_SHAPE;
            return None;
        }
        if self.known.contains(image.serial) {
            self.shape = image.serial;
            return None;
        }
        match shape_of(image) {
            Ok(shape) => {
                self.known.insert(image.serial, ());
                self.shape = image.serial;
                Some(AgentToController::CursorShape(shape))
            }
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "the controller gets a plain pointer for this cursor");
                self.shape = NO_SHAPE;
                None
            }
        }
    }

    /// The pointer is at `position`: a `cursor` message if anything changed.
    pub fn on_position(&mut self, position: PointerPosition) -> Option<AgentToController> {
        let message = AgentToController::Cursor {
            x: position.x,
            y: position.y,
            visible: position.on_screen && !self.blank,
            shape: self.shape,
        };
        if self.last.as_ref() == Some(&message) {
            return None;
        }
        self.last = Some(message.clone());
        Some(message)
    }
}

/// The image as a PNG shape message, cropped to [`MAX_CURSOR_SIDE`].
fn shape_of(image: &CursorImage) -> anyhow::Result<CursorShape> {
    let (width, height) = (image.width.min(MAX_CURSOR_SIDE), image.height.min(MAX_CURSOR_SIDE));
    if width == 0 || height == 0 || image.hot_x >= width || image.hot_y >= height {
        anyhow::bail!(
            "a {}x{} cursor with its hot spot at ({}, {})",
            image.width,
            image.height,
            image.hot_x,
            image.hot_y
        );
    }
    let row = usize::try_from(image.width)? * 4;
    let kept = usize::try_from(width)? * 4;
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("cannot start the cursor PNG")?;
    let cropped: Vec<u8> =
        image.rgba.chunks_exact(row).take(usize::try_from(height)?).flat_map(|line| &line[..kept]).copied().collect();
    writer.write_image_data(&cropped).context("cannot write the cursor PNG")?;
    writer.finish().context("cannot finish the cursor PNG")?;
    if png.len() > MAX_CURSOR_PNG_BYTES {
        anyhow::bail!("the cursor PNG takes {} bytes", png.len());
    }
    Ok(CursorShape::new(image.serial, width, height, image.hot_x, image.hot_y, &png))
}

/// Starts watching the pointer of `display` (or `$DISPLAY`); messages come
/// out on `messages` until it closes.
pub fn watch(display: Option<String>, messages: mpsc::Sender<AgentToController>) -> anyhow::Result<()> {
    #[cfg(feature = "scap")]
    if crate::platform::scap_capture::preferred(display.as_deref()) {
        // scap draws the pointer into the picture; there is no XFixes to ask.
        return Ok(());
    }
    std::thread::Builder::new()
        .name("tether-cursor".into())
        .spawn(move || {
            if let Err(err) = run(display.as_deref(), &messages) {
                tracing::warn!(error = format!("{err:#}"), "the controller will not see the remote pointer");
            }
        })
        .context("cannot start the cursor thread")?;
    Ok(())
}

fn run(display: Option<&str>, messages: &mpsc::Sender<AgentToController>) -> anyhow::Result<()> {
    let cursor = X11Cursor::open(display)?;
    let mut tracker = CursorTracker::default();
    let mut first = true;
    while !messages.is_closed() {
        if std::mem::take(&mut first) || cursor.shape_changed()? {
            let shape = tracker.on_image(&cursor.image()?);
            if let Some(message) = shape
                && messages.blocking_send(message).is_err()
            {
                break;
            }
        }
        if let Some(message) = tracker.on_position(cursor.position()?)
            && messages.blocking_send(message).is_err()
        {
            break;
        }
        // Polling the pointer's position, not waiting for a condition.
        std::thread::sleep(POINTER_POLL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_shared::control::{decode_from_agent, encode};

    fn arrow(serial: u32) -> CursorImage {
        let mut rgba = vec![0; 16 * 16 * 4];
        rgba[..4].copy_from_slice(&[255, 255, 255, 255]);
        CursorImage { serial, width: 16, height: 16, hot_x: 1, hot_y: 2, rgba }
    }

    const AT: PointerPosition = PointerPosition { x: 10, y: 20, on_screen: true };

    #[test]
    fn each_shape_is_sent_once_and_positions_only_on_change() {
        let mut tracker = CursorTracker::default();
        let Some(AgentToController::CursorShape(shape)) = tracker.on_image(&arrow(5)) else { panic!("a shape") };
        assert_eq!((shape.id, shape.width, shape.height, shape.hot_x, shape.hot_y), (5, 16, 16, 1, 2));
        let text = encode(&AgentToController::CursorShape(shape));
        assert!(decode_from_agent(text.as_bytes()).is_ok(), "a valid message: {text}");
        assert_eq!(tracker.on_position(AT), Some(AgentToController::Cursor { x: 10, y: 20, visible: true, shape: 5 }));
        assert_eq!(tracker.on_position(AT), None, "nothing moved");
        assert!(tracker.on_image(&arrow(6)).is_some());
        assert_eq!(tracker.on_image(&arrow(5)), None, "the controller knows shape 5");
        assert_eq!(tracker.on_position(AT), None, "same place, same shape as last sent");
        let moved = PointerPosition { x: 11, ..AT };
        assert_eq!(
            tracker.on_position(moved),
            Some(AgentToController::Cursor { x: 11, y: 20, visible: true, shape: 5 })
        );
    }

    #[test]
    fn blank_cursors_and_other_screens_hide_the_pointer() {
        let mut tracker = CursorTracker::default();
        tracker.on_image(&arrow(5));
        tracker.on_position(AT);
        let blank = CursorImage { rgba: vec![0; 16 * 16 * 4], ..arrow(9) };
        assert_eq!(tracker.on_image(&blank), None);
        assert_eq!(tracker.on_position(AT), Some(AgentToController::Cursor { x: 10, y: 20, visible: false, shape: 5 }));
        assert_eq!(tracker.on_image(&arrow(5)), None);
        assert!(matches!(tracker.on_position(AT), Some(AgentToController::Cursor { visible: true, .. })));
        let elsewhere = PointerPosition { on_screen: false, ..AT };
        assert!(matches!(tracker.on_position(elsewhere), Some(AgentToController::Cursor { visible: false, .. })));
    }

    #[test]
    fn huge_cursors_are_cropped_and_bad_hot_spots_refused() {
        let mut tracker = CursorTracker::default();
        let huge = CursorImage { width: 200, height: 130, rgba: vec![255; 200 * 130 * 4], ..arrow(7) };
        let Some(AgentToController::CursorShape(shape)) = tracker.on_image(&huge) else { panic!("a shape") };
        assert_eq!((shape.width, shape.height), (MAX_CURSOR_SIDE, MAX_CURSOR_SIDE));
        let off = CursorImage { hot_x: 150, width: 200, height: 130, rgba: vec![255; 200 * 130 * 4], ..arrow(8) };
        assert_eq!(tracker.on_image(&off), None);
        assert!(matches!(tracker.on_position(AT), Some(AgentToController::Cursor { shape: NO_SHAPE, .. })));
    }
}
