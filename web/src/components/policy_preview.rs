//! The administrator's preview: pick a technician and a computer and see
//! the policy that technician works under there, and which assignments
//! (or the default) it comes from.

use crate::components::alert::{Alert, AlertKind};
use crate::components::submit_button::SubmitButton;
use crate::policy_form::modes_text;
use crate::session::Session;
use crate::submission::Submission;
use leptos::prelude::*;
use tether_shared::groups::EffectivePolicyView;
use tether_shared::role::Role;

/// A `<select>` of `(id, name)` choices with an empty first choice.
#[component]
fn Picker(
    label: &'static str,
    testid: &'static str,
    choices: Vec<(String, String)>,
    value: RwSignal<String>,
) -> impl IntoView {
    let options = choices.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view();
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

/// What the preview found, in words.
fn result_view(found: EffectivePolicyView) -> impl IntoView {
    let sources = if found.from_default {
        "the default policy (no pair of their groups has a policy)".to_owned()
    } else {
        let pairs: Vec<String> = found
            .from_assignments
            .iter()
            .map(|a| format!("{} × {}", a.technician_group.name, a.target_group.name))
            .collect();
        if pairs.is_empty() { "nothing".to_owned() } else { pairs.join("; ") }
    };
    let details = found.policy.map(|policy| {
        let assent: Vec<&str> = policy.access.assent_each_time.iter().map(|access| access.label()).collect();
        view! {
            <p>"Allowed modes: " <strong data-testid="preview-modes">{modes_text(policy.access.allowed_modes)}</strong></p>
            <p>"Asked each time: " {if assent.is_empty() { "nothing".to_owned() } else { assent.join(", ") }}</p>
            <p>"Unattended access: " {if policy.access.unattended { "allowed" } else { "not allowed" }}</p>
            <p>"User acceptance: " {if policy.session.user_acceptance { "required" } else { "not required" }}</p>
        }
    });
    let verdict =
        if found.reachable { "Can open sessions on this computer." } else { "Cannot see or reach this computer." };
    view! {
        <div class="preview-result" data-testid="preview-result" data-reachable=found.reachable.to_string()>
            <p><strong data-testid="preview-verdict">{verdict}</strong></p>
            <p>"From: " <span data-testid="preview-sources">{sources}</span></p>
            {details}
        </div>
    }
}

/// The preview card.
#[component]
pub fn PolicyPreview() -> impl IntoView {
    let session = Session::use_context();
    let choices = LocalResource::new(move || async move {
        let users = session.call(|api| async move { api.list_users().await }).await?;
        let computers = session.call(|api| async move { api.list_computers().await }).await?;
        let technicians = users
            .into_iter()
            .filter(|user| user.role == Role::Technician)
            .map(|user| (user.id, user.username))
            .collect::<Vec<_>>();
        Ok::<_, crate::api::ApiFailure>((
            technicians,
            computers.into_iter().map(|c| (c.id, c.name)).collect::<Vec<_>>(),
        ))
    });
    let technician = RwSignal::new(String::new());
    let computer = RwSignal::new(String::new());
    let found = RwSignal::new(None::<EffectivePolicyView>);
    let asking = Submission::new();
    let submit = asking.on_submit(move || {
        let pair = (technician.get_untracked(), computer.get_untracked());
        if pair.0.is_empty() || pair.1.is_empty() {
            asking.error.set(Some("Choose a technician and a computer.".to_owned()));
            return;
        }
        asking.send(
            session,
            pair,
            |api, (technician, computer)| async move { api.effective_policy(&technician, &computer).await },
            move |result| {
                found.set(Some(result?));
                Ok(())
            },
        );
    });
    let pickers = move || match choices.get() {
        Some(Ok((technicians, computers))) => view! {
            <Picker label="Technician" testid="preview-technician" choices=technicians value=technician />
            <Picker label="Computer" testid="preview-computer" choices=computers value=computer />
        }
        .into_any(),
        Some(Err(failure)) => view! { <p class="alert alert-error">{failure.message()}</p> }.into_any(),
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
    };
    view! {
        <section class="card" data-testid="policy-preview">
            <h2 class="card-title">"Preview"</h2>
            <p class="muted card-intro">"The effective policy for a technician on a computer, and where it comes from."</p>
            <form class="form form-inline" data-testid="preview-form" on:submit=submit novalidate>
                <Alert message=asking.error kind=AlertKind::Error testid="preview-error" />
                {pickers}
                <SubmitButton testid="preview-submit" pending=asking.pending label="Show effective policy" busy_label="Working…" />
            </form>
            {move || found.get().map(result_view)}
        </section>
    }
}
