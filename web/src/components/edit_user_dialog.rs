//! The dialog in which an administrator changes an account's display name or role.

use crate::components::alert::{Alert, AlertKind};
use crate::components::modal::Modal;
use crate::components::role_select::RoleSelect;
use crate::components::text_field::TextField;
use crate::session::Session;
use crate::text::capitalize;
use leptos::prelude::*;
use leptos::task::spawn_local;
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
    let form_error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let id = user.id.clone();
    let original = user.clone();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        form_error.set(None);
        let name = display_name.get_untracked().trim().to_owned();
        let error = validate::display_name(&name).err().map(|e| capitalize(&e.to_string()));
        let invalid = error.is_some();
        display_name_error.set(error);
        if invalid {
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
        pending.set(true);
        let id = id.clone();
        spawn_local(async move {
            let result = session
                .call(|api| {
                    let (id, body) = (id.clone(), body.clone());
                    async move { api.update_user(&id, &body).await }
                })
                .await;
            pending.set(false);
            match result {
                Ok(user) => on_saved.run(user),
                Err(failure) => form_error.set(Some(failure.message())),
            }
        });
    };

    view! {
        <Modal title=format!("Edit {}", user.username) testid="edit-user-dialog" on_close=on_close>
            <form class="form" on:submit=submit novalidate data-testid="edit-user-form">
                <Alert message=form_error kind=AlertKind::Error testid="edit-user-error" />
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
                    <button
                        type="submit"
                        class="button button-primary"
                        data-testid="edit-user-submit"
                        disabled=move || pending.get()
                    >
                        {move || if pending.get() { "Saving…" } else { "Save changes" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
