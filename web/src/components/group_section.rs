//! One kind of group on the Groups page: create one, and for each group
//! its members (each removable), a choice to add one, and Delete
//! (confirmed). Technician groups hold technicians, target groups hold
//! computers.

use crate::components::action_button::ActionButton;
use crate::components::alert::{Alert, AlertKind};
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::{Column, DataTable};
use crate::components::list_state::ListState;
use crate::components::submit_button::SubmitButton;
use crate::components::text_field::TextField;
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use tether_shared::Role;
use tether_shared::groups::{GroupKind, GroupView, Named};

const COLUMNS: &[Column] = &[Column::new("Group"), Column::new("Members"), Column::new("Add"), Column::actions()];

/// Words and test ids of one kind.
fn words(kind: GroupKind) -> (&'static str, &'static str) {
    match kind {
        GroupKind::Technician => ("Technician groups", "technician-groups"),
        GroupKind::Target => ("Target groups", "target-groups"),
    }
}

/// Who may be a member of `kind`'s groups.
async fn candidates(session: Session, kind: GroupKind) -> Result<Vec<Named>, crate::api::ApiFailure> {
    match kind {
        GroupKind::Technician => {
            let users = session.call(|api| async move { api.list_users().await }).await?;
            Ok(users
                .into_iter()
                .filter(|u| u.role == Role::Technician)
                .map(|u| Named { id: u.id, name: u.username })
                .collect())
        }
        GroupKind::Target => {
            let computers = session.call(|api| async move { api.list_computers().await }).await?;
            Ok(computers.into_iter().map(|c| Named { id: c.id, name: c.name }).collect())
        }
    }
}

#[component]
pub fn GroupSection(kind: GroupKind) -> impl IntoView {
    let session = Session::use_context();
    let (title, testid) = words(kind);
    let groups = LocalResource::new(move || async move {
        let groups = session.call(|api| async move { api.list_groups(kind).await }).await;
        (groups, candidates(session, kind).await.unwrap_or_default())
    });
    let name = RwSignal::new(String::new());
    let creating = Submission::new();
    let changing = Submission::new();
    let deleting = RwSignal::new(None::<GroupView>);
    let delete = Submission::new();

    let submit = creating.on_submit(move || {
        creating.send(
            session,
            name.get_untracked(),
            move |api, name| async move { api.create_group(kind, &name).await },
            move |result| {
                result?;
                name.set(String::new());
                groups.refetch();
                Ok(())
            },
        );
    });
    let set_member = move |group: String, member: String, add: bool| {
        if !changing.begin() {
            return;
        }
        changing.send(
            session,
            (group, member),
            move |api, (group, member)| async move { api.set_member(kind, &group, &member, add).await },
            move |result| {
                result?;
                groups.refetch();
                Ok(())
            },
        );
    };
    let confirm_delete = Callback::new(move |()| {
        let Some(group) = deleting.get_untracked() else { return };
        if !delete.begin() {
            return;
        }
        delete.send(
            session,
            group.id.clone(),
            move |api, id| async move { api.delete_group(kind, &id).await },
            move |result| {
                result?;
                deleting.set(None);
                groups.refetch();
                Ok(())
            },
        );
    });

    let row = move |group: GroupView, everyone: Vec<Named>| {
        let members = group
            .members
            .iter()
            .map(|member| {
                let (group_id, member_id) = (group.id.clone(), member.id.clone());
                view! {
                    <span class="chip" data-testid="group-member" data-name=member.name.clone()>
                        {member.name.clone()}
                        <button type="button" class="chip-remove" aria-label=format!("Remove {}", member.name) data-testid="group-member-remove"
                            on:click=move |_| set_member(group_id.clone(), member_id.clone(), false)>"×"</button>
                    </span>
                }
            })
            .collect_view();
        let addable: Vec<Named> =
            everyone.into_iter().filter(|c| !group.members.iter().any(|m| m.id == c.id)).collect();
        let group_id = group.id.clone();
        let options = addable.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view();
        let to_delete = group.clone();
        view! {
            <tr data-testid="group-row" data-name=group.name.clone()>
                <td data-testid="group-name">{group.name.clone()}</td>
                <td>{members}</td>
                <td>
                    <select aria-label="Add a member" data-testid="group-add-member" on:change=move |ev| {
                        let member = event_target_value(&ev);
                        if !member.is_empty() {
                            set_member(group_id.clone(), member, true);
                        }
                    }>
                        <option value="">"Add…"</option>
                        {options}
                    </select>
                </td>
                <td>
                    <div class="row-actions">
                        <ActionButton class="button button-small button-danger-ghost" testid="group-delete" label="Delete" on_click=move |()| deleting.set(Some(to_delete.clone())) />
                    </div>
                </td>
            </tr>
        }
    };
    let table = move || {
        let (fetched, everyone) = groups.get().map_or((None, vec![]), |(list, everyone)| (Some(list), everyone));
        view! {
            <ListState
                fetched=fetched
                testid=testid
                loading="Loading groups…"
                empty_title="No groups yet"
                empty_text="Create one above."
                list={move |list: Vec<GroupView>| view! {
                    <DataTable testid="groups-table" columns=COLUMNS>
                        {list.into_iter().map(|group| row(group, everyone.clone())).collect_view()}
                    </DataTable>
                }}
            />
        }
    };
    let delete_dialog = move || {
        deleting.get().map(|group| {
            view! {
                <ConfirmDialog
                    title=format!("Delete “{}”?", group.name)
                    message="Its members leave it and the policies given to it are removed.".to_owned()
                    confirm_label="Delete group"
                    pending=delete.pending
                    error=delete.error
                    on_confirm=confirm_delete
                    on_close=move |()| { deleting.set(None); delete.error.set(None); }
                />
            }
        })
    };
    view! {
        <section class="card card-flush" data-testid=testid>
            <header class="card-flush-header"><h2>{title}</h2></header>
            <form class="form form-inline" data-testid=format!("{testid}-form") on:submit=submit novalidate>
                <Alert message=creating.error kind=AlertKind::Error testid=format!("{testid}-form-error") />
                <TextField label="New group" value=name testid="group-name-input" placeholder="e.g. Helpdesk" />
                <SubmitButton testid="group-create" pending=creating.pending label="Create group" busy_label="Creating…" />
            </form>
            <Alert message=changing.error kind=AlertKind::Error testid=format!("{testid}-error") />
            {table}
        </section>
        {delete_dialog}
    }
}
