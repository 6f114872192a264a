//! A badge saying whether a target's agent is connected right now.

use leptos::prelude::*;

/// "Online" or "Offline".
#[component]
pub fn TargetStatusBadge(
    /// Whether the agent is connected.
    online: bool,
) -> impl IntoView {
    let (class, label, status) =
        if online { ("badge badge-success", "Online", "online") } else { ("badge badge-muted", "Offline", "offline") };
    view! {
        <span class=class data-testid="target-status" data-status=status>
            <span class="status-dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}
