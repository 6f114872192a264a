//! [`InputGate`]: whether the session still allows the controller's input,
//! checked by the injecting thread just before each event, which it then
//! performs while holding the gate. Two things must hold: the gate is open
//! (the session has not ended) and the session's current grant includes
//! control ([`InputGate::permit_control`]; Monitor and Guidance never do).
//! The session closes it first thing when it ends and withdraws control as
//! soon as a grant without it arrives: both take effect at the next event,
//! and waiting on them returns only when no event is being performed, so
//! nothing more reaches the desktop — input still queued is dropped rather
//! than typed late.

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
    /// Whether the current grant includes control.
    control: AtomicBool,
    /// Held (read) by the injecting thread while it performs one event;
    /// closing takes it (write) to wait that event out. A tokio lock: the
    /// closing side awaits it on the runtime, the injecting thread (a plain
    /// thread, never a runtime's) blocks on it.
    performing: tokio::sync::RwLock<()>,
    /// Woken when control is withdrawn, so what the controller holds can be
    /// let go at once.
    withdrawn: tokio::sync::Notify,
}

impl InputGate {
    /// A gate that lets input through until closed: control is permitted
    /// (for an injector outside any session, e.g. in tests).
    pub fn open() -> Self {
        Self::with_control(true)
    }

    /// An open gate that lets no input through until a grant permits
    /// control: how every session starts.
    pub fn awaiting_grant() -> Self {
        Self::with_control(false)
    }

    fn with_control(control: bool) -> Self {
        let shared = Shared {
            open: AtomicBool::new(true),
            control: AtomicBool::new(control),
            performing: tokio::sync::RwLock::new(()),
            withdrawn: tokio::sync::Notify::new(),
        };
        Self { shared: Arc::new(shared) }
    }

    /// Permits or withdraws control, from the next event on (the current
    /// grant's word); the returned future resolves once the event being
    /// performed (if any) is done.
    pub fn permit_control(&self, permitted: bool) -> impl Future<Output = ()> + Send + 'static {
        self.shared.control.store(permitted, Ordering::SeqCst);
        if !permitted {
            self.shared.withdrawn.notify_waiters();
        }
        let shared = self.shared.clone();
        async move {
            if !permitted {
                drop(shared.performing.write().await);
            }
        }
    }

    /// Resolves once control is not permitted (at once if it is not now).
    pub async fn control_withdrawn(&self) {
        loop {
            let notified = self.shared.withdrawn.notified();
            if !self.control_permitted() {
                return;
            }
            notified.await;
        }
    }

    /// Whether the current grant includes control.
    pub fn control_permitted(&self) -> bool {
        self.shared.control.load(Ordering::SeqCst)
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

    /// Runs `perform` if the gate is open and control permitted, holding
    /// it meanwhile so that a close waits for it; returns whether it ran.
    /// Blocks: call it only on the injecting thread, outside any async
    /// runtime.
    pub fn pass(&self, perform: impl FnOnce()) -> bool {
        let _performing = self.shared.performing.blocking_read();
        if !self.is_open() {
            return false;
        }
        if !self.control_permitted() {
            tracing::debug!("dropping input: the session's grant does not include control");
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
    async fn input_passes_only_while_the_grant_permits_control() {
        let gate = InputGate::awaiting_grant();
        let pass = |gate: &InputGate| {
            let gate = gate.clone();
            std::thread::spawn(move || gate.pass(|| {})).join().expect("thread")
        };
        assert!(!pass(&gate), "nothing before a grant");
        gate.permit_control(true).await;
        assert!(pass(&gate), "a grant with control");
        gate.permit_control(false).await;
        assert!(!pass(&gate), "a grant without control takes effect at the next event");
        gate.permit_control(true).await;
        gate.close().await;
        assert!(!pass(&gate), "nothing after the end, whatever the grant");
    }

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
