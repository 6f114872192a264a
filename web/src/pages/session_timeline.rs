//! The auditor's timeline of one session (`/audit/sessions/{id}`): the
//! session in brief, then every audit entry about it in order — from the
//! request (or the connection code's issue) to its end — saying who acted,
//! what happened in words, and why.

use crate::components::page_header::PageHeader;
use crate::session::Session;
use crate::session_text::{action_words, actor_label, connection, detail_lines, duration, ended_by, outcome};
use crate::time::local_date_time;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use tether_shared::api::{AuditEntryView, SessionSummary, SessionTimeline};

/// Loads the timeline of the session in the address.
#[component]
pub fn SessionTimelinePage() -> impl IntoView {
    let session = Session::use_context();
    let id = use_params_map().with_untracked(|params| params.get("id")).unwrap_or_default();
    let timeline = LocalResource::new(move || {
        let id = id.clone();
        async move {
            session
                .call(|api| {
                    let id = id.clone();
                    async move { api.session_timeline(&id).await }
                })
                .await
        }
    });
    let body = move || match timeline.get() {
        None => view! { <div class="loading" data-testid="timeline-loading">"Loading the timeline…"</div> }.into_any(),
        Some(Err(failure)) => view! {
            <div class="alert alert-error" role="alert" data-testid="timeline-error">{failure.message()}</div>
        }
        .into_any(),
        Some(Ok(loaded)) => view! { <Timeline loaded=loaded /> }.into_any(),
    };
    view! {
        <PageHeader title="Session timeline" subtitle="Every recorded step of one session, oldest first.">
            <A href="/audit" attr:class="button button-secondary" attr:data-testid="timeline-back">"Audit log"</A>
        </PageHeader>
        {body}
    }
}

/// The session's summary and its entries.
#[component]
fn Timeline(loaded: SessionTimeline) -> impl IntoView {
    let SessionTimeline { session, entries, truncated } = loaded;
    let steps = entries.into_iter().map(|entry| view! { <TimelineEntry entry=entry /> }).collect_view();
    view! {
        <SessionFacts session=session />
        <section class="card">
            <h2 class="card-title">"What happened"</h2>
            {truncated.then(|| view! {
                <p class="muted" data-testid="timeline-truncated">"Only the oldest entries are shown; search the audit log for the rest."</p>
            })}
            <ol class="timeline" data-testid="timeline">{steps}</ol>
        </section>
    }
}

/// Who, which computer, when and how it ended.
#[component]
fn SessionFacts(session: SessionSummary) -> impl IntoView {
    let end = session.ended_at.map(|ended_at| {
        let by = ended_by(&session).map(|by| format!(" By {by}."));
        view! {
            <dt>"Ended"</dt>
            <dd data-testid="timeline-ended">
                {format!("{} ({} later). ", local_date_time(ended_at), duration(session.created_at, ended_at))}
                {outcome(&session)}
                {by}
            </dd>
        }
    });
    view! {
        <section class="card" data-testid="timeline-session" data-state=session.state.clone()>
            <dl class="facts">
                <dt>"Computer"</dt>
                <dd data-testid="timeline-computer">
                    {session.computer.clone()}
                    {session.person.clone().map(|person| format!(" (user {person})"))}
                </dd>
                <dt>"Technician"</dt>
                <dd data-testid="timeline-technician">{session.technician.clone()}</dd>
                {session.mode.map(|mode| view! {
                    <dt>"Mode"</dt>
                    <dd data-testid="timeline-mode" data-mode=mode.key()>{mode.name()} " (accepted by the person at the computer)"</dd>
                })}
                <dt>"Connection"</dt>
                <dd>{connection(&session)}</dd>
                <dt>"Started"</dt>
                <dd>{local_date_time(session.created_at)}</dd>
                {end}
            </dl>
        </section>
    }
}

/// One entry: time, who, what in words (and the action's name), details;
/// a chat line reads as a line of the conversation.
#[component]
fn TimelineEntry(entry: AuditEntryView) -> impl IntoView {
    if entry.action == "session.chat" {
        return view! { <ChatEntry entry=entry /> }.into_any();
    }
    let details = detail_lines(&entry)
        .into_iter()
        .map(|line| view! { <li data-testid="timeline-detail">{line}</li> })
        .collect_view();
    let about = entry.target_name.clone().map(|name| view! { <span class="muted">{format!(" — {name}")}</span> });
    view! {
        <li class="timeline-entry" data-testid="timeline-entry" data-action=entry.action.clone() data-seq=entry.seq.to_string()>
            <time class="muted nowrap">{local_date_time(entry.at)}</time>
            <div>
                <strong data-testid="timeline-actor" title=entry.actor.clone()>{actor_label(&entry)}</strong>
                ": "
                <span data-testid="timeline-words">{action_words(&entry.action)}</span>
                {about}
                " "
                <span class="badge badge-muted mono">{entry.action.clone()}</span>
                <ul class="timeline-details">{details}</ul>
            </div>
        </li>
    }
    .into_any()
}

/// A chat line in the timeline: who said what, as they wrote it.
#[component]
fn ChatEntry(entry: AuditEntryView) -> impl IntoView {
    let from = entry.details.get("from").and_then(|from| from.as_str()).unwrap_or_default().to_owned();
    let text = entry.details.get("text").and_then(|text| text.as_str()).unwrap_or_default().to_owned();
    view! {
        <li class="timeline-entry timeline-chat" data-testid="timeline-entry" data-action=entry.action.clone()
            data-seq=entry.seq.to_string() data-from=from>
            <time class="muted nowrap">{local_date_time(entry.at)}</time>
            <div>
                <strong data-testid="timeline-actor" title=entry.actor.clone()>{actor_label(&entry)}</strong>
                ": "
                <q class="chat-text" data-testid="timeline-chat-text">{text}</q>
            </div>
        </li>
    }
}
