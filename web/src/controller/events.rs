//! Browser input to remote [`InputEvent`]s: mouse buttons by DOM number,
//! keys by `KeyboardEvent.code`, wheel deltas turned into whole notches, and
//! pointer moves throttled to one per animation frame.

use tether_shared::input::{InputEvent, Key, MAX_WHEEL_NOTCHES, MouseButton};

/// The button of a DOM `MouseEvent.button` number.
pub fn mouse_button(dom_button: i16) -> Option<MouseButton> {
    match dom_button {
        0 => Some(MouseButton::Left),
        1 => Some(MouseButton::Middle),
        2 => Some(MouseButton::Right),
        3 => Some(MouseButton::Back),
        4 => Some(MouseButton::Forward),
        _ => None,
    }
}

/// A key going down or up, by `KeyboardEvent.code`. Unknown codes are
/// skipped, and so are the browser's auto-repeats: the key stays down on
/// the target, whose own auto-repeat takes over.
pub fn key_event(code: &str, down: bool, repeat: bool) -> Option<InputEvent> {
    if down && repeat {
        return None;
    }
    Key::from_code(code).map(|key| InputEvent::Key { key, down })
}

/// `WheelEvent.deltaMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaMode {
    /// `DOM_DELTA_PIXEL` (0).
    Pixel,
    /// `DOM_DELTA_LINE` (1).
    Line,
    /// `DOM_DELTA_PAGE` (2).
    Page,
}

impl DeltaMode {
    /// From the DOM number; unknown values count as pixels.
    pub fn from_dom(mode: u32) -> Self {
        match mode {
            1 => DeltaMode::Line,
            2 => DeltaMode::Page,
            _ => DeltaMode::Pixel,
        }
    }

    /// How many units make one wheel notch. Chromium reports 100 px or 3
    /// lines per notch of a mouse wheel; a page scrolls several notches.
    fn per_notch(self) -> f64 {
        match self {
            DeltaMode::Pixel => 100.0,
            DeltaMode::Line => 3.0,
            DeltaMode::Page => 0.2,
        }
    }
}

/// Adds up wheel deltas until they make whole notches, so touchpads'
/// small steps scroll too, and a notch is never sent twice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WheelAccumulator {
    x: f64,
    y: f64,
}

impl WheelAccumulator {
    /// Adds one `wheel` event; returns the event to send once a whole notch
    /// has built up on either axis. Each event is capped at the protocol's
    /// [`MAX_WHEEL_NOTCHES`]; what is over the cap is dropped, not queued.
    pub fn add(&mut self, delta_x: f64, delta_y: f64, mode: DeltaMode) -> Option<InputEvent> {
        let per_notch = mode.per_notch();
        if delta_x.is_finite() {
            self.x += delta_x / per_notch;
        }
        if delta_y.is_finite() {
            self.y += delta_y / per_notch;
        }
        let limit = f64::from(MAX_WHEEL_NOTCHES);
        let take = |total: &mut f64| {
            let whole = total.trunc();
            *total -= whole;
            // Clamped into ±MAX_WHEEL_NOTCHES, so the conversion is exact.
            whole.clamp(-limit, limit) as i32
        };
        let (dx, dy) = (take(&mut self.x), take(&mut self.y));
        (dx != 0 || dy != 0).then_some(InputEvent::Wheel { dx, dy })
    }

    /// Forgets partial notches (the pointer left the picture).
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Keeps pointer moves to one message per animation frame: the latest
/// position wins, and a position already sent is not sent again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoveThrottle {
    pending: Option<(u32, u32)>,
    last_sent: Option<(u32, u32)>,
    frame_requested: bool,
}

impl MoveThrottle {
    /// The pointer is over target pixel `(x, y)`. Returns true when the
    /// caller must request an animation frame (and then call [`Self::on_frame`]).
    pub fn moved(&mut self, x: u32, y: u32) -> bool {
        if self.last_sent == Some((x, y)) && self.pending.is_none() {
            return false;
        }
        self.pending = Some((x, y));
        let request = !self.frame_requested;
        self.frame_requested = true;
        request
    }

    /// The animation frame came: the move to send, if any.
    pub fn on_frame(&mut self) -> Option<InputEvent> {
        self.frame_requested = false;
        let (x, y) = self.pending.take()?;
        if self.last_sent == Some((x, y)) {
            return None;
        }
        self.last_sent = Some((x, y));
        Some(InputEvent::MouseMove { x, y })
    }

