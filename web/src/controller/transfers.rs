//! The files tool as the controller follows it: the folder being browsed
//! and every transfer of the session with its progress, rate and time left.
//! Pure, tested natively: [`super::file_io`] moves the bytes and feeds it.

use tether_shared::files::human_size;
use tether_shared::files::rate::RateMeter;
use tether_shared::files::wire::Entry;
use tether_shared::signal::FileDirection;

/// Where one transfer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferState {
    /// Offered or asked for; the computer (maybe the person) decides.
    Asking,
    /// Bytes are moving.
    Moving,
    /// Every byte moved; the SHA-256 is being checked.
    Checking,
    /// Done and checked; the sentence says where it went.
    Done(String),
    /// Refused or broken, and why.
    Failed(String),
    /// Stopped by either side.
    Cancelled,
    /// The connection dropped; it can resume.
    Interrupted,
}

impl TransferState {
    /// A stable name for styling and tests.
    pub fn key(&self) -> &'static str {
        match self {
            TransferState::Asking => "asking",
            TransferState::Moving => "moving",
            TransferState::Checking => "checking",
            TransferState::Done(_) => "done",
            TransferState::Failed(_) => "failed",
            TransferState::Cancelled => "cancelled",
            TransferState::Interrupted => "interrupted",
        }
    }

    /// Whether the transfer is over for good.
    pub fn is_final(&self) -> bool {
        matches!(self, TransferState::Done(_) | TransferState::Failed(_) | TransferState::Cancelled)
    }
}

/// One transfer as the page shows it.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub id: String,
    pub direction: FileDirection,
    /// The name as sent or as the computer saved it.
    pub name: String,
    /// For a download: where it is on the computer.
    pub path: Vec<String>,
    pub size: u64,
    /// Bytes the other end confirmed (upload) or this end wrote (download).
    pub moved: u64,
    pub state: TransferState,
    meter: RateMeter,
}

impl Transfer {
    /// A new upload of `name` (`size` bytes) or download of `path`.
    pub fn new(id: String, direction: FileDirection, name: String, path: Vec<String>, size: u64) -> Self {
        Self { id, direction, name, path, size, moved: 0, state: TransferState::Asking, meter: RateMeter::default() }
    }

    /// Progress, 0–100.
    pub fn percent(&self) -> u64 {
        self.moved.saturating_mul(100).checked_div(self.size).unwrap_or(100)
    }

    /// "1.5 MiB of 2.0 GiB · 3.1 MiB/s, 10 min 5 s left" while moving;
    /// the outcome's sentence after.
    pub fn progress_text(&self) -> String {
        let amounts = format!("{} of {}", human_size(self.moved), human_size(self.size));
        match &self.state {
            TransferState::Asking => "Waiting for the computer (the person may be asked)…".into(),
            TransferState::Moving => {
                format!("{amounts} · {}", self.meter.describe(self.size - self.moved.min(self.size)))
            }
            TransferState::Checking => format!("{amounts} · checking the SHA-256…"),
            TransferState::Done(text) | TransferState::Failed(text) => text.clone(),
            TransferState::Cancelled => format!("Cancelled at {amounts}."),
            TransferState::Interrupted => format!("Interrupted at {amounts}: the connection dropped."),
        }
    }

    /// `moved` bytes at `now` (ms).
    pub fn moved_to(&mut self, moved: u64, now: i64) {
        self.moved = moved.min(self.size);
        self.meter.record(now, self.moved);
    }

    /// The transfer goes on (again) from `offset`.
    pub fn started(&mut self, offset: u64, now: i64) {
        self.state = TransferState::Moving;
        self.meter = RateMeter::default();
        self.moved_to(offset, now);
    }
}

/// The folder being browsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Folder {
    /// Components below the shared root.
    pub path: Vec<String>,
    pub entries: Vec<Entry>,
    /// Entries left out of the listing.
    pub more: u64,
}

/// A new transfer id: 16 random hex digits (resuming sends the same one).
pub fn new_id(random: [u8; 8]) -> String {
    tether_shared::files::wire::hex(&random)
}

/// The breadcrumbs of `path`: ("Home", []), ("Documents", ["Documents"]), …
pub fn breadcrumbs(path: &[String]) -> Vec<(String, Vec<String>)> {
    std::iter::once(("Home".to_owned(), Vec::new()))
        .chain((0..path.len()).map(|depth| (path[depth].clone(), path[..=depth].to_vec())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_reads_as_amounts_rate_and_time_left() {
        let mut transfer =
            Transfer::new("a1".into(), FileDirection::ToComputer, "big.iso".into(), vec![], 10 * 1024 * 1024);
        assert_eq!(transfer.state.key(), "asking");
        transfer.started(0, 0);
        transfer.moved_to(2 * 1024 * 1024, 1_000);
        assert_eq!(transfer.percent(), 20);
        assert_eq!(transfer.progress_text(), "2.0 MiB of 10.0 MiB · 2.0 MiB/s, 4 s left");
        transfer.state = TransferState::Interrupted;
        assert!(transfer.progress_text().starts_with("Interrupted at 2.0 MiB"));
        assert!(!transfer.state.is_final());
        transfer.started(2 * 1024 * 1024, 5_000);
        assert_eq!(transfer.progress_text(), "2.0 MiB of 10.0 MiB · starting…", "a resumed transfer measures afresh");
    }

    #[test]
    fn breadcrumbs_lead_back_up() {
        let path = vec!["Documents".to_owned(), "Taxes".to_owned()];
        let crumbs: Vec<_> = breadcrumbs(&path).into_iter().map(|(name, to)| (name, to.len())).collect();
        assert_eq!(crumbs, vec![("Home".into(), 0), ("Documents".into(), 1), ("Taxes".into(), 2)]);
        assert_eq!(new_id([0, 1, 2, 3, 4, 5, 6, 255]), "00010203040506ff");
        let empty = Transfer::new("e".into(), FileDirection::FromComputer, "e".into(), vec![], 0);
        assert_eq!(empty.percent(), 100);
    }
}
