//! A form's sending state (one request at a time, a form-level error) and
//! the send itself, through the session.

use crate::api::{ApiFailure, AuthorizedApi};
use crate::session::Session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;

/// Whether a form's request is out, and the error it ended with.
#[derive(Debug, Clone, Copy)]
pub struct Submission {
    /// True while the request is out; the submit button shows it.
    pub pending: RwSignal<bool>,
    /// The form-level error of the last request, if any.
    pub error: RwSignal<Option<String>>,
}

impl Default for Submission {
    fn default() -> Self {
        Self { pending: RwSignal::new(false), error: RwSignal::new(None) }
    }
}

impl Submission {
    /// Nothing sent yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a submit: false while a request is still out, else clears the
    /// form error and returns true.
    pub fn begin(self) -> bool {
        if self.pending.get_untracked() {
            return false;
        }
        self.error.set(None);
        true
    }

    /// Sends `body` with `call` (again after a token refresh, hence the
    /// clone per attempt), `pending` while it is out, then hands the result
    /// to `on_result`; a failure that gives back becomes the form error.
    pub fn send<B, T, F, Fut>(
        self,
        session: Session,
        body: B,
        call: F,
        on_result: impl FnOnce(Result<T, ApiFailure>) -> Result<(), ApiFailure> + 'static,
    ) where
        B: Clone + 'static,
        T: 'static,
        F: Fn(AuthorizedApi, B) -> Fut + 'static,
        Fut: Future<Output = Result<T, ApiFailure>>,
    {
        self.pending.set(true);
        spawn_local(async move {
            let result = session.call(|api| call(api, body.clone())).await;
            self.pending.set(false);
            if let Err(failure) = on_result(result) {
                self.error.set(Some(failure.message()));
            }
        });
    }
}
