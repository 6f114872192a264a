//! The dialog in which an administrator sets a one-time password for an account.

use crate::components::alert::{Alert, AlertKind};
use crate::components::modal::Modal;
use crate::components::one_time_password_field::OneTimePasswordField;
use crate::components::submit_button::SubmitButton;
use crate::session::Session;
use crate::submission::{Submission, check_field};
use leptos::prelude::*;
use tether_shared::api::{ResetPasswordRequest, UserView};
use tether_shared::validate;

/// Sets a one-time password for `user`, then shows it once more to hand out.
#[component]
pub fn ResetPasswordDialog(
    /// The account whose password is reset.
    user: UserView,
    /// Called after the server accepted the new password.
    #[prop(into)]
    on_done: Callback<()>,
    /// Called when the dialog is dismissed.
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let session = Session::use_context();
    let password = RwSignal::new(crate::secret::generate_password().unwrap_or_default());
    let password_error = RwSignal::new(None::<String>);
    let sending = Submission::new();
    let done = RwSignal::new(false);
    let id = user.id.clone();
    let username = user.username.clone();

    let submit = sending.on_submit(move || {
        let body = ResetPasswordRequest { password: password.get_untracked() };
        if check_field(password_error, validate::password(&body.password, &username)).is_none() {
            return;
        }
        sending.send(
            session,
            (id.clone(), body),
            |api, (id, body)| async move { api.reset_password(&id, &body).await },
            move |result| {
                result?;
                done.set(true);
                on_done.run(());
                Ok(())
            },
        );
    });

    let who = user.display_name.clone();
    view! {
        <Modal
            title=format!("Reset password of {}", user.username)
            testid="reset-password-dialog"
            on_close=on_close
        >
            <Show
                when=move || done.get()
                fallback=move || {
                    view! {
                        <form class="form" on:submit=submit.clone() novalidate>
                            <p class="muted">
                                "The current password stops working at once, and open sessions of this account end."
                            </p>
                            <Alert message=sending.error kind=AlertKind::Error testid="reset-password-error" />
                            <OneTimePasswordField
                                value=password
                                testid="reset-password-input"
                                error=password_error
                            />
                            <div class="form-actions">
                                <button
                                    type="button"
                                    class="button button-ghost"
                                    on:click=move |_| on_close.run(())
                                >
                                    "Cancel"
                                </button>
                                <SubmitButton testid="reset-password-submit" pending=sending.pending label="Set one-time password" busy_label="Setting…" class="button button-danger" />
                            </div>
                        </form>
                    }
                }
            >
                <div class="form" data-testid="reset-password-done">
                    <p>
                        "One-time password set for " <strong>{who.clone()}</strong>
                        ". They must choose a new password at their next sign-in."
                    </p>
                    <code class="secret" data-testid="reset-password-value">
                        {move || password.get()}
                    </code>
                    <div class="form-actions">
                        <button
                            type="button"
                            class="button button-primary"
                            data-testid="reset-password-close"
                            on:click=move |_| on_close.run(())
                        >
                            "Done"
                        </button>
                    </div>
                </div>
            </Show>
        </Modal>
    }
}
