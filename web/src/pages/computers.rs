//! The administrator's Computers: every enrolled computer with its groups,
//! presence, last contact and agent version; rename it and move it
//! between groups, or revoke it (confirmed): its credential stops working
//! and its sessions end at once.

use crate::components::action_button::ActionButton;
use crate::components::alert::{Alert, AlertKind};
use crate::components::computer_edit_dialog::ComputerEditDialog;
use crate::components::computers_table::ComputersTable;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::list_state::ListState;
use crate::components::page_header::PageHeader;
use crate::session::Session;
use crate::submission::Submission;
use crate::time::now_ms;
use leptos::prelude::*;
use tether_shared::groups::ComputerView;

#[component]
pub fn ComputersPage() -> impl IntoView {
    let session = Session::use_context();
    let computers = LocalResource::new(move || async move {
        (session.call(|api| async move { api.list_computers().await }).await, now_ms())
    });
    let editing = RwSignal::new(None::<ComputerView>);
    let revoking = RwSignal::new(None::<ComputerView>);
    let revoke = Submission::new();
    let notice = RwSignal::new(None::<String>);

    let confirm_revoke = Callback::new(move |()| {
        let Some(computer) = revoking.get_untracked() else { return };
        if !revoke.begin() {
            return;
        }
        revoke.send(
            session,
            computer.id.clone(),
            |api, id| async move { api.revoke_computer(&id).await },
            move |result| {
                result?;
                revoking.set(None);
                notice.set(Some(format!(
                    "Revoked “{}”. Its sessions ended and it can no longer connect.",
                    computer.name
                )));
                computers.refetch();
                Ok(())
            },
        );
    });
    let table = move || {
        let (fetched, at) = computers.get().map_or((None, 0), |(list, at)| (Some(list), at));
        view! {
            <ListState
                fetched=fetched
                testid="computers"
                loading="Loading computers…"
                empty_title="No computers enrolled yet"
                empty_text="Issue an enrollment token under Agents and enroll a computer with it."
                list=move |list| view! {
                    <ComputersTable
                        computers=list
                        now_ms=at
                        on_edit=move |computer| { notice.set(None); editing.set(Some(computer)); }
                        on_revoke=move |computer| { notice.set(None); revoking.set(Some(computer)); }
                    />
                }
            />
        }
    };
    let edit_dialog = move || {
        editing.get().map(|computer| {
            view! {
                <ComputerEditDialog
                    computer=computer
                    on_saved=move |saved: ComputerView| {
                        notice.set(Some(format!("Saved “{}”.", saved.name)));
                        editing.set(None);
                        computers.refetch();
                    }
                    on_close=move |()| editing.set(None)
                />
            }
        })
    };
    let revoke_dialog = move || {
        revoking.get().map(|computer| view! {
            <ConfirmDialog
                title=format!("Revoke “{}”?", computer.name)
                message="Its live sessions end now, it disappears from every list, and its agent can no longer connect. To help it again, enroll it anew.".to_owned()
                confirm_label="Revoke computer"
                pending=revoke.pending
                error=revoke.error
                on_confirm=confirm_revoke
                on_close=move |()| { revoking.set(None); revoke.error.set(None); }
            />
        })
    };
    view! {
        <PageHeader title="Computers" subtitle="Every enrolled computer: rename it, group it, or revoke it.">
            <ActionButton testid="computers-refresh" label="Refresh" on_click=move |()| computers.refetch() />
        </PageHeader>
        <Alert message=notice kind=AlertKind::Success testid="computers-notice" />
        <section class="card card-flush">{table}</section>
        {edit_dialog}
        {revoke_dialog}
    }
}
