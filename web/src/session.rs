//! The signed-in session, shared through a Leptos context: the access token
//! lives only in memory, the refresh token only in an `HttpOnly` cookie.
//!
//! [`Session::call`] wraps every authorized request: on a `401` it refreshes
//! the access token once (one refresh at a time, shared by concurrent calls)
//! and retries; if the refresh fails the user is sent back to the login page.

use crate::api::{ApiFailure, AuthorizedApi, UnauthorizedApi, codes};
use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::future::Future;
use tether_shared::Role;
use tether_shared::api::UserView;

/// Where the client stands with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthState {
    /// Start-up: asking the server whether the refresh cookie is still valid.
    Restoring,
    /// No session. `notice` explains why, when it was not the user's choice.
    SignedOut { notice: Option<String> },
    /// A session with a valid (or refreshable) access token.
    SignedIn(AuthorizedApi),
}

/// The coarse state the UI switches on; changes far less often than
/// [`AuthState`] (a token refresh keeps the same phase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the start-up refresh.
    Restoring,
    /// Show the login page.
    SignedOut,
    /// Signed in with a one-time password: only the password change is open.
    MustChangePassword,
    /// Signed in; the shell for this role.
    Ready(Role),
}

type RefreshFuture = Shared<LocalBoxFuture<'static, Result<AuthorizedApi, ApiFailure>>>;

/// Handle to the session; `Copy`, so components and closures capture it freely.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    state: RwSignal<AuthState>,
    phase: Memo<Phase>,
    /// The account, changing only when the account does (not on token refresh).
    user: Memo<Option<UserView>>,
    /// The refresh in flight, if any, so concurrent `401`s share one refresh
    /// (the server may rotate refresh tokens and treat reuse as theft).
    refreshing: StoredValue<Option<RefreshFuture>, LocalStorage>,
}

impl Session {
    /// Creates the session, provides it as context and starts restoring a
    /// previous session from the refresh cookie.
    pub fn provide() -> Self {
        let state = RwSignal::new(AuthState::Restoring);
        let phase = Memo::new(move |_| state.with(phase_of));
        let user = Memo::new(move |_| {
            state.with(|state| match state {
                AuthState::SignedIn(api) => Some(api.user().clone()),
                _ => None,
            })
        });
        let session = Self { state, phase, user, refreshing: StoredValue::new_local(None) };
        provide_context(session);
        spawn_local(async move {
            let restored = session.refresh().await;
            if restored.is_err() {
                session.state.set(AuthState::SignedOut { notice: None });
            }
        });
        session
    }

    /// The session provided by [`Session::provide`].
    pub fn use_context() -> Self {
        expect_context::<Session>()
    }

    /// The coarse state (reactive).
    pub fn phase(&self) -> Memo<Phase> {
        self.phase
    }

    /// The signed-in account (reactive), `None` when signed out.
    pub fn user(&self) -> Option<UserView> {
        self.user.get()
    }

    /// Why the session ended, if the user did not choose to sign out (reactive).
    pub fn notice(&self) -> Option<String> {
        self.state.with(|state| match state {
            AuthState::SignedOut { notice } => notice.clone(),
            _ => None,
        })
    }

    fn current_api(&self) -> Option<AuthorizedApi> {
        self.state.with_untracked(|state| match state {
            AuthState::SignedIn(api) => Some(api.clone()),
            _ => None,
        })
    }

    /// Records a successful login.
    pub fn signed_in(&self, api: AuthorizedApi) {
        self.state.set(AuthState::SignedIn(api));
    }

    /// Replaces the cached view of the signed-in account.
    pub fn update_user(&self, user: UserView) {
        self.state.update(|state| {
            if let AuthState::SignedIn(api) = state {
                *api = api.clone().with_user(user);
            }
        });
    }

    /// Forgets the session locally, with an optional explanation for the login page.
    pub fn sign_out_locally(&self, notice: Option<String>) {
        self.refreshing.set_value(None);
        self.state.set(AuthState::SignedOut { notice });
    }

