//! The session's activity (`tether_shared::activity`) as its tasks change
//! it — the stream while it runs, each file while it moves (and how far),
//! each input event — and the watcher that reports what is in use whenever
//! that changes ([`SessionEvent::InUse`]; a moving file's progress at most
//! every [`PROGRESS_EVERY`]), for the session bar.

use super::SessionEvent;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_shared::access::AccessSet;
use tether_shared::activity::{Activity, Happening};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// How often a moving file's progress is reported.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// A session's activity; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ActivityCell {
    // A std mutex: held only to note or read, never across an await.
    activity: Arc<Mutex<Activity>>,
    changed: Arc<Notify>,
    next_key: Arc<AtomicU64>,
}

/// A moving file: notes its progress, and its end when dropped.
#[derive(Debug)]
pub struct MovingFile {
    cell: ActivityCell,
    key: u64,
}

impl MovingFile {
    /// `moved` bytes have moved.
    pub fn moved(&self, moved: u64) {
        self.cell.note(Happening::TransferMoved { key: self.key, moved });
    }
}

impl Drop for MovingFile {
    fn drop(&mut self) {
        self.cell.note(Happening::TransferEnded { key: self.key });
    }
}

/// Notes its end when dropped.
#[derive(Debug)]
pub struct During {
    cell: ActivityCell,
    ended: Happening,
}

impl Drop for During {
    fn drop(&mut self) {
        self.cell.note(self.ended.clone());
    }
}

impl ActivityCell {
    fn lock(&self) -> std::sync::MutexGuard<'_, Activity> {
        self.activity.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes `happening` now.
    pub fn note(&self, happening: Happening) {
        self.lock().note(happening, crate::trust::unix_millis());
        self.changed.notify_one();
    }

    /// Notes `started` now and `ended` when the guard goes.
    pub fn during(&self, started: Happening, ended: Happening) -> During {
        self.note(started);
        During { cell: self.clone(), ended }
    }

    /// File `name` of `size` bytes starts moving.
    pub fn file(&self, name: &str, size: u64) -> MovingFile {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        self.note(Happening::TransferStarted { key, name: name.to_owned(), size });
        MovingFile { cell: self.clone(), key }
    }

    /// Reports what is in use for `session_id` on `events` each time it
    /// changes, until the handle is dropped.
    pub fn watch(&self, session_id: String, events: mpsc::UnboundedSender<SessionEvent>) -> Watching {
        let cell = self.clone();
        let task = tokio::spawn(async move {
            let (mut reported, mut reported_transfer) = (AccessSet::empty(), None::<String>);
            let mut reported_at = tokio::time::Instant::now();
            loop {
                let now = crate::trust::unix_millis();
                let (in_use, transfer, next) = {
                    let activity = cell.lock();
                    (activity.in_use(now), activity.transfer_text(), activity.next_change(now))
                };
                // What is in use goes out at once; a file's progress at most every PROGRESS_EVERY.
                let progress_due = reported_at.elapsed() >= PROGRESS_EVERY;
                let mut wake = next.map(|at| Duration::from_millis((at - now).unsigned_abs()));
                if in_use != reported || (transfer != reported_transfer && progress_due) {
                    reported = in_use;
                    reported_transfer.clone_from(&transfer);
                    reported_at = tokio::time::Instant::now();
                    let event = SessionEvent::InUse { session_id: session_id.clone(), in_use, transfer };
                    if events.send(event).is_err() {
                        return;
                    }
                } else if transfer != reported_transfer {
                    let left = PROGRESS_EVERY.saturating_sub(reported_at.elapsed());
                    wake = Some(wake.map_or(left, |wake| wake.min(left)));
                }
                let lapse = async {
                    match wake {
                        Some(after) => tokio::time::sleep(after).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = cell.changed.notified() => {}
                    () = lapse => {}
                }
            }
        });
        Watching(task)
    }
}

/// The watcher; dropping it stops it.
#[derive(Debug)]
pub struct Watching(JoinHandle<()>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.abort();
    }
}
