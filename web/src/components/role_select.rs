//! A `<select>` of the account roles.

use leptos::prelude::*;
use tether_shared::Role;

/// A labelled role picker bound to `value`.
#[component]
pub fn RoleSelect(
    /// The chosen role, two-way bound.
    value: RwSignal<Role>,
    /// The stable test id of the `<select>`.
    testid: &'static str,
) -> impl IntoView {
    let id = format!("field-{testid}");
    view! {
        <div class="field">
            <label for=id.clone()>"Role"</label>
            <select
                id=id
                data-testid=testid
                prop:value=move || value.get().as_str()
                on:change=move |ev| {
                    if let Ok(role) = event_target_value(&ev).parse::<Role>() {
                        value.set(role);
                    }
                }
            >
                {Role::ALL
                    .into_iter()
                    .map(|role| {
                        view! {
                            <option value=role.as_str() selected=move || value.get() == role>
                                {role.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <p class="field-hint">
                {move || match value.get() {
                    Role::Admin => "Manages accounts and settings; cannot read the audit log.",
                    Role::Technician => "Connects to targets and assists their users.",
                    Role::Auditor => "Reads and verifies the audit log; changes nothing.",
                }}
            </p>
        </div>
    }
}
