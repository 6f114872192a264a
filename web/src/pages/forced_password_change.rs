//! The page a user with a one-time password sees instead of the app until
//! they choose their own password.

use crate::components::auth_layout::AuthLayout;
use crate::components::password_change_form::PasswordChangeForm;
use crate::session::Session;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The password change form and a way out (sign out); nothing else.
#[component]
pub fn ForcedPasswordChangePage() -> impl IntoView {
    let session = Session::use_context();
    let name = move || session.user().map(|user| user.display_name).unwrap_or_default();
    view! {
        <AuthLayout
            title="Choose a new password"
            subtitle="Your account has a one-time password. Choose your own password to continue."
        >
            <p class="signed-in-as" data-testid="forced-password-user">
                "Signed in as " <strong>{name}</strong>
            </p>
            <PasswordChangeForm submit_label="Set password and continue" />
            <button
                type="button"
                class="button button-link"
                data-testid="logout-button"
                on:click=move |_| spawn_local(async move { session.logout().await })
            >
                "Sign out"
            </button>
        </AuthLayout>
    }
}
