//! The technician's list of enrolled computers (targets), refreshed every
//! few seconds while the page is open; "Connect" opens a live session, and
//! "Start broker session" a connection code for a computer not enrolled.

use crate::api::codes;
use crate::components::alert::{Alert, AlertKind};
use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use crate::components::targets_table::TargetsTable;
use crate::pages::broker_window::hand_off;
use crate::session::Session;
use crate::time::{local_date_time, now_ms};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use std::time::Duration;
use tether_shared::agent::TargetView;

/// How often the list refreshes itself.
const REFRESH_EVERY: Duration = Duration::from_secs(3);

/// The list as last fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    targets: Vec<TargetView>,
    /// When it was fetched, Unix milliseconds.
    at: i64,
}

/// "3 targets · 2 online".
fn summary(targets: &[TargetView]) -> String {
    let online = targets.iter().filter(|target| target.online).count();
    let noun = if targets.len() == 1 { "target" } else { "targets" };
    format!("{} {noun} · {online} online", targets.len())
}

/// Targets with their status; the empty state until an agent enrolls.
#[component]
pub fn TargetsPage() -> impl IntoView {
    let session = Session::use_context();
    let snapshot = RwSignal::new(None::<Snapshot>);
    let error = RwSignal::new(None::<String>);
    let loading = RwSignal::new(false);

    // One request at a time: a slow answer is not overtaken by the next tick
    // (nor by the Refresh button, which is left enabled so it does not
    // flicker with every tick).
    let load = move || {
        if loading.get_untracked() {
            return;
        }
        loading.set(true);
        spawn_local(async move {
            let result = session.call(|api| async move { api.list_targets().await }).await;
            loading.set(false);
            match result {
                Ok(targets) => {
                    error.set(None);
                    snapshot.set(Some(Snapshot { targets, at: now_ms() }));
                }
                // The last good list stays on screen under the error.
                Err(failure) => error.set(Some(format!("Could not refresh the list: {}", failure.message()))),
            }
        });
    };
    load();

    // Connect: ask the server for a session, then open its controller page.
    let navigate = use_navigate();
    let connecting = RwSignal::new(None::<String>);
    let connect_error = RwSignal::new(None::<String>);
    let on_connect = Callback::new(move |target_id: String| {
        if connecting.with_untracked(Option::is_some) {
            return;
        }
        connecting.set(Some(target_id.clone()));
        connect_error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = session
                .call(|api| {
                    let target_id = target_id.clone();
                    async move { api.create_session(&target_id).await }
                })
                .await;
            connecting.set(None);
            match result {
                Ok(created) => navigate(&format!("/sessions/{}", created.id), Default::default()),
                Err(failure) if failure.code() == Some(codes::TARGET_OFFLINE) => {
                    connect_error.set(Some("That computer is offline now, so no session can start.".to_owned()));
                    load();
                }
                Err(failure) => connect_error.set(Some(format!("Could not start a session: {}", failure.message()))),
            }
        });
    });

    // Start broker session: a connection code for a computer that is not
    // enrolled; its window shows the code (handed over: the server cannot
    // show it again).
    let navigate = use_navigate();
    let starting = RwSignal::new(false);
    let start_broker_session = move |_| {
        if starting.get_untracked() {
            return;
        }
        starting.set(true);
        connect_error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = session.call(|api| async move { api.create_broker_session().await }).await;
            starting.set(false);
            match result {
                Ok(created) => {
                    let path = format!("/broker/{}", created.id);
                    hand_off(created);
                    navigate(&path, Default::default());
                }
                Err(failure) => {
                    connect_error.set(Some(format!("Could not start a broker session: {}", failure.message())))
                }
            }
        });
    };

    crate::poll::every(REFRESH_EVERY, load);

    let targets = Signal::derive(move || snapshot.with(|s| s.as_ref().map(|s| s.targets.clone()).unwrap_or_default()));
    let now = Signal::derive(move || snapshot.with(|s| s.as_ref().map_or(0, |s| s.at)));
    let has_targets = move || snapshot.with(|s| s.as_ref().is_some_and(|s| !s.targets.is_empty()));

    let empty_state = || {
        view! {
            <EmptyState title="No computers for you yet" testid="targets-empty">
                <p>
                    "Computers appear here once they are enrolled and a policy lets you help them, online while their agent runs. Ask an administrator if one is missing."
                </p>
            </EmptyState>
        }
    };
    let body = move || {
        let empty = snapshot.with(|s| s.as_ref().map(|s| s.targets.is_empty()));
        match empty {
            Some(true) => Some(empty_state().into_any()),
            Some(false) => None,
            None if error.with(Option::is_some) => None,
            None => {
                Some(view! { <div class="loading" data-testid="targets-loading">"Loading targets…"</div> }.into_any())
            }
        }
    };

    view! {
        <PageHeader title="Targets" subtitle="Computers with the Tether agent that you may assist.">
            <span class="muted small" data-testid="targets-updated">
                {move || {
                    snapshot
                        .with(|s| s.as_ref().map(|s| local_date_time(s.at)))
                        .map(|at| format!("Updated {}", at.split(' ').nth(1).unwrap_or_default()))
                }}
            </span>
            <button
                type="button"
                class="button button-primary"
                data-testid="start-broker-session"
                title="A connection code for a computer that is not enrolled"
                disabled=move || starting.get()
                on:click=start_broker_session
            >
                {move || if starting.get() { "Starting…" } else { "Start broker session" }}
            </button>
            <button
                type="button"
                class="button button-secondary"
                data-testid="targets-refresh"
                on:click=move |_| load()
            >
                "Refresh"
            </button>
        </PageHeader>
        <Alert message=error kind=AlertKind::Error testid="targets-error" />
        <Alert message=connect_error kind=AlertKind::Error testid="connect-error" />
        <section class="card card-flush">
            <Show when=has_targets>
                <header class="card-flush-header">
                    <h2>"Enrolled computers"</h2>
                    <span class="muted" data-testid="targets-summary">
                        {move || targets.with(|t| summary(t))}
                    </span>
                </header>
                <TargetsTable targets=targets now=now connecting=connecting on_connect=on_connect />
            </Show>
            {body}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::summary;
    use tether_shared::agent::{AgentInfo, TargetView};

    fn target(online: bool) -> TargetView {
        TargetView {
            id: "a".into(),
            display_name: None,
            info: AgentInfo {
                hostname: "pc".into(),
                os: String::new(),
                os_user: String::new(),
                agent_version: "0.1.0".into(),
                displays: Vec::new(),
            },
            online,
            last_seen_at: None,
            enrolled_at: 0,
        }
    }

    #[test]
    fn summaries() {
        assert_eq!(summary(&[target(true)]), "1 target · 1 online");
        assert_eq!(summary(&[target(true), target(false), target(false)]), "3 targets · 1 online");
    }
}
