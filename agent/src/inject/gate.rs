//! [`InputGate`]: whether the session still allows the controller's input,
//! checked by the injecting thread just before each event, which it then
//! performs while holding the gate. The session closes it first thing when
//! it ends (and, once grants exist, when a grant narrows): closing takes
//! effect at once, and waiting on it returns only when no event is being
//! performed, so after the end nothing more reaches the desktop — input
//! still queued is dropped rather than typed late.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cheap-to-clone switch shared by a session and its injector.
#[derive(Debug, Clone)]
pub struct InputGate {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    open: AtomicBool,
    /// Held (read) by the injecting thread while it performs one event;
    /// closing takes it (write) to wait that event out. A tokio lock: the
    /// closing side awaits it on the runtime, the injecting thread (a plain
    /// thread, never a runtime's) blocks on it.
    performing: tokio::sync::RwLock<()>,
}

impl InputGate {
    /// A gate that lets input through until closed.
    pub fn open() -> Self {
        Self { shared: Arc::new(Shared { open: AtomicBool::new(true), performing: tokio::sync::RwLock::new(()) }) }
    }

    /// Stops all further input, for good, from this call on; the returned
    /// future resolves once the event being performed (if any) is done.
    pub fn close(&self) -> impl Future<Output = ()> + Send + 'static {
        self.refuse_further();
        let shared = self.shared.clone();
        async move {
            drop(shared.performing.write().await);
        }
    }

    /// Stops all further input without waiting for the event being
    /// performed: for the injecting thread itself, which would wait for
    /// itself.
    pub fn refuse_further(&self) {
        self.shared.open.store(false, Ordering::SeqCst);
    }

    /// Whether input may still be performed.
    pub fn is_open(&self) -> bool {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// Runs `perform` if the gate is open, holding it meanwhile so that a
    /// close waits for it; returns whether it ran. Blocks: call it only on
    /// the injecting thread, outside any async runtime.
    pub fn pass(&self, perform: impl FnOnce()) -> bool {
        let _performing = self.shared.performing.blocking_read();
        if !self.is_open() {
            return false;
        }
        perform();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn closing_waits_for_the_event_being_performed_and_nothing_passes_after() {
        let gate = InputGate::open();
        let (started, performing) = std::sync::mpsc::channel();
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        let injecting = std::thread::spawn({
            let gate = gate.clone();
            move || {
                let first = gate.pass(|| {
                    started.send(()).ok();
                    finished.recv().ok();
                });
                (first, gate.pass(|| {}))
            }
        });
        tokio::task::spawn_blocking(move || performing.recv_timeout(Duration::from_secs(10)))
            .await
            .expect("join")
            .expect("the event started");
        let closing = gate.close();
        assert!(!gate.is_open(), "closed at the call");
        let mut closing = Box::pin(closing);
        assert!(futures_util::poll!(&mut closing).is_pending(), "the event in flight is waited out");
        finish.send(()).expect("finish");
        tokio::time::timeout(Duration::from_secs(10), closing).await.expect("closed once the event finished");
        let (first, second) =
            tokio::task::spawn_blocking(move || injecting.join().expect("thread")).await.expect("join");
        assert!(first && !second, "the first event ran, nothing after the close");
    }
}
