//! The policies given to pairs of groups: pick a technician group and a
//! target group to give the pair a policy (it starts as the built-in
//! default and opens for editing), edit one pair's policy with the same
//! form as the default, or remove it (confirmed).

use crate::components::action_button::ActionButton;
use crate::components::alert::{Alert, AlertKind};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::{Column, DataTable};
use crate::components::list_state::ListState;
use crate::components::policy_form::{PolicyForm, PolicyTarget};
use crate::components::submit_button::SubmitButton;
use crate::policy_form::modes_text;
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use tether_shared::access_policy::Policy;
use tether_shared::groups::{AssignmentView, CreateAssignmentRequest, GroupKind, GroupView};

const COLUMNS: &[Column] =
    &[Column::new("Technician group"), Column::new("Target group"), Column::new("Allowed modes"), Column::actions()];

/// A `<select>` of groups with an empty first choice.
#[component]
pub fn GroupSelect(
    label: &'static str,
    testid: &'static str,
    groups: Vec<GroupView>,
    value: RwSignal<String>,
) -> impl IntoView {
    let options = groups
        .into_iter()
        .map(|group| view! { <option value=group.id.clone()>{group.name.clone()}</option> })
        .collect_view();
    view! {
        <label class="field inline-field">
            <span>{label}</span>
            <select data-testid=testid prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="">"Choose…"</option>
                {options}
            </select>
        </label>
    }
}

/// The assignments card.
#[component]
pub fn PolicyAssignments() -> impl IntoView {
    let session = Session::use_context();
    let groups = LocalResource::new(move || async move {
        let technicians = session.call(|api| async move { api.list_groups(GroupKind::Technician).await }).await;
        let targets = session.call(|api| async move { api.list_groups(GroupKind::Target).await }).await;
        technicians.and_then(|technicians| targets.map(|targets| (technicians, targets)))
    });
    let assignments =
        LocalResource::new(
            move || async move { session.call(|api| async move { api.list_assignments().await }).await },
        );
    let technician_group = RwSignal::new(String::new());
    let target_group = RwSignal::new(String::new());
    let editing = RwSignal::new(None::<AssignmentView>);
    let removing = RwSignal::new(None::<AssignmentView>);
    let creating = Submission::new();
    let remove = Submission::new();

    let submit = creating.on_submit(move || {
        let (technician, target) = (technician_group.get_untracked(), target_group.get_untracked());
        if technician.is_empty() || target.is_empty() {
            creating.error.set(Some("Choose a technician group and a target group.".to_owned()));
            return;
        }
        let body =
            CreateAssignmentRequest { technician_group: technician, target_group: target, policy: Policy::default() };
        creating.send(
            session,
            body,
            |api, body| async move { api.create_assignment(&body).await },
            move |result| {
                editing.set(Some(result?));
                assignments.refetch();
                Ok(())
            },
        );
    });
    let confirm_remove = Callback::new(move |()| {
        let Some(assignment) = removing.get_untracked() else { return };
        if !remove.begin() {
            return;
        }
        remove.send(
            session,
            assignment.id.clone(),
            |api, id| async move { api.delete_assignment(&id).await },
            move |result| {
                result?;
                removing.set(None);
                if editing.with_untracked(|e| e.as_ref().is_some_and(|e| e.id == assignment.id)) {
                    editing.set(None);
                }
                assignments.refetch();
                Ok(())
            },
        );
    });

    let pickers = move || {
        match groups.get() {
        Some(Ok((technicians, targets))) => view! {
            <GroupSelect label="Technician group" testid="assignment-technician-group" groups=technicians value=technician_group />
            <GroupSelect label="Target group" testid="assignment-target-group" groups=targets value=target_group />
        }
        .into_any(),
        Some(Err(failure)) => view! { <p class="alert alert-error">{failure.message()}</p> }.into_any(),
        None => view! { <p class="loading">"Loading groups…"</p> }.into_any(),
    }
    };
    let row = move |assignment: AssignmentView| {
        let (edit, drop) = (assignment.clone(), assignment.clone());
        view! {
            <tr data-testid="assignment-row" data-pair=format!("{} × {}", assignment.technician_group.name, assignment.target_group.name)>
                <td>{assignment.technician_group.name.clone()}</td>
                <td>{assignment.target_group.name.clone()}</td>
                <td data-testid="assignment-modes">{modes_text(assignment.policy.access.allowed_modes)}</td>
                <td>
                    <div class="row-actions">
                        <ActionButton class="button button-small button-secondary" testid="assignment-edit" label="Edit" on_click=move |()| editing.set(Some(edit.clone())) />
                        <ActionButton class="button button-small button-danger-ghost" testid="assignment-remove" label="Remove" on_click=move |()| removing.set(Some(drop.clone())) />
                    </div>
                </td>
            </tr>
        }
    };
    let table = move || {
        view! {
            <ListState
                fetched=assignments.get()
                testid="assignments"
                loading="Loading policies…"
                empty_title="No pair has a policy of its own"
                empty_text="Every technician works under the default policy on every computer."
                list={move |list: Vec<AssignmentView>| view! {
                    <DataTable testid="assignments-table" columns=COLUMNS>{list.into_iter().map(row).collect_view()}</DataTable>
                }}
            />
        }
    };
    let editor = move || {
        editing.get().map(|assignment| {
            let title = format!("Policy for {} on {}", assignment.technician_group.name, assignment.target_group.name);
            view! {
                <section class="card" data-testid="assignment-editor">
                    <header class="card-flush-header">
                        <h2>{title}</h2>
                        <ActionButton testid="assignment-editor-close" label="Close" on_click=move |()| editing.set(None) />
                    </header>
                    <PolicyForm
                        saved=assignment.policy
                        target=PolicyTarget::Assignment(assignment.id.clone())
                        prefix="assignment"
                        on_saved=move |_| assignments.refetch()
                    />
                </section>
            }
        })
    };
    let remove_dialog = move || {
        removing.get().map(|assignment| view! {
            <ConfirmDialog
                title=format!("Remove the policy for {} on {}?", assignment.technician_group.name, assignment.target_group.name)
                message="Technicians of this group fall back to their other pairs on these computers, or to the default policy.".to_owned()
                confirm_label="Remove policy"
                pending=remove.pending
                error=remove.error
                on_confirm=confirm_remove
                on_close=move |()| removing.set(None)
            />
        })
    };

    view! {
        <section class="card card-flush">
            <header class="card-flush-header">
                <h2>"Policies for pairs of groups"</h2>
            </header>
            <p class="muted card-intro">
                "Every pair matching one of a technician's groups and one of a computer's groups applies; together they merge to the most restrictive."
            </p>
            <form class="form form-inline" data-testid="assignment-form" on:submit=submit novalidate>
                <Alert message=creating.error kind=AlertKind::Error testid="assignment-form-error" />
                {pickers}
                <SubmitButton testid="assignment-create" pending=creating.pending label="Add a policy for this pair" busy_label="Adding…" />
            </form>
            {table}
        </section>
        {editor}
        {remove_dialog}
    }
}
