//! The administrator's account management: list, create, edit,
//! disable/enable, delete and password reset.

use crate::components::alert::{Alert, AlertKind};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::create_user_dialog::CreateUserDialog;
use crate::components::edit_user_dialog::EditUserDialog;
use crate::components::list_state::ListState;
use crate::components::page_header::PageHeader;
use crate::components::reset_password_dialog::ResetPasswordDialog;
use crate::components::users_table::UsersTable;
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tether_shared::api::{UpdateUserRequest, UserView};

/// Which dialog is open.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dialog {
    Create,
    Edit(UserView),
    ResetPassword(UserView),
    Delete(UserView),
}

/// The users table with its dialogs.
#[component]
pub fn UsersPage() -> impl IntoView {
    let session = Session::use_context();
    let users =
        LocalResource::new(move || async move { session.call(|api| async move { api.list_users().await }).await });
    let dialog = RwSignal::new(None::<Dialog>);
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);

    let close = Callback::new(move |()| dialog.set(None));
    let on_created = Callback::new(move |user: UserView| {
        dialog.set(None);
        error.set(None);
        notice.set(Some(format!(
            "Created {} ({}). They must choose their own password at first sign-in.",
            user.username,
            user.role.label()
        )));
        users.refetch();
    });
    let on_saved = Callback::new(move |user: UserView| {
        dialog.set(None);
        error.set(None);
        if session.user().is_some_and(|me| me.id == user.id) {
            session.update_user(user.clone());
        }
        notice.set(Some(format!("Saved changes to {}.", user.username)));
        users.refetch();
    });
    let on_reset_done = Callback::new(move |()| {
        error.set(None);
        notice.set(None);
        users.refetch();
    });
    let on_toggle = Callback::new(move |user: UserView| {
        let body = UpdateUserRequest { disabled: Some(!user.disabled), ..UpdateUserRequest::default() };
        spawn_local(async move {
            let result = session
                .call(|api| {
                    let (id, body) = (user.id.clone(), body.clone());
                    async move { api.update_user(&id, &body).await }
                })
                .await;
            match result {
                Ok(updated) => {
                    error.set(None);
                    let verb = if updated.disabled { "Disabled" } else { "Enabled" };
                    notice.set(Some(format!("{verb} {}.", updated.username)));
                    users.refetch();
                }
                Err(failure) => {
                    notice.set(None);
                    error.set(Some(failure.message()));
                }
            }
        });
    });

    let deletion = Submission::new();
    let on_delete = Callback::new(move |user: UserView| {
        notice.set(None);
        deletion.error.set(None);
        dialog.set(Some(Dialog::Delete(user)));
    });
    let confirm_delete = Callback::new(move |()| {
        let Some(Dialog::Delete(user)) = dialog.get_untracked() else {
            return;
        };
        if !deletion.begin() {
            return;
        }
        deletion.send(
            session,
            user.id.clone(),
            |api, id| async move { api.delete_user(&id).await },
            move |result| {
                result?;
                dialog.set(None);
                error.set(None);
                notice.set(Some(format!("Deleted {}. Their sessions have ended.", user.username)));
                users.refetch();
                Ok(())
            },
        );
    });

    let table = move || {
        let current_user_id = session.user().map(|me| me.id).unwrap_or_default();
        view! {
            <ListState
                fetched=users.get()
                testid="users"
                loading="Loading users…"
                empty_title="No users yet"
                empty_text="Create accounts for your technicians and auditors."
                list=move |list| view! {
                    <UsersTable
                        users=list
                        current_user_id=current_user_id
                        on_edit=move |user| dialog.set(Some(Dialog::Edit(user)))
                        on_reset=move |user| dialog.set(Some(Dialog::ResetPassword(user)))
                        on_toggle=on_toggle
                        on_delete=on_delete
                    />
                }
            />
        }
    };

    let dialog_view = move || {
        dialog.get().map(|open| match open {
            Dialog::Create => view! { <CreateUserDialog on_created=on_created on_close=close /> }.into_any(),
            Dialog::Edit(user) => view! { <EditUserDialog user=user on_saved=on_saved on_close=close /> }.into_any(),
            Dialog::ResetPassword(user) => view! {
                <ResetPasswordDialog user=user on_done=on_reset_done on_close=close />
            }
            .into_any(),
            Dialog::Delete(user) => view! {
                <ConfirmDialog
                    title=format!("Delete {}?", user.username)
                    message=format!(
                        "{} can no longer sign in and their live sessions end now. The audit log keeps \
                         their name, and the username {} stays reserved. This cannot be undone.",
                        user.display_name,
                        user.username,
                    )
                    confirm_label="Delete account"
                    pending=deletion.pending
                    error=deletion.error
                    on_confirm=confirm_delete
                    on_close=close
                />
            }
            .into_any(),
        })
    };

    view! {
        <PageHeader title="Users" subtitle="Accounts, roles and access to Tether.">
            <button
                type="button"
                class="button button-primary"
                data-testid="new-user-button"
                on:click=move |_| {
                    notice.set(None);
                    dialog.set(Some(Dialog::Create));
                }
            >
                "New user"
            </button>
        </PageHeader>
        <Alert message=notice kind=AlertKind::Success testid="users-notice" />
        <Alert message=error kind=AlertKind::Error testid="users-error" />
        <section class="card card-flush">{table}</section>
        {dialog_view}
    }
}
