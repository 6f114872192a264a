//! The dialog in which an administrator creates an account.

use crate::api::codes;
use crate::components::alert::{Alert, AlertKind};
use crate::components::modal::Modal;
use crate::components::one_time_password_field::OneTimePasswordField;
use crate::components::role_select::RoleSelect;
use crate::components::submit_button::SubmitButton;
use crate::components::text_field::TextField;
use crate::session::Session;
use crate::submission::{Submission, check_field};
use leptos::prelude::*;
use tether_shared::Role;
use tether_shared::api::{CreateUserRequest, UserView};
use tether_shared::validate;

/// Username, display name, role and initial one-time password.
#[component]
pub fn CreateUserDialog(
    /// Called with the new account once the server created it.
    #[prop(into)]
    on_created: Callback<UserView>,
    /// Called when the dialog is dismissed.
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let session = Session::use_context();
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Technician);
    let password = RwSignal::new(crate::secret::generate_password().unwrap_or_default());
    let username_error = RwSignal::new(None::<String>);
    let display_name_error = RwSignal::new(None::<String>);
    let password_error = RwSignal::new(None::<String>);
    let sending = Submission::new();

    let submit = sending.on_submit(move || {
        let body = CreateUserRequest {
            username: username.get_untracked().trim().to_owned(),
            display_name: display_name.get_untracked().trim().to_owned(),
            role: role.get_untracked(),
            password: password.get_untracked(),
        };
        let checked = [
            check_field(username_error, validate::username(&body.username)),
            check_field(display_name_error, validate::display_name(&body.display_name)),
            check_field(password_error, validate::password(&body.password, &body.username)),
        ];
        if checked.iter().any(Option::is_none) {
            return;
        }
        sending.send(
            session,
            body,
            |api, body| async move { api.create_user(&body).await },
            move |result| match result {
                Ok(user) => {
                    on_created.run(user);
                    Ok(())
                }
                Err(failure) if failure.code() == Some(codes::USERNAME_TAKEN) => {
                    username_error.set(Some(failure.message()));
                    Ok(())
                }
                Err(failure) => Err(failure),
            },
        );
    });

    view! {
        <Modal title="New user".to_owned() testid="create-user-dialog" on_close=on_close>
            <form class="form" on:submit=submit novalidate data-testid="create-user-form">
                <Alert message=sending.error kind=AlertKind::Error testid="create-user-error" />
                <div class="form-row">
                    <TextField
                        label="Username"
                        value=username
                        testid="create-username"
                        hint="Lower-case letters, digits, '.', '_' or '-'."
                        error=username_error
                        autofocus=true
                    />
                    <TextField
                        label="Display name"
                        value=display_name
                        testid="create-display-name"
                        error=display_name_error
                    />
                </div>
                <RoleSelect value=role testid="create-role" />
                <OneTimePasswordField value=password testid="create-password" error=password_error />
                <div class="form-actions">
                    <button type="button" class="button button-ghost" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <SubmitButton testid="create-user-submit" pending=sending.pending label="Create user" busy_label="Creating…" />
                </div>
            </form>
        </Modal>
    }
}
