//! What a running session is doing right now, for the session bar: the
//! screen is being sent, the technician's input arrived lately, a file is
//! moving. Counted as things start and stop, and read at a time passed in
//! (input counts as "controlling" for [`CONTROL_SHOWN_MS`] after it came).

use crate::access::{Access, AccessSet};
use crate::connection_code::UnixMillis;

/// How long one input event keeps the session "controlling".
pub const CONTROL_SHOWN_MS: i64 = 2_000;

/// A session's activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    streams: u32,
    transfers: u32,
    last_input: Option<UnixMillis>,
}

/// Something that started or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening {
    StreamStarted,
    StreamStopped,
    TransferStarted,
    TransferEnded,
    /// The technician's input reached the display.
    Input,
}

impl Activity {
    /// Notes what happened at `now`.
    pub fn note(&mut self, happening: Happening, now: UnixMillis) {
        match happening {
            Happening::StreamStarted => self.streams += 1,
            Happening::StreamStopped => self.streams = self.streams.saturating_sub(1),
            Happening::TransferStarted => self.transfers += 1,
            Happening::TransferEnded => self.transfers = self.transfers.saturating_sub(1),
            Happening::Input => self.last_input = Some(now),
        }
    }

    /// The kinds of access in use at `now`: view, control, file transfer.
    pub fn in_use(&self, now: UnixMillis) -> AccessSet {
        let mut in_use = AccessSet::empty();
        if self.streams > 0 {
            in_use.insert(Access::View);
        }
        if self.last_input.is_some_and(|at| now - at < CONTROL_SHOWN_MS) {
            in_use.insert(Access::Control);
        }
        if self.transfers > 0 {
            in_use.insert(Access::FileTransfer);
        }
        in_use
    }

    /// When [`Activity::in_use`] changes next by itself (control lapsing).
    pub fn next_change(&self, now: UnixMillis) -> Option<UnixMillis> {
        self.last_input.map(|at| at + CONTROL_SHOWN_MS).filter(|lapse| *lapse > now)
    }
}

/// "viewing, controlling, transferring a file" — what the bar says is in
/// use; empty when nothing is.
pub fn in_use_words(in_use: AccessSet) -> String {
    let words: Vec<&str> = in_use
        .iter()
        .filter_map(|access| match access {
            Access::View => Some("viewing"),
            Access::Control => Some("controlling"),
            Access::FileTransfer => Some("transferring a file"),
            _ => None,
        })
        .collect();
    words.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_shows_for_a_while_after_input_and_transfers_and_streams_count() {
        let mut activity = Activity::default();
        assert_eq!(in_use_words(activity.in_use(0)), "");
        activity.note(Happening::StreamStarted, 0);
        activity.note(Happening::Input, 1_000);
        assert_eq!(in_use_words(activity.in_use(1_500)), "viewing, controlling");
        assert_eq!(activity.next_change(1_500), Some(3_000));
        assert_eq!(in_use_words(activity.in_use(3_000)), "viewing", "control lapses");
        assert_eq!(activity.next_change(3_000), None);
        activity.note(Happening::TransferStarted, 3_000);
        activity.note(Happening::TransferStarted, 3_000);
        activity.note(Happening::TransferEnded, 3_100);
        assert_eq!(in_use_words(activity.in_use(3_100)), "viewing, transferring a file", "one still moves");
        activity.note(Happening::TransferEnded, 3_200);
        activity.note(Happening::StreamStopped, 3_200);
        activity.note(Happening::StreamStopped, 3_200);
        assert_eq!(activity.in_use(3_200), AccessSet::empty(), "never below nothing");
    }
}
