//! When to send a frame: only when the screen changed, when the viewer asked
//! for a key frame (PLI/FIR), or after a second of stillness, so that a
//! viewer that missed something still gets a picture. A still screen costs
//! one tiny frame a second. Capture itself ticks at the quality preset's
//! frame rate ([`frame_period`]); where X DAMAGE says nothing was drawn it
//! does not grab at all ([`should_grab`]) and looks again every
//! [`DAMAGE_POLL`], so a change is seen within a few ms rather than half a
//! frame period.

use crate::platform::Damage;
use std::time::Duration;

/// The longest a viewer waits for a frame while nothing changes.
pub const IDLE_REFRESH: Duration = Duration::from_secs(1);

/// How often capture looks for damage while nothing is drawn: a
/// non-blocking read of the X connection, far cheaper than a grab.
pub const DAMAGE_POLL: Duration = Duration::from_millis(4);

/// The time between two captures at `max_fps` frames a second (at least one).
pub fn frame_period(max_fps: u32) -> Duration {
    Duration::from_secs(1) / max_fps.max(1)
}

/// What kind of frame to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A key frame (IDR), decodable on its own.
    Key,
    /// A frame that refers to the previous ones.
    Delta,
}

/// Whether to grab the screen now. Without damage information, always; on
/// a still screen only for the first frame, a key frame request, a change
/// that was grabbed but not yet sent (`unsent_change`) or the idle refresh.
pub fn should_grab(damage: Damage, key_requested: bool, unsent_change: bool, since_last: Option<Duration>) -> bool {
    match damage {
        Damage::Unknown | Damage::Drawn => true,
        Damage::Still => key_requested || unsent_change || since_last.is_none_or(|elapsed| elapsed >= IDLE_REFRESH),
    }
}

/// Whether to encode the frame just captured. `since_last` is the time since
/// the last frame sent, `None` before the first.
pub fn should_send(changed: bool, key_requested: bool, since_last: Option<Duration>) -> Option<FrameKind> {
    match since_last {
        None => Some(FrameKind::Key),
        Some(_) if key_requested => Some(FrameKind::Key),
        Some(_) if changed => Some(FrameKind::Delta),
        Some(elapsed) if elapsed >= IDLE_REFRESH => Some(FrameKind::Delta),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOON: Option<Duration> = Some(Duration::from_millis(33));
    const LATE: Option<Duration> = Some(IDLE_REFRESH);

    #[test]
    fn capture_ticks_at_the_frame_rate() {
        assert_eq!(frame_period(20), Duration::from_millis(50));
        assert_eq!(frame_period(30), Duration::from_nanos(33_333_333));
        assert_eq!(frame_period(0), Duration::from_secs(1));
    }

    #[test]
    fn a_still_screen_is_grabbed_only_when_something_is_due() {
        assert!(!should_grab(Damage::Still, false, false, SOON));
        assert!(!should_grab(Damage::Still, false, false, Some(IDLE_REFRESH - Duration::from_millis(1))));
        assert!(should_grab(Damage::Still, false, false, LATE), "the idle refresh");
        assert!(should_grab(Damage::Still, false, false, None), "the first frame");
        assert!(should_grab(Damage::Still, true, false, SOON), "a key frame request");
        assert!(should_grab(Damage::Still, false, true, SOON), "a change not sent yet");
        assert!(should_grab(Damage::Drawn, false, false, SOON));
        assert!(should_grab(Damage::Unknown, false, false, SOON), "no damage information: poll");
    }

    #[test]
    fn the_first_frame_is_a_key_frame() {
        assert_eq!(should_send(false, false, None), Some(FrameKind::Key));
        assert_eq!(should_send(true, false, None), Some(FrameKind::Key));
    }

    #[test]
    fn a_still_screen_sends_nothing_until_the_idle_refresh() {
        assert_eq!(should_send(false, false, SOON), None);
        assert_eq!(should_send(false, false, Some(IDLE_REFRESH - Duration::from_millis(1))), None);
        assert_eq!(should_send(false, false, LATE), Some(FrameKind::Delta));
    }

    #[test]
    fn changes_send_delta_frames() {
        assert_eq!(should_send(true, false, SOON), Some(FrameKind::Delta));
        assert_eq!(should_send(true, false, LATE), Some(FrameKind::Delta));
    }

    #[test]
    fn key_frame_requests_win() {
        assert_eq!(should_send(false, true, SOON), Some(FrameKind::Key));
        assert_eq!(should_send(true, true, SOON), Some(FrameKind::Key));
        assert_eq!(should_send(false, true, LATE), Some(FrameKind::Key));
    }
}
