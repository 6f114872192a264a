//! The form to change one's own password: current, new and confirmation,
//! checked in the browser with the server's own rules before sending.

use crate::api::codes;
use crate::components::alert::{Alert, AlertKind};
use crate::components::submit_button::SubmitButton;
use crate::components::text_field::TextField;
use crate::session::Session;
use crate::submission::Submission;
use crate::text::capitalize;
use leptos::prelude::*;
use tether_shared::api::ChangePasswordRequest;
use tether_shared::validate;

/// Field errors found before sending, `None` when the form may be sent.
fn check(username: &str, current: &str, new: &str, confirm: &str) -> [Option<String>; 3] {
    let current_error = current.is_empty().then(|| "Enter your current password.".to_owned());
    let new_error = match validate::password(new, username) {
        Err(invalid) => Some(capitalize(&invalid.to_string())),
        Ok(()) if new == current => Some("The new password must differ from the current one.".to_owned()),
        Ok(()) => None,
    };
    let confirm_error = (confirm != new).then(|| "The passwords do not match.".to_owned());
    [current_error, new_error, confirm_error]
}

/// Current, new and confirmed password. `on_done` runs after the server
/// accepted the change and the session carries a token that reflects it.
#[component]
pub fn PasswordChangeForm(
    /// Called after a successful change.
    #[prop(into, optional)]
    on_done: Option<Callback<()>>,
    /// The submit button's label.
    #[prop(default = "Change password")]
    submit_label: &'static str,
) -> impl IntoView {
    let session = Session::use_context();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let current_error = RwSignal::new(None::<String>);
    let new_error = RwSignal::new(None::<String>);
    let confirm_error = RwSignal::new(None::<String>);
    let sending = Submission::new();

    let submit = sending.on_submit(move || {
        let username = session.user().map(|user| user.username).unwrap_or_default();
        let (current_value, new_value, confirm_value) =
            (current.get_untracked(), new.get_untracked(), confirm.get_untracked());
        let [c, n, k] = check(&username, &current_value, &new_value, &confirm_value);
        let valid = c.is_none() && n.is_none() && k.is_none();
        current_error.set(c);
        new_error.set(n);
        confirm_error.set(k);
        if !valid {
            return;
        }
        let body = ChangePasswordRequest { current_password: current_value, new_password: new_value.clone() };
        let change = async move {
            session
                .call(|api| {
                    let body = body.clone();
                    async move { api.change_password(&body).await }
                })
                .await?;
            // Best effort: on failure the session itself shows the login page.
            let _ = session.after_password_change(&new_value).await;
            Ok(())
        };
        sending.run(change, move |result| match result {
            Ok(()) => {
                current.set(String::new());
                new.set(String::new());
                confirm.set(String::new());
                if let Some(on_done) = on_done {
                    on_done.run(());
                }
                Ok(())
            }
            Err(failure) => {
                let field_error = match failure.code() {
                    Some(codes::WRONG_PASSWORD | codes::INVALID_CREDENTIALS) => current_error,
                    Some(codes::INVALID_FIELD) => new_error,
                    _ => return Err(failure),
                };
                field_error.set(Some(failure.message()));
                Ok(())
            }
        });
    });

    view! {
        <form class="form" on:submit=submit novalidate data-testid="password-form">
            <Alert message=sending.error kind=AlertKind::Error testid="password-form-error" />
            <TextField
                label="Current password"
                value=current
                kind="password"
                autocomplete="current-password"
                testid="current-password"
                error=current_error
                autofocus=true
            />
            <TextField
                label="New password"
                value=new
                kind="password"
                autocomplete="new-password"
                testid="new-password"
                hint="At least 12 characters. A few unrelated words make a good password."
                error=new_error
            />
            <TextField
                label="Confirm new password"
                value=confirm
                kind="password"
                autocomplete="new-password"
                testid="confirm-password"
                error=confirm_error
            />
            <div class="form-actions">
                <SubmitButton testid="password-submit" pending=sending.pending label=submit_label busy_label="Saving…" />
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn checks_rules_before_sending() {
        let good = "correct horse battery";
        assert_eq!(check("alice", "old-password", good, good), [None, None, None]);
        let [current, new, confirm] = check("alice", "", "short", "other");
        assert!(current.is_some() && confirm.is_some());
        assert!(new.is_some_and(|m| m.starts_with("Password must be 12")));
        let [_, same, _] = check("alice", good, good, good);
        assert!(same.is_some_and(|m| m.contains("differ")));
    }
}
