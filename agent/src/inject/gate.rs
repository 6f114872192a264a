//! [`InputGate`]: whether the session still allows the controller's input,
//! checked by the injecting thread just before each event. The session
//! closes it first thing when it ends (and, once grants exist, when a grant
//! narrows), so input already queued is dropped rather than typed late.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cheap-to-clone switch shared by a session and its injector.
#[derive(Debug, Clone)]
pub struct InputGate {
    open: Arc<AtomicBool>,
}

impl InputGate {
    /// A gate that lets input through until closed.
    pub fn open() -> Self {
        Self { open: Arc::new(AtomicBool::new(true)) }
    }

    /// Stops all further input, for good.
    pub fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
    }

    /// Whether input may still be performed.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::SeqCst)
    }
}
