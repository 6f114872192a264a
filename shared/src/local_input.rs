//! The person's own mouse and keyboard against the technician's: pure
//! decisions, time passed in (milliseconds on the caller's clock).
//!
//! - [`LocalFirst`]: by default the person wins — while they move or type,
//!   the technician's input is held back until [`HOLD_MS`] after their
//!   last movement, and the controller is told "the user is using the
//!   computer".
//! - [`InputLock`]: where the policy allows and the person agreed, the
//!   technician locks the physical keyboard and mouse. The lock lapses by
//!   itself when the controller's heartbeat stops for [`HEARTBEAT_LAPSE_MS`]
//!   and ends at once on the escape combination ([`EscapeCombo`]) pressed
//!   on the physical keyboard, before anything is reported. The privacy
//!   screen is part of the lock: it covers only a locked screen, and
//!   whatever ends the lock takes it away too.

use serde::{Deserialize, Serialize};

/// How long the technician's input waits after the person's last local
/// movement or key.
pub const HOLD_MS: u64 = 1_000;
/// How long a lock outlives the controller's last heartbeat.
pub const HEARTBEAT_LAPSE_MS: u64 = 5_000;

/// Whether the person is using the computer right now, as the controller
/// is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalUse {
    /// The person moved or typed within the last [`HOLD_MS`]: the
    /// technician's input is held back.
    InUse,
    /// The technician's input goes through.
    Idle,
}

/// Local input first: the technician's input waits while the person uses
/// their own mouse or keyboard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalFirst {
    /// When the hold ends (the last local movement plus [`HOLD_MS`]).
    held_until: Option<u64>,
}

impl LocalFirst {
    /// The person moved or typed at `now`; the change to report, if any.
    pub fn local_activity(&mut self, now: u64) -> Option<LocalUse> {
        let was_idle = !self.holds(now);
        self.held_until = Some(now + HOLD_MS);
        was_idle.then_some(LocalUse::InUse)
    }

    /// Whether the technician's input is held back at `now`.
    pub fn holds(&self, now: u64) -> bool {
        self.held_until.is_some_and(|until| now < until)
    }

    /// Time passed to `now`: [`LocalUse::Idle`] once, when the hold ended.
    pub fn poll(&mut self, now: u64) -> Option<LocalUse> {
        match self.held_until {
            Some(until) if now >= until => {
                self.held_until = None;
                Some(LocalUse::Idle)
            }
            _ => None,
        }
    }

    /// When [`LocalFirst::poll`] next has something to say.
    pub fn next_change(&self) -> Option<u64> {
        self.held_until
    }
}

/// Why a lock ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unlocked {
    /// The technician unlocked.
    ByTechnician,
    /// The person pressed the escape combination.
    Escape,
    /// The controller's heartbeat stopped.
    HeartbeatLost,
    /// The session ended (or its mode no longer allows the lock).
    SessionEnded,
}

impl Unlocked {
    /// In words for both ends.
    pub fn sentence(self) -> &'static str {
        match self {
            Unlocked::ByTechnician => "the technician unlocked the keyboard and mouse",
            Unlocked::Escape => "the person at the computer unlocked the keyboard and mouse",
            Unlocked::HeartbeatLost => {
                "the technician's connection went quiet, so the keyboard and mouse were unlocked"
            }
            Unlocked::SessionEnded => "the session ended, so the keyboard and mouse were unlocked",
        }
    }
}

/// Where the lock stands, as the controller is told. (v11)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum LockState {
    /// The person's keyboard and mouse are theirs (`why`: what ended the
    /// last lock, if one did).
    Unlocked { why: Option<Unlocked> },
    /// Asked for: the person is being asked, or the devices are being taken.
    Locking {},
    /// Taken: `devices` keyboards and pointers.
    Locked { devices: u32 },
    /// The lock could not be taken, and why; nothing is locked.
    Failed { reason: String },
}

/// The local-input lock of one session, and whether the privacy screen
/// covers the display while it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InputLock {
    #[default]
    Unlocked,
    /// Locked; lapses at `lapses_at` unless a heartbeat comes first.
    Locked { lapses_at: u64, covered: bool },
}

