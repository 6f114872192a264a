//! A form's sending state (one request at a time, a form-level error), its
//! submit handler, the send itself (through the session) and the fields'
//! own checks.

use crate::api::{ApiFailure, AuthorizedApi};
use crate::session::Session;
use crate::text::capitalize;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::fmt::Display;
use std::future::Future;

/// Shows `checked`'s error (capitalized) under its field, or clears it, and
/// gives back the value when there is no error.
pub fn check_field<T, E: Display>(error: RwSignal<Option<String>>, checked: Result<T, E>) -> Option<T> {
    match checked {
        Ok(value) => {
            error.set(None);
            Some(value)
        }
        Err(message) => {
            error.set(Some(capitalize(&message.to_string())));
            None
        }
    }
}

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

    /// The form's submit handler: keeps the browser from sending the form
    /// and, unless a request is still out ([`Self::begin`]), runs `submit`.
    pub fn on_submit(self, submit: impl Fn() + Clone + 'static) -> impl Fn(SubmitEvent) + Clone + 'static {
        move |ev: SubmitEvent| {
            ev.prevent_default();
            if self.begin() {
                submit();
            }
        }
    }

    /// Awaits `request`, `pending` while it is out, then hands the result to
    /// `on_result`; a failure that gives back becomes the form error.
    pub fn run<T: 'static>(
        self,
        request: impl Future<Output = Result<T, ApiFailure>> + 'static,
        on_result: impl FnOnce(Result<T, ApiFailure>) -> Result<(), ApiFailure> + 'static,
    ) {
        self.pending.set(true);
        spawn_local(async move {
            let result = request.await;
            self.pending.set(false);
            if let Err(failure) = on_result(result) {
                self.error.set(Some(failure.message()));
            }
        });
    }

    /// [`Self::run`] for `call` with `body` through the session (again after
    /// a token refresh, hence the clone per attempt).
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
        self.run(async move { session.call(|api| call(api, body.clone())).await }, on_result);
    }
}
