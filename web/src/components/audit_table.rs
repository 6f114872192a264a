//! The audit log as a table, newest entry first: actors and targets by
//! name where the server knows one (the stored id on hover), and a link to
//! the timeline of the session an entry concerns.

use crate::session_text::actor_label;
use crate::time::local_date_time;
use leptos::prelude::*;
use leptos_router::components::A;
use tether_shared::api::AuditEntryView;

/// The badge colour of an action: failures and resets stand out.
fn action_class(action: &str) -> &'static str {
    if action.ends_with("_failed") {
        "badge badge-danger mono"
    } else if action.starts_with("auth.") {
        "badge badge-info mono"
    } else if action.starts_with("user.") {
        "badge badge-role-admin mono"
    } else if action.starts_with("audit.") {
        "badge badge-role-auditor mono"
    } else {
        "badge badge-muted mono"
    }
}

/// Details as compact JSON, or an empty string when there are none.
fn details_text(details: &serde_json::Value) -> String {
    match details {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        other => other.to_string(),
    }
}

/// One row per entry: seq, local time, actor, action, target, source, details.
#[component]
pub fn AuditTable(
    /// The entries of the current page.
    entries: Vec<AuditEntryView>,
) -> impl IntoView {
    let rows = entries
        .into_iter()
        .map(|entry| {
            let details = details_text(&entry.details);
            let dash = || view! { <span class="muted">"—"</span> };
            view! {
                <tr data-testid="audit-row" data-seq=entry.seq.to_string() data-action=entry.action.clone()>
                    <td class="mono align-right" data-testid="audit-cell-seq">{entry.seq}</td>
                    <td class="nowrap" data-testid="audit-cell-time">{local_date_time(entry.at)}</td>
                    <td class="mono" data-testid="audit-cell-actor" title=entry.actor.clone()>
                        {actor_label(&entry)}
                    </td>
                    <td data-testid="audit-cell-action">
                        <span class=action_class(&entry.action)>{entry.action.clone()}</span>
                    </td>
                    <td class="mono" data-testid="audit-cell-target" title=entry.target.clone()>
                        {entry
                            .target_name
                            .clone()
                            .or_else(|| entry.target.clone())
                            .map_or_else(|| dash().into_any(), |t| t.into_any())}
                        {entry.session_id.clone().map(|id| view! {
                            <div>
                                <A href=format!("/audit/sessions/{id}") attr:class="small" attr:data-testid="audit-session-link">
                                    "Session timeline"
                                </A>
                            </div>
                        })}
                    </td>
                    <td class="mono nowrap" data-testid="audit-cell-source">
                        {entry.source.clone().map_or_else(|| dash().into_any(), |s| s.into_any())}
                    </td>
                    <td class="details" data-testid="audit-cell-details">
                        <code title=details.clone()>{details.clone()}</code>
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="table-wrap">
            <table class="table table-dense" data-testid="audit-table">
                <thead>
                    <tr>
                        <th scope="col" class="align-right">"Seq"</th>
                        <th scope="col">"Time (local)"</th>
                        <th scope="col">"Actor"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Target"</th>
                        <th scope="col">"Source"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