/// What the driver does after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockEffect {
    /// Take the physical devices away from the desktop, and cover the
    /// display too when `covered`.
    Lock { covered: bool },
    /// Put the privacy screen up (`true`) or take it away, the lock staying.
    Cover(bool),
    /// Give the devices back, for this reason, and take the privacy screen
    /// away too when it was up (`uncover`).
    Unlock { why: Unlocked, uncover: bool },
}

impl InputLock {
    /// The technician locks at `now` (already allowed by the grant and
    /// the person); locking twice is one lock.
    pub fn lock(&mut self, now: u64) -> Option<LockEffect> {
        match *self {
            InputLock::Unlocked => {
                *self = InputLock::Locked { lapses_at: now + HEARTBEAT_LAPSE_MS, covered: false };
                Some(LockEffect::Lock { covered: false })
            }
            InputLock::Locked { .. } => None,
        }
    }

    /// The technician puts the privacy screen up (`on`, locking first if
    /// need be) or takes it away (the lock stays).
    pub fn cover(&mut self, on: bool, now: u64) -> Option<LockEffect> {
        match (*self, on) {
            (InputLock::Unlocked, true) => {
                *self = InputLock::Locked { lapses_at: now + HEARTBEAT_LAPSE_MS, covered: true };
                Some(LockEffect::Lock { covered: true })
            }
            (InputLock::Locked { lapses_at, covered }, _) if covered != on => {
                *self = InputLock::Locked { lapses_at, covered: on };
                Some(LockEffect::Cover(on))
            }
            _ => None,
        }
    }

    /// The privacy screen could not be put up or kept: the lock stays,
    /// uncovered (the driver already took the screen away).
    pub fn uncovered(&mut self) {
        if let InputLock::Locked { covered, .. } = self {
            *covered = false;
        }
    }

    /// The controller's heartbeat at `now` keeps a lock going.
    pub fn heartbeat(&mut self, now: u64) {
        if let InputLock::Locked { lapses_at, .. } = self {
            *lapses_at = (*lapses_at).max(now + HEARTBEAT_LAPSE_MS);
        }
    }

    /// The lock ends for `why` (nothing if it is not locked).
    pub fn unlock(&mut self, why: Unlocked) -> Option<LockEffect> {
        let (was_locked, uncover) = (self.is_locked(), self.is_covered());
        *self = InputLock::Unlocked;
        was_locked.then_some(LockEffect::Unlock { why, uncover })
    }

    /// Time passed to `now`: the lock lapses when the heartbeat stopped.
    pub fn poll(&mut self, now: u64) -> Option<LockEffect> {
        match *self {
            InputLock::Locked { lapses_at, .. } if now >= lapses_at => self.unlock(Unlocked::HeartbeatLost),
            _ => None,
        }
    }

    /// When [`InputLock::poll`] next may act.
    pub fn next_change(&self) -> Option<u64> {
        match *self {
            InputLock::Locked { lapses_at, .. } => Some(lapses_at),
            InputLock::Unlocked => None,
        }
    }

    pub fn is_locked(&self) -> bool {
        matches!(self, InputLock::Locked { .. })
    }

    /// Whether the privacy screen should be up.
    pub fn is_covered(&self) -> bool {
        matches!(self, InputLock::Locked { covered: true, .. })
    }
}

/// A key of the escape combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComboKey {
    Control,
    Alt,
    Shift,
    Escape,
}

/// The escape combination, for the bar and the privacy screen to say.
pub const ESCAPE_COMBO_WORDS: &str = "Ctrl+Alt+Shift+Esc";

/// Watches the physical keyboard for the escape combination: Ctrl, Alt
/// and Shift held (either side) and Esc pressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EscapeCombo {
    control: u8,
    alt: u8,
    shift: u8,
}

impl EscapeCombo {
    /// A physical key went down or up; whether that completed the
    /// combination. `side` tells a left key from a right one (0 or 1), so
    /// that releasing one does not forget the other.
    pub fn key(&mut self, key: ComboKey, side: u8, down: bool) -> bool {
        let bit = 1 << (side & 1);
        let held = match key {
            ComboKey::Control => &mut self.control,
            ComboKey::Alt => &mut self.alt,
            ComboKey::Shift => &mut self.shift,
            ComboKey::Escape => return down && self.control != 0 && self.alt != 0 && self.shift != 0,
        };
        if down {
            *held |= bit
        } else {
            *held &= !bit
        }
        false
    }

