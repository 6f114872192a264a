//! The sign-in page.

use crate::api::UnauthorizedApi;
use crate::components::alert::{Alert, AlertKind};
use crate::components::auth_layout::AuthLayout;
use crate::components::submit_button::SubmitButton;
use crate::components::text_field::TextField;
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use tether_shared::api::LoginRequest;

/// Username and password; errors come from the server's `message`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let session = Session::use_context();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let username_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let sending = Submission::new();
    let notice = Signal::derive(move || session.notice());

    let submit = sending.on_submit(move || {
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
        sending.run(async move { UnauthorizedApi.login(&credentials).await }, move |result| {
            let api = result.inspect_err(|_| password.set(String::new()))?;
            session.signed_in(api);
            Ok(())
        });
    });

    view! {
        <AuthLayout title="Sign in" subtitle="Use the account your administrator gave you.">
            <form class="form" on:submit=submit novalidate data-testid="login-form">
                <Alert message=notice kind=AlertKind::Info testid="login-notice" />
                <Alert message=sending.error kind=AlertKind::Error testid="login-error" />
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
                <SubmitButton testid="login-submit" pending=sending.pending label="Sign in" busy_label="Signing in…" class="button button-primary button-block" />
            </form>
        </AuthLayout>
    }
}
