//! The sign-in page.

use crate::api::UnauthorizedApi;
use crate::components::alert::{Alert, AlertKind};
use crate::components::auth_layout::AuthLayout;
use crate::components::submit_button::SubmitButton;
use crate::components::text_field::TextField;
use crate::session::Session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tether_shared::api::LoginRequest;

/// Username and password; errors come from the server's `message`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = Session::use_context();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let username_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let notice = Signal::derive(move || session.notice());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        error.set(None);
        let credentials =
            LoginRequest { username: username.get_untracked().trim().to_owned(), password: password.get_untracked() };
        let u = credentials.username.is_empty().then(|| "Enter your username.".to_owned());
        let p = credentials.password.is_empty().then(|| "Enter your password.".to_owned());
        let invalid = u.is_some() || p.is_some();
        username_error.set(u);
        password_error.set(p);
        if invalid {
            return;
        }
        pending.set(true);
        spawn_local(async move {
            match UnauthorizedApi.login(&credentials).await {
                Ok(api) => session.signed_in(api),
                Err(failure) => {
                    password.set(String::new());
                    error.set(Some(failure.message()));
                    pending.set(false);
                }
            }
        });
    };

    view! {
        <AuthLayout title="Sign in" subtitle="Use the account your administrator gave you.">
            <form class="form" on:submit=submit novalidate data-testid="login-form">
                <Alert message=notice kind=AlertKind::Info testid="login-notice" />
                <Alert message=error kind=AlertKind::Error testid="login-error" />
                <TextField
                    label="Username"
                    value=username
                    testid="login-username"
                    autocomplete="username"
                    error=username_error
                    autofocus=true
                />
                <TextField
                    label="Password"
                    value=password
                    kind="password"
                    testid="login-password"
                    autocomplete="current-password"
                    error=password_error
                />
                <SubmitButton testid="login-submit" pending=pending label="Sign in" busy_label="Signing in…" class="button button-primary button-block" />
            </form>
        </AuthLayout>
    }
}
