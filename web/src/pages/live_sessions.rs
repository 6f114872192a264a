//! Every live session (`/live-sessions`), for administrators, who may end
//! any, and auditors, who read it and open each one's timeline: the
//! technician, the computer, since when, and how it is connected.

use crate::components::action_button::ActionButton;
use crate::components::alert::{Alert, AlertKind};
use crate::components::data_table::{Column, DataTable};
use crate::components::end_session_dialog::EndSessionDialog;
use crate::components::list_state::ListState;
use crate::components::page_header::PageHeader;
use crate::session::{Phase, Session};
use crate::session_text::{connection, duration, state_label};
use crate::sessions_feed::SessionsFeed;
use crate::time::local_date_time;
use leptos::prelude::*;
use leptos_router::components::A;
use tether_shared::Role;
use tether_shared::api::SessionSummary;

/// The table's header.
const COLUMNS: &[Column] = &[
    Column::new("Technician"),
    Column::new("Computer"),
    Column::new("Since"),
    Column::new("Connection"),
    Column::new("State"),
    Column::unlabelled("Actions"),
];

/// Live sessions, newest first, refreshed every few seconds.
#[component]
pub fn LiveSessionsPage() -> impl IntoView {
    let session = Session::use_context();
    let role = move || match session.phase().get_untracked() {
        Phase::Ready(role) => Some(role),
        _ => None,
    };
    let may_end = role().is_some_and(Role::can_end_any_session);
    let may_audit = role().is_some_and(Role::can_read_audit);
    let feed = SessionsFeed::start(true);
    let ending = RwSignal::new(None::<SessionSummary>);
    let notice = RwSignal::new(None::<String>);

    let on_ended = Callback::new(move |()| {
        if let Some(ended) = ending.get_untracked() {
            notice.set(Some(format!("Ended {}'s session with {}.", ended.technician, ended.computer)));
        }
        ending.set(None);
        feed.reload();
    });
    let end_dialog = move || {
        ending.get().map(|live| {
            view! { <EndSessionDialog session=live on_ended=on_ended on_close=move |()| ending.set(None) /> }
        })
    };
    let on_end = Callback::new(move |live: SessionSummary| {
        notice.set(None);
        ending.set(Some(live));
    });
    let table = move || {
        view! {
            <ListState
                fetched=feed.fetched.get()
                testid="live-sessions"
                loading="Loading live sessions…"
                empty_title="No live sessions"
                empty_text="Sessions appear here while a technician is connected to a computer."
                list=move |sessions| {
                    let rows = sessions
                        .into_iter()
                        .map(|live| view! { <LiveSessionRow live=live now=feed.now may_end=may_end may_audit=may_audit on_end=on_end /> })
                        .collect_view();
                    view! { <DataTable testid="live-sessions-table" columns=COLUMNS>{rows}</DataTable> }
                }
            />
        }
    };

    view! {
        <PageHeader title="Live sessions" subtitle="Who is connected to which computer right now.">
            <ActionButton testid="live-sessions-refresh" label="Refresh" on_click=move |()| feed.reload() />
        </PageHeader>
        <Alert message=feed.refresh_error kind=AlertKind::Error testid="live-sessions-refresh-error" />
        <Alert message=notice kind=AlertKind::Success testid="live-sessions-notice" />
        <section class="card card-flush">{table}</section>
        {end_dialog}
    }
}

/// One live session.
#[component]
fn LiveSessionRow(
    live: SessionSummary,
    /// The clock "since" counts to.
    now: RwSignal<i64>,
    /// Whether End is offered (administrators).
    may_end: bool,
    /// Whether the timeline link is offered (auditors).
    may_audit: bool,
    /// Asks to end this session.
    on_end: Callback<SessionSummary>,
) -> impl IntoView {
    let started = live.created_at;
    let controller = if live.controller_attached { "Controller attached" } else { "Controller away" };
    let actions = (
        may_end.then(|| {
            let to_end = live.clone();
            view! {
                <ActionButton
                    class="button button-small button-danger"
                    testid="live-session-end"
                    label="End"
                    on_click=move |()| on_end.run(to_end.clone())
                />
            }
        }),
        may_audit.then(|| {
            view! {
                <A href=format!("/audit/sessions/{}", live.id) attr:class="button button-small button-secondary" attr:data-testid="live-session-timeline">
                    "Timeline"
                </A>
            }
        }),
    );
    view! {
        <tr data-testid="live-session-row" data-id=live.id.clone()>
            <td data-testid="live-session-technician">{live.technician.clone()}</td>
            <td data-testid="live-session-computer">
                {live.computer.clone()}
                {live.person.clone().map(|person| view! { <div class="muted small">{person}</div> })}
            </td>
            <td class="nowrap" data-testid="live-session-since">
                {local_date_time(started)}
                <div class="muted small">{move || format!("for {}", duration(started, now.get()))}</div>
            </td>
            <td data-testid="live-session-connection">
                {connection(&live)}
                <div class="muted small" data-testid="live-session-controller" data-attached=live.controller_attached.to_string()>
                    {controller}
                </div>
            </td>
            <td>
                <span class="badge badge-success" data-testid="live-session-state" data-state=live.state.clone()>
                    {state_label(&live.state)}
                </span>
            </td>
            <td>
                <div class="row-actions">{actions}</div>
            </td>
        </tr>
    }
}