    /// Forget what is held (the devices were taken or given back).
    pub fn reset(&mut self) {
        *self = EscapeCombo::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_movement_holds_the_technician_for_a_second_after_the_last() {
        let mut local = LocalFirst::default();
        assert!(!local.holds(0));
        assert_eq!(local.local_activity(100), Some(LocalUse::InUse));
        assert_eq!(local.local_activity(600), None, "already in use");
        assert!(local.holds(1_599));
        assert_eq!(local.poll(1_599), None);
        assert_eq!(local.next_change(), Some(1_600));
        assert_eq!(local.poll(1_600), Some(LocalUse::Idle));
        assert!(!local.holds(1_600));
        assert_eq!(local.poll(5_000), None, "said once");
    }

    #[test]
    fn a_lock_lapses_without_heartbeats_and_ends_once() {
        let mut lock = InputLock::default();
        assert_eq!(lock.lock(0), Some(LockEffect::Lock { covered: false }));
        assert_eq!(lock.lock(10), None, "one lock");
        lock.heartbeat(4_000);
        assert_eq!(lock.poll(5_000), None, "the heartbeat kept it");
        assert_eq!(lock.next_change(), Some(9_000));
        assert_eq!(lock.poll(9_000), Some(LockEffect::Unlock { why: Unlocked::HeartbeatLost, uncover: false }));
        assert_eq!(lock.unlock(Unlocked::SessionEnded), None, "already unlocked");
        lock.heartbeat(10_000);
        assert!(!lock.is_locked(), "a heartbeat does not lock");
    }

    #[test]
    fn escape_and_session_end_unlock_at_once() {
        let mut lock = InputLock::default();
        lock.lock(0);
        assert_eq!(lock.unlock(Unlocked::Escape), Some(LockEffect::Unlock { why: Unlocked::Escape, uncover: false }));
        lock.lock(1);
        let ended = Some(LockEffect::Unlock { why: Unlocked::SessionEnded, uncover: false });
        assert_eq!(lock.unlock(Unlocked::SessionEnded), ended);
    }

    #[test]
    fn the_privacy_screen_comes_with_the_lock_and_goes_with_it() {
        let mut lock = InputLock::default();
        assert_eq!(lock.cover(false, 0), None, "nothing to take away");
        assert_eq!(lock.cover(true, 0), Some(LockEffect::Lock { covered: true }), "locks and covers at once");
        assert!(lock.is_covered());
        assert_eq!(lock.cover(true, 1), None, "one screen");
        assert_eq!(lock.cover(false, 2), Some(LockEffect::Cover(false)));
        assert!(lock.is_locked(), "taking the screen away keeps the lock");
        assert_eq!(lock.lock(3), None);
        assert_eq!(lock.cover(true, 4), Some(LockEffect::Cover(true)), "covers a lock already held");
        lock.uncovered();
        assert!(lock.is_locked() && !lock.is_covered(), "a screen that could not stay leaves the lock");
        lock.cover(true, 5);
        let lapsed = Some(LockEffect::Unlock { why: Unlocked::HeartbeatLost, uncover: true });
        assert_eq!(lock.poll(HEARTBEAT_LAPSE_MS + 5), lapsed, "the screen lapses with the lock");
        assert!(!lock.is_covered());
    }

    #[test]
    fn the_combination_needs_all_three_held_then_escape() {
        let mut combo = EscapeCombo::default();
        assert!(!combo.key(ComboKey::Escape, 0, true));
        combo.key(ComboKey::Control, 0, true);
        combo.key(ComboKey::Alt, 1, true);
        assert!(!combo.key(ComboKey::Escape, 0, true), "Shift is missing");
        combo.key(ComboKey::Shift, 0, true);
        combo.key(ComboKey::Shift, 1, true);
        combo.key(ComboKey::Shift, 0, false);
        assert!(combo.key(ComboKey::Escape, 0, true), "the right Shift still counts");
        assert!(!combo.key(ComboKey::Escape, 0, false), "a release completes nothing");
        combo.reset();
        assert!(!combo.key(ComboKey::Escape, 0, true));
    }
}
