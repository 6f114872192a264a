//! What a running session is doing right now, for the session bar: the
//! screen is being sent, the technician's input arrived lately, files are
//! moving (with their progress, rate and time left). Counted as things
//! start and stop, and read at a time passed in (input counts as
//! "controlling" for [`CONTROL_SHOWN_MS`] after it came).

use crate::access::{Access, AccessSet};
use crate::connection_code::UnixMillis;
use crate::files::rate::RateMeter;
use std::collections::BTreeMap;

/// How long one input event keeps the session "controlling".
pub const CONTROL_SHOWN_MS: i64 = 2_000;

/// A session's activity.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    streams: u32,
    last_input: Option<UnixMillis>,
    /// Moving files by the key their start was given.
    transfers: BTreeMap<u64, Moving>,
    /// The person's own keyboard and mouse are locked.
    locked: bool,
}

/// One moving file.
#[derive(Debug, Clone)]
struct Moving {
    name: String,
    size: u64,
    moved: u64,
    meter: RateMeter,
}

/// Something that started or stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    StreamStarted,
    StreamStopped,
    /// File `name` of `size` bytes started moving, known as `key`.
    TransferStarted {
        key: u64,
        name: String,
        size: u64,
    },
    /// File `key` has moved `moved` bytes.
    TransferMoved {
        key: u64,
        moved: u64,
    },
    TransferEnded {
        key: u64,
    },
    /// The technician's input reached the display.
    Input,
    /// The person's own keyboard and mouse were locked (`true`) or given back.
    Locked(bool),
}

impl Activity {
    /// Notes what happened at `now`.
    pub fn note(&mut self, happening: Happening, now: UnixMillis) {
        match happening {
            Happening::StreamStarted => self.streams += 1,
            Happening::StreamStopped => self.streams = self.streams.saturating_sub(1),
            Happening::TransferStarted { key, name, size } => {
                let mut meter = RateMeter::default();
                meter.record(now, 0);
                self.transfers.insert(key, Moving { name, size, moved: 0, meter });
            }
            Happening::TransferMoved { key, moved } => {
                if let Some(transfer) = self.transfers.get_mut(&key) {
                    transfer.moved = moved.min(transfer.size);
                    transfer.meter.record(now, transfer.moved);
                }
            }
            Happening::TransferEnded { key } => {
                self.transfers.remove(&key);
            }
            Happening::Input => self.last_input = Some(now),
            Happening::Locked(locked) => self.locked = locked,
        }
    }

    /// The kinds of access in use at `now`: view, control, file transfer,
    /// the local-input lock.
    pub fn in_use(&self, now: UnixMillis) -> AccessSet {
        let mut in_use = AccessSet::empty();
        if self.streams > 0 {
            in_use.insert(Access::View);
        }
        if self.last_input.is_some_and(|at| now - at < CONTROL_SHOWN_MS) {
            in_use.insert(Access::Control);
        }
        if !self.transfers.is_empty() {
            in_use.insert(Access::FileTransfer);
        }
        if self.locked {
            in_use.insert(Access::LocalInputLock);
        }
        in_use
    }

    /// When [`Activity::in_use`] changes next by itself (control lapsing).
    pub fn next_change(&self, now: UnixMillis) -> Option<UnixMillis> {
        self.last_input.map(|at| at + CONTROL_SHOWN_MS).filter(|lapse| *lapse > now)
    }

    /// "report.pdf 45% (2.0 MiB/s, 10 s left)", and how many more move.
    pub fn transfer_text(&self) -> Option<String> {
        let (first, rest) = (self.transfers.values().next()?, self.transfers.len() - 1);
        let percent = first.moved.saturating_mul(100).checked_div(first.size).unwrap_or(100);
        let text = format!("{} {percent}% ({})", first.name, first.meter.describe(first.size - first.moved));
        Some(if rest == 0 { text } else { format!("{text} and {rest} more") })
    }
}

/// "viewing, controlling, transferring report.pdf 45% (…)" — what the bar
/// says is in use; empty when nothing is. `transfer` is the moving file's
/// text, where there is one.
pub fn in_use_words(in_use: AccessSet, transfer: Option<&str>) -> String {
    let words: Vec<String> = in_use
        .iter()
        .filter_map(|access| match access {
            Access::View => Some("viewing".to_owned()),
            Access::Control => Some("controlling".to_owned()),
            Access::FileTransfer => Some(match transfer {
                Some(transfer) => format!("transferring {transfer}"),
                None => "transferring a file".to_owned(),
            }),
            Access::LocalInputLock => {
                Some(format!("your keyboard and mouse are locked ({} unlocks)", crate::local_input::ESCAPE_COMBO_WORDS))
            }
            _ => None,
        })
        .collect();
    words.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(key: u64) -> Happening {
        Happening::TransferStarted { key, name: format!("file{key}.bin"), size: 10 * 1024 * 1024 }
    }

    #[test]
    fn a_lock_says_how_to_undo_it() {
        let mut activity = Activity::default();
        activity.note(Happening::Locked(true), 0);
        assert_eq!(
            in_use_words(activity.in_use(0), None),
            "your keyboard and mouse are locked (Ctrl+Alt+Shift+Esc unlocks)"
        );
        activity.note(Happening::Locked(false), 1);
        assert_eq!(in_use_words(activity.in_use(1), None), "");
    }

    #[test]
    fn control_shows_for_a_while_after_input_and_transfers_and_streams_count() {
        let mut activity = Activity::default();
        assert_eq!(in_use_words(activity.in_use(0), None), "");
        activity.note(Happening::StreamStarted, 0);
        activity.note(Happening::Input, 1_000);
        assert_eq!(in_use_words(activity.in_use(1_500), None), "viewing, controlling");
        assert_eq!(activity.next_change(1_500), Some(3_000));
        assert_eq!(in_use_words(activity.in_use(3_000), None), "viewing", "control lapses");
        assert_eq!(activity.next_change(3_000), None);
        activity.note(started(1), 3_000);
        activity.note(started(2), 3_000);
        activity.note(Happening::TransferEnded { key: 2 }, 3_100);
        assert_eq!(in_use_words(activity.in_use(3_100), None), "viewing, transferring a file", "one still moves");
        activity.note(Happening::TransferEnded { key: 1 }, 3_200);
        activity.note(Happening::StreamStopped, 3_200);
        activity.note(Happening::StreamStopped, 3_200);
        assert_eq!(activity.in_use(3_200), AccessSet::empty(), "never below nothing");
    }

    #[test]
    fn a_moving_file_says_how_far_how_fast_and_how_long() {
        let mut activity = Activity::default();
        assert_eq!(activity.transfer_text(), None);
        activity.note(started(7), 0);
        activity.note(Happening::TransferMoved { key: 7, moved: 2 * 1024 * 1024 }, 1_000);
        let text = activity.transfer_text();
        assert_eq!(text.as_deref(), Some("file7.bin 20% (2.0 MiB/s, 4 s left)"));
        assert_eq!(
            in_use_words(activity.in_use(1_000), text.as_deref()),
            "transferring file7.bin 20% (2.0 MiB/s, 4 s left)"
        );
        activity.note(started(8), 1_000);
        assert!(activity.transfer_text().is_some_and(|text| text.ends_with("and 1 more")));
    }
}
