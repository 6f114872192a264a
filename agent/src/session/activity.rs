//! The session's activity (`tether_shared::activity`) as its tasks change
//! it — the stream while it runs, each file while it moves, each input
//! event — and the watcher that reports what is in use whenever that
//! changes ([`SessionEvent::InUse`]), for the session bar.

use super::SessionEvent;
use std::sync::{Arc, Mutex};
use tether_shared::access::AccessSet;
use tether_shared::activity::{Activity, Happening};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// A session's activity; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ActivityCell {
    // A std mutex: held only to note or read, never across an await.
    activity: Arc<Mutex<Activity>>,
    changed: Arc<Notify>,
}

/// Notes its end when dropped.
#[derive(Debug)]
pub struct During {
    cell: ActivityCell,
    ended: Happening,
}

impl Drop for During {
    fn drop(&mut self) {
        self.cell.note(self.ended);
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

    /// Reports what is in use for `session_id` on `events` each time it
    /// changes, until the handle is dropped.
    pub fn watch(&self, session_id: String, events: mpsc::UnboundedSender<SessionEvent>) -> Watching {
        let cell = self.clone();
        let task = tokio::spawn(async move {
            let mut reported = AccessSet::empty();
            loop {
                let now = crate::trust::unix_millis();
                let (in_use, next) = {
                    let activity = cell.lock();
                    (activity.in_use(now), activity.next_change(now))
                };
                if in_use != reported {
                    reported = in_use;
                    if events.send(SessionEvent::InUse { session_id: session_id.clone(), in_use }).is_err() {
                        return;
                    }
                }
                let lapse = async {
                    match next {
                        Some(at) => {
                            tokio::time::sleep(std::time::Duration::from_millis((at - now).unsigned_abs())).await
                        }
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
