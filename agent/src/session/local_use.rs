//! Local input first, agent side: the person's own mouse and keyboard
//! (`platform::x11_physical`) hold the technician's input back until a
//! second after their last movement (`tether_shared::local_input::
//! LocalFirst` decides), and the controller hears when the person starts
//! and stops using the computer. One record per session, shared by the X
//! thread (activity), the input task (whether to hold) and the control
//! channel (what to say).

use crate::platform::x11_physical::{PhysicalInput, Report};
use std::sync::{Arc, Mutex, PoisonError};
use tether_shared::local_input::{LocalFirst, LocalUse};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The session's record of the person's own input. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalUseCell {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    first: Mutex<LocalFirst>,
    state: watch::Sender<LocalUse>,
    /// Woken when the person starts using the computer.
    started_using: Notify,
    since: Instant,
}

impl Default for LocalUseCell {
    fn default() -> Self {
        let inner = Inner {
            first: Mutex::default(),
            state: watch::Sender::new(LocalUse::Idle),
            started_using: Notify::new(),
            since: Instant::now(),
        };
        Self { inner: Arc::new(inner) }
    }
}

impl LocalUseCell {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.inner.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn first(&self) -> std::sync::MutexGuard<'_, LocalFirst> {
        self.inner.first.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The person moved or typed just now.
    pub fn activity(&self) {
        let now = self.now_ms();
        if let Some(state) = self.first().local_activity(now) {
            self.inner.state.send_replace(state);
            self.inner.started_using.notify_one();
        }
    }

    /// Whether the technician's input waits now.
    pub fn holds(&self) -> bool {
        self.first().holds(self.now_ms())
    }

    /// Whether the person is using the computer, as it changes.
    pub fn watch(&self) -> watch::Receiver<LocalUse> {
        self.inner.state.subscribe()
    }

    /// Says `Idle` once the hold ends; runs until dropped.
    async fn expire(self) {
        loop {
            self.inner.started_using.notified().await;
            loop {
                let next = self.first().next_change();
                let Some(at) = next else { break };
                let wait = at.saturating_sub(self.now_ms());
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                let polled = self.first().poll(self.now_ms());
                if let Some(state) = polled {
                    self.inner.state.send_replace(state);
                }
            }
        }
    }
}

/// Watching the person's own devices for one session; dropping it stops.
#[derive(Debug)]
pub struct LocalWatch {
    _physical: Option<PhysicalInput>,
    expiry: JoinHandle<()>,
}

impl Drop for LocalWatch {
    fn drop(&mut self) {
        self.expiry.abort();
    }
}

/// Starts watching `display` (or `$DISPLAY`) into `cell`. Where the X
/// server has no XInput 2, the technician's input is never held (and a
/// warning says so).
pub async fn watch(display: Option<String>, cell: LocalUseCell) -> LocalWatch {
    let reporting = cell.clone();
    let report = move |report: Report| {
        if report == Report::Activity {
            reporting.activity();
        }
    };
    let physical = match tokio::task::spawn_blocking(move || PhysicalInput::open(display.as_deref(), report)).await {
        Ok(Ok(physical)) => Some(physical),
        Ok(Err(err)) => {
            tracing::warn!(
                error = format!("{err:#}"),
                "the person's own input cannot be watched: it will not hold the technician's"
            );
            None
        }
        Err(err) => {
            tracing::warn!(error = %err, "the person's own input cannot be watched");
            None
        }
    };
    LocalWatch { _physical: physical, expiry: tokio::spawn(cell.expire()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn activity_holds_then_idles_after_a_second() {
        let cell = LocalUseCell::default();
        let expiry = tokio::spawn(cell.clone().expire());
        let mut state = cell.watch();
        assert!(!cell.holds());
        cell.activity();
        assert!(cell.holds());
        assert_eq!(*state.borrow_and_update(), LocalUse::InUse);
        state.changed().await.expect("a change");
        assert_eq!(*state.borrow_and_update(), LocalUse::Idle);
        assert!(!cell.holds());
        expiry.abort();
    }
}
