//! One row of the technician's target table.

use crate::components::target_status_badge::TargetStatusBadge;
use crate::time::{local_date_time, relative};
use leptos::prelude::*;
use tether_shared::agent::{DisplayInfo, TargetView};

/// A display as "1920×1080 (primary)".
pub fn display_label(display: &DisplayInfo) -> String {
    let size = format!("{}×{}", display.width, display.height);
    if display.primary { format!("{size} (primary)") } else { size }
}

/// Status, hostname, OS, user, agent version, displays, last seen, and a
/// "Connect" button when the target is online.
#[component]
pub fn TargetRow(
    /// The target.
    target: TargetView,
    /// The current time, Unix milliseconds, for "last seen".
    #[prop(into)]
    now: Signal<i64>,
    /// The target a session is being opened with, if any (all Connect
    /// buttons wait meanwhile).
    #[prop(into)]
    connecting: Signal<Option<String>>,
    /// Opens a session with the target of this id.
    on_connect: Callback<String>,
) -> impl IntoView {
    let TargetView { id, display_name, info, online, last_seen_at, .. } = target;
    let this_id = id.clone();
    let is_connecting = move || connecting.with(|busy| busy.as_deref() == Some(this_id.as_str()));
    let connect_id = id.clone();
    let display_count = info.displays.len();
    let displays = if info.displays.is_empty() {
        view! { <span class="muted">"No display"</span> }.into_any()
    } else {
        info.displays
            .iter()
            .map(|display| view! { <div title=display.name.clone()>{display_label(display)}</div> })
            .collect_view()
            .into_any()
    };
    let last_seen = move || match (online, last_seen_at) {
        (true, _) => "now".to_owned(),
        (false, Some(at)) => relative(now.get(), at),
        (false, None) => "never".to_owned(),
    };
    let dash = |text: String| if text.is_empty() { "—".to_owned() } else { text };
    view! {
        <tr data-testid="target-row" data-id=id data-hostname=info.hostname.clone() class:row-muted=!online>
            <td>
                <TargetStatusBadge online=online />
            </td>
            <td class="strong" data-testid="target-cell-hostname">
                {display_name.clone().unwrap_or_else(|| info.hostname.clone())}
                {display_name.map(|_| view! { <span class="muted">{format!(" ({})", info.hostname)}</span> })}
            </td>
            <td data-testid="target-cell-os">{dash(info.os)}</td>
            <td class="mono" data-testid="target-cell-user">{dash(info.os_user)}</td>
            <td class="mono" data-testid="target-cell-version">{dash(info.agent_version)}</td>
            <td class="nowrap" data-testid="target-displays" data-count=display_count>{displays}</td>
            <td
                class="nowrap"
                data-testid="target-last-seen"
                title=last_seen_at.map(local_date_time).unwrap_or_default()
            >
                {last_seen}
            </td>
            <td>
                <div class="row-actions">
                    {online
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    class="button button-small button-primary"
                                    data-testid="target-connect"
                                    disabled=move || connecting.with(Option::is_some)
                                    title="Open a live session with this computer"
                                    on:click=move |_| on_connect.run(connect_id.clone())
                                >
                                    {move || if is_connecting() { "Connecting…" } else { "Connect" }}
                                </button>
                            }
                        })}
                </div>
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::display_label;
    use tether_shared::agent::DisplayInfo;

    #[test]
    fn display_labels() {
        let display = |primary| DisplayInfo { name: ":0".into(), width: 1920, height: 1080, primary };
        assert_eq!(display_label(&display(true)), "1920×1080 (primary)");
        assert_eq!(display_label(&display(false)), "1920×1080");
    }
}