    /// A button event at `(x, y)` is being sent now; it carries the
    /// position itself, so a pending move is dropped.
    pub fn button_at(&mut self, x: u32, y: u32) {
        self.pending = None;
        self.last_sent = Some((x, y));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_buttons() {
        assert_eq!(mouse_button(0), Some(MouseButton::Left));
        assert_eq!(mouse_button(1), Some(MouseButton::Middle));
        assert_eq!(mouse_button(2), Some(MouseButton::Right));
        assert_eq!(mouse_button(3), Some(MouseButton::Back));
        assert_eq!(mouse_button(4), Some(MouseButton::Forward));
        assert_eq!(mouse_button(5), None);
        assert_eq!(mouse_button(-1), None);
    }

    #[test]
    fn keys_by_code_without_repeats() {
        assert_eq!(key_event("KeyA", true, false), Some(InputEvent::Key { key: Key::KeyA, down: true }));
        assert_eq!(key_event("ShiftLeft", false, false), Some(InputEvent::Key { key: Key::ShiftLeft, down: false }));
        assert_eq!(key_event("KeyA", true, true), None);
        assert_eq!(key_event("KeyA", false, true), Some(InputEvent::Key { key: Key::KeyA, down: false }));
        assert_eq!(key_event("AudioVolumeUp", true, false), None);
        assert_eq!(key_event("", true, false), None);
    }

    #[test]
    fn wheel_notches_from_pixels_lines_and_pages() {
        let mut wheel = WheelAccumulator::default();
        assert_eq!(wheel.add(0.0, 100.0, DeltaMode::Pixel), Some(InputEvent::Wheel { dx: 0, dy: 1 }));
        assert_eq!(wheel.add(0.0, -300.0, DeltaMode::Pixel), Some(InputEvent::Wheel { dx: 0, dy: -3 }));
        assert_eq!(wheel.add(6.0, 3.0, DeltaMode::Line), Some(InputEvent::Wheel { dx: 2, dy: 1 }));
        assert_eq!(wheel.add(0.0, 1.0, DeltaMode::Page), Some(InputEvent::Wheel { dx: 0, dy: 5 }));
        assert_eq!(DeltaMode::from_dom(0), DeltaMode::Pixel);
        assert_eq!(DeltaMode::from_dom(1), DeltaMode::Line);
        assert_eq!(DeltaMode::from_dom(2), DeltaMode::Page);
        assert_eq!(DeltaMode::from_dom(7), DeltaMode::Pixel);
    }

    #[test]
    fn touchpad_steps_add_up_to_notches() {
        let mut wheel = WheelAccumulator::default();
        let sent: Vec<_> = (0..12).filter_map(|_| wheel.add(0.0, 25.0, DeltaMode::Pixel)).collect();
        // 300 px in steps of 25: a notch every 100 px.
        assert_eq!(sent, vec![InputEvent::Wheel { dx: 0, dy: 1 }; 3]);
        assert_eq!(wheel.add(0.0, 50.0, DeltaMode::Pixel), None);
        wheel.reset();
        assert_eq!(wheel.add(0.0, 50.0, DeltaMode::Pixel), None);
        assert_eq!(wheel.add(0.0, -49.0, DeltaMode::Pixel), None);
    }

    #[test]
    fn huge_wheel_deltas_are_capped() {
        let mut wheel = WheelAccumulator::default();
        assert_eq!(
            wheel.add(-1e9, 1e9, DeltaMode::Pixel),
            Some(InputEvent::Wheel { dx: -MAX_WHEEL_NOTCHES, dy: MAX_WHEEL_NOTCHES })
        );
        // The excess is dropped, not replayed later.
        assert_eq!(wheel.add(0.0, 0.0, DeltaMode::Pixel), None);
        assert_eq!(wheel.add(f64::NAN, f64::INFINITY, DeltaMode::Pixel), None);
    }

    #[test]
    fn moves_are_one_per_frame_latest_wins() {
        let mut moves = MoveThrottle::default();
        assert!(moves.moved(1, 1));
        assert!(!moves.moved(2, 2));
        assert!(!moves.moved(3, 3));
        assert_eq!(moves.on_frame(), Some(InputEvent::MouseMove { x: 3, y: 3 }));
        assert_eq!(moves.on_frame(), None);
        // The same position again sends nothing and needs no frame.
        assert!(!moves.moved(3, 3));
        assert!(moves.moved(4, 3));
        assert!(!moves.moved(3, 3));
        assert_eq!(moves.on_frame(), None);
    }

    #[test]
    fn a_button_carries_the_position() {
        let mut moves = MoveThrottle::default();
        assert!(moves.moved(10, 10));
        moves.button_at(12, 12);
        assert_eq!(moves.on_frame(), None);
        assert!(!moves.moved(12, 12));
        assert!(moves.moved(13, 12));
        assert_eq!(moves.on_frame(), Some(InputEvent::MouseMove { x: 13, y: 12 }));
    }
}