    /// Logs out on the server (revoking the refresh token), then locally.
    /// The local sign-out happens even if the server cannot be reached.
    pub async fn logout(&self) {
        if let Some(api) = self.current_api() {
            // A failed logout still ends the local session; the refresh
            // token then simply expires on the server.
            let _ = api.logout().await;
        }
        self.sign_out_locally(None);
    }

    /// Gets a new access token from the refresh cookie. Concurrent callers
    /// share one request.
    async fn refresh(&self) -> Result<AuthorizedApi, ApiFailure> {
        let in_flight = self.refreshing.get_value();
        let future = match in_flight {
            Some(future) => future,
            None => {
                let future: RefreshFuture = UnauthorizedApi.refresh().boxed_local().shared();
                self.refreshing.set_value(Some(future.clone()));
                future
            }
        };
        let result = future.await;
        self.refreshing.set_value(None);
        if let Ok(api) = &result {
            self.state.set(AuthState::SignedIn(api.clone()));
        }
        result
    }

    /// A fresh token after `stale` was refused: another call may already have
    /// refreshed it, in which case that token is used.
    async fn refresh_after(&self, stale: &AuthorizedApi) -> Result<AuthorizedApi, ApiFailure> {
        match self.current_api() {
            Some(current) if !current.same_token(stale) => Ok(current),
            _ => self.refresh().await,
        }
    }

    /// Runs an authorized call. On an expired session it refreshes once and
    /// retries; if that fails the session ends and the login page shows.
    pub async fn call<T, F, Fut>(&self, call: F) -> Result<T, ApiFailure>
    where
        F: Fn(AuthorizedApi) -> Fut,
        Fut: Future<Output = Result<T, ApiFailure>>,
    {
        let Some(api) = self.current_api() else {
            return Err(ApiFailure::SignedOut);
        };
        let result = match call(api.clone()).await {
            Err(failure) if failure.is_session_expired() => match self.refresh_after(&api).await {
                Ok(fresh) => call(fresh).await,
                Err(_) => {
                    self.sign_out_locally(Some("Your session has ended. Please sign in again.".to_owned()));
                    return Err(failure);
                }
            },
            other => other,
        };
        if let Err(failure) = &result {
            self.react_to(failure);
        }
        result
    }

    /// Applies what an error says about the session itself.
    fn react_to(&self, failure: &ApiFailure) {
        match failure.code() {
            Some(codes::PASSWORD_CHANGE_REQUIRED) => self.state.update(|state| {
                if let AuthState::SignedIn(api) = state {
                    let mut user = api.user().clone();
                    user.must_change_password = true;
                    *api = api.clone().with_user(user);
                }
            }),
            Some(codes::ACCOUNT_DISABLED) => self.sign_out_locally(Some(failure.message())),
            _ if failure.is_session_expired() => {
                self.sign_out_locally(Some("Your session has ended. Please sign in again.".to_owned()))
            }
            _ => {}
        }
    }

    /// After the user changed their password: gets a token that reflects it.
    /// Tries the refresh cookie first; if the server revoked sessions on the
    /// change, signs in again with the new password.
    pub async fn after_password_change(&self, new_password: &str) -> Result<(), ApiFailure> {
        if self.refresh().await.is_ok() {
            return Ok(());
        }
        let Some(api) = self.current_api() else {
            return Err(ApiFailure::SignedOut);
        };
        let credentials = tether_shared::api::LoginRequest {
            username: api.user().username.clone(),
            password: new_password.to_owned(),
        };
        match UnauthorizedApi.login(&credentials).await {
            Ok(api) => {
                self.signed_in(api);
                Ok(())
            }
            Err(failure) => {
                self.sign_out_locally(Some("Password changed. Please sign in with your new password.".to_owned()));
                Err(failure)
            }
        }
    }
}

fn phase_of(state: &AuthState) -> Phase {
    match state {
        AuthState::Restoring => Phase::Restoring,
        AuthState::SignedOut { .. } => Phase::SignedOut,
        AuthState::SignedIn(api) if api.user().must_change_password => Phase::MustChangePassword,
        AuthState::SignedIn(api) => Phase::Ready(api.user().role),
    }
}
