//! Asking before a live session is ended from a list, then ending it.

use crate::components::confirm_dialog::ConfirmDialog;
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use tether_shared::api::SessionSummary;

/// "End the session with pc-1?"; on confirm, `POST /api/sessions/{id}/end`
/// and `on_ended`. A failure (the session ended meanwhile) stays in the
/// dialog.
#[component]
pub fn EndSessionDialog(
    /// The live session.
    session: SessionSummary,
    /// Called once the server ended it.
    #[prop(into)]
    on_ended: Callback<()>,
    /// Called when the dialog is dismissed.
    #[prop(into)]
    on_close: Callback<()>,
) -> impl IntoView {
    let api_session = Session::use_context();
    let ending = Submission::new();
    let id = session.id.clone();
    let confirm = Callback::new(move |()| {
        if !ending.begin() {
            return;
        }
        ending.send(
            api_session,
            id.clone(),
            |api, id| async move { api.end_session(&id).await },
            move |result| {
                result?;
                on_ended.run(());
                Ok(())
            },
        );
    });
    let message = format!(
        "{}'s session with {} stops at once; both ends are told you ended it.",
        session.technician, session.computer
    );
    view! {
        <ConfirmDialog
            title=format!("End the session with {}?", session.computer)
            message=message
            confirm_label="End session"
            pending=ending.pending
            error=ending.error
            on_confirm=confirm
            on_close=on_close
        />
    }
}
