//! The dialog in which an administrator changes an account's display name or role.

use crate::components::alert::{Alert, AlertKind};
use crate::components::modal::Modal;
use crate::components::role_select::RoleSelect;
use crate::components::submit_button::SubmitButton;
use crate::components::text_field::TextField;
use crate::session::Session;
use crate::submission::{Submission, check_field};
use leptos::prelude::*;
use tether_shared::api::{UpdateUserRequest, UserView};
use tether_shared::validate;

/// Display name and role of `user`; sends only what changed.
#[component]
pub fn EditUserDialog(
    /// The account being edited.
    user: UserView,
    /// Called with the updated account.
    #[prop(into)]
    on_saved: Callback<UserView>,
    /// Called when the dialog is dismissed.
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let session = Session::use_context();
    let display_name = RwSignal::new(user.display_name.clone());
    let role = RwSignal::new(user.role);
    let display_name_error = RwSignal::new(None::<String>);
    let sending = Submission::new();
    let id = user.id.clone();
    let original = user.clone();

    let submit = sending.on_submit(move || {
        let name = display_name.get_untracked().trim().to_owned();
        if check_field(display_name_error, validate::display_name(&name)).is_none() {
            return;
        }
        let new_role = role.get_untracked();
        let body = UpdateUserRequest {
            display_name: (name != original.display_name).then_some(name),
            role: (new_role != original.role).then_some(new_role),
            disabled: None,
        };
        if body == UpdateUserRequest::default() {
            on_close.run(());
            return;
        }
        sending.send(
            session,
            (id.clone(), body),
            |api, (id, body)| async move { api.update_user(&id, &body).await },
            move |result| result.map(|user| on_saved.run(user)),
        );
    });

    view! {
        <Modal title=format!("Edit {}", user.username) testid="edit-user-dialog" on_close=on_close>
            <form class="form" on:submit=submit novalidate data-testid="edit-user-form">
                <Alert message=sending.error kind=AlertKind::Error testid="edit-user-error" />
                <TextField
                    label="Display name"
                    value=display_name
                    testid="edit-display-name"
                    error=display_name_error
                    autofocus=true
                />
                <RoleSelect value=role testid="edit-role" />
                <div class="form-actions">
                    <button type="button" class="button button-ghost" on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <SubmitButton testid="edit-user-submit" pending=sending.pending label="Save changes" busy_label="Saving…" />
                </div>
            </form>
        </Modal>
    }
}
