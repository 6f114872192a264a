//! Renames a computer (a display name beside the host name it reports;
//! empty goes back to the host name) and moves it between target groups.

use crate::components::alert::{Alert, AlertKind};
use crate::components::modal::Modal;
use crate::components::submit_button::SubmitButton;
use crate::components::target_group_checkboxes::TargetGroupCheckboxes;
use crate::components::text_field::TextField;
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use tether_shared::groups::{ComputerView, GroupKind, UpdateComputerRequest};

#[component]
pub fn ComputerEditDialog(
    computer: ComputerView,
    /// Called with the computer as saved.
    #[prop(into)]
    on_saved: Callback<ComputerView>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let session = Session::use_context();
    let groups = LocalResource::new(move || async move {
        session.call(|api| async move { api.list_groups(GroupKind::Target).await }).await
    });
    let name = RwSignal::new(computer.display_name.clone().unwrap_or_default());
    let selected = RwSignal::new(computer.groups.iter().map(|group| group.id.clone()).collect::<Vec<_>>());
    let sending = Submission::new();
    let id = computer.id.clone();
    let submit = sending.on_submit(move || {
        let body =
            UpdateComputerRequest { display_name: Some(name.get_untracked()), groups: Some(selected.get_untracked()) };
        sending.send(
            session,
            (id.clone(), body),
            |api, (id, body)| async move { api.update_computer(&id, &body).await },
            move |result| {
                on_saved.run(result?);
                Ok(())
            },
        );
    });
    let pickers = move || match groups.get() {
        Some(Ok(groups)) => {
            view! { <TargetGroupCheckboxes groups=groups selected=selected testid="computer-group" /> }.into_any()
        }
        Some(Err(failure)) => view! { <p class="alert alert-error">{failure.message()}</p> }.into_any(),
        None => view! { <p class="loading">"Loading groups…"</p> }.into_any(),
    };
    view! {
        <Modal title=format!("Edit “{}”", computer.name) testid="computer-dialog" on_close=on_close>
            <form class="form" data-testid="computer-form" on:submit=submit novalidate>
                <Alert message=sending.error kind=AlertKind::Error testid="computer-form-error" />
                <TextField
                    label="Display name"
                    value=name
                    testid="computer-display-name"
                    placeholder=""
                    hint="What technicians and the logs call it; empty uses the host name it reports."
                />
                <fieldset class="field">
                    <legend>"Target groups"</legend>
                    {pickers}
                </fieldset>
                <div class="form-actions">
                    <SubmitButton testid="computer-save" pending=sending.pending label="Save" busy_label="Saving…" />
                </div>
            </form>
        </Modal>
    }
}
