//! The audit log's filter bar: parts of the actor, action and target (any
//! case) and a time range.

use crate::components::text_field::TextField;
use crate::time::parse_local_input;
use leptos::prelude::*;
use tether_shared::api::AuditQuery;

/// Action names and prefixes offered as suggestions.
const ACTION_SUGGESTIONS: [&str; 20] = [
    "auth.",
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.password_change",
    "user.",
    "user.create",
    "user.update",
    "user.password_reset",
    "system.first_admin",
    "audit.",
    "audit.verify",
    "session.",
    "session.end",
    "session.refused",
    "broker_session.",
    "policy.",
    "policy.update",
    "group.",
    "agent.revoke",
];

/// A `datetime-local` value has minute precision; "to 13:45" includes
/// everything up to 13:45:59.999.
const MINUTE_MS: i64 = 60_000;

/// Filter inputs; `on_apply` receives the query (without a page cursor).
#[component]
pub fn AuditFilters(
    /// Called with the filters when applied or cleared.
    #[prop(into)]
    on_apply: Callback<AuditQuery>,
) -> impl IntoView {
    let actor = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let target = RwSignal::new(String::new());
    let since = RwSignal::new(String::new());
    let until = RwSignal::new(String::new());
    let since_error = RwSignal::new(None::<String>);
    let until_error = RwSignal::new(None::<String>);

    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let since_value = since.get_untracked();
        let until_value = until.get_untracked();
        let since_ms = parse_local_input(&since_value);
        let until_ms = parse_local_input(&until_value).map(|ms| ms + MINUTE_MS);
        let s_err =
            (!since_value.trim().is_empty() && since_ms.is_none()).then(|| "Enter a valid date and time.".to_owned());
        let mut u_err =
            (!until_value.trim().is_empty() && until_ms.is_none()).then(|| "Enter a valid date and time.".to_owned());
        if let (Some(from), Some(to)) = (since_ms, until_ms)
            && from >= to
        {
            u_err = Some("The end must be after the start.".to_owned());
        }
        let invalid = s_err.is_some() || u_err.is_some();
        since_error.set(s_err);
        until_error.set(u_err);
        if invalid {
            return;
        }
        let text = |signal: RwSignal<String>| {
            let value = signal.get_untracked().trim().to_owned();
            (!value.is_empty()).then_some(value)
        };
        on_apply.run(AuditQuery {
            actor: text(actor),
            action: text(action),
            target: text(target),
            since: since_ms,
            until: until_ms,
            ..AuditQuery::default()
        });
    };

    let clear = move |_| {
        for signal in [actor, action, target, since, until] {
            signal.set(String::new());
        }
        since_error.set(None);
        until_error.set(None);
        on_apply.run(AuditQuery::default());
    };

    view! {
        <form class="filters" on:submit=apply novalidate data-testid="audit-filters">
            <TextField label="Actor" value=actor testid="filter-actor" placeholder="part of a name" />
            <div class="field">
                <label for="field-filter-action">"Action"</label>
                <input
                    id="field-filter-action"
                    type="text"
                    list="audit-actions"
                    placeholder="e.g. broker or login"
                    autocomplete="off"
                    data-testid="filter-action"
                    bind:value=action
                />
                <datalist id="audit-actions">
                    {ACTION_SUGGESTIONS
                        .into_iter()
                        .map(|name| view! { <option value=name></option> })
                        .collect_view()}
                </datalist>
            </div>
            <TextField label="Target" value=target testid="filter-target" placeholder="user, computer or id" />
            <TextField
                label="From"
                value=since
                kind="datetime-local"
                testid="filter-since"
                error=since_error
            />
            <TextField
                label="To"
                value=until
                kind="datetime-local"
                testid="filter-until"
                error=until_error
            />
            <div class="filters-actions">
                <button type="submit" class="button button-primary" data-testid="filter-apply">
                    "Apply"
                </button>
                <button
                    type="button"
                    class="button button-ghost"
                    data-testid="filter-clear"
                    on:click=clear
                >
                    "Clear"
                </button>
            </div>
        </form>
    }
}
