//! The auditor's view of the audit log: chain verification, filters and
//! paging from newest to oldest.

use crate::components::audit_filters::AuditFilters;
use crate::components::audit_table::AuditTable;
use crate::components::chain_status_panel::ChainStatusPanel;
use crate::components::empty_state::EmptyState;
use crate::components::page_header::PageHeader;
use crate::session::Session;
use leptos::prelude::*;
use tether_shared::api::AuditQuery;

/// Entries per page.
const PAGE_SIZE: u32 = 50;

/// Chain status, filters, one page of entries and Newer/Older paging.
#[component]
pub fn AuditPage() -> impl IntoView {
    let session = Session::use_context();
    let filters = RwSignal::new(AuditQuery::default());
    // `before_seq` of the page shown (`None` = newest), and of the pages
    // before it, so "Newer" can step back.
    let cursor = RwSignal::new(None::<i64>);
    let previous = RwSignal::new(Vec::<Option<i64>>::new());

    let page = LocalResource::new(move || {
        let query = AuditQuery { before_seq: cursor.get(), limit: Some(PAGE_SIZE), ..filters.get() };
        async move {
            session
                .call(|api| {
                    let query = query.clone();
                    async move { api.audit(&query).await }
                })
                .await
        }
    });

    let apply = Callback::new(move |query: AuditQuery| {
        previous.set(Vec::new());
        cursor.set(None);
        filters.set(query);
    });
    let older = move |next: i64| {
        previous.update(|stack| stack.push(cursor.get_untracked()));
        cursor.set(Some(next));
    };
    let newer = move |_| {
        let back = previous.try_update(Vec::pop).flatten().flatten();
        cursor.set(back);
    };
    let refresh = move |_| {
        previous.set(Vec::new());
        if cursor.get_untracked().is_some() {
            cursor.set(None);
        } else {
            page.refetch();
        }
    };

    let filtered = move || filters.with(|f| *f != AuditQuery::default());
    let body = move || match page.get() {
        None => view! { <div class="loading" data-testid="audit-loading">"Loading entries…"</div> }.into_any(),
        Some(Err(failure)) => view! {
            <div class="alert alert-error" role="alert" data-testid="audit-error">
                {failure.message()}
            </div>
        }
        .into_any(),
        Some(Ok(result)) if result.entries.is_empty() => view! {
            <EmptyState title="No matching entries" testid="audit-empty">
                <p>
                    {if filtered() {
                        "No entry matches these filters. Clear them to see everything."
                    } else {
                        "Nothing has been recorded yet."
                    }}
                </p>
            </EmptyState>
        }
        .into_any(),
        Some(Ok(result)) => {
            let count = result.entries.len();
            let range = match (result.entries.first(), result.entries.last()) {
                (Some(newest), Some(oldest)) => format!("entries {} to {}", oldest.seq, newest.seq),
                _ => String::new(),
            };
            let next = result.next_before_seq;
            view! {
                <AuditTable entries=result.entries />
                <footer class="pager">
                    <span class="muted" data-testid="audit-range">
                        {format!("{count} shown, {range}")}
                    </span>
                    <div class="pager-buttons">
                        <button
                            type="button"
                            class="button button-secondary"
                            data-testid="audit-newer"
                            disabled=move || previous.with(Vec::is_empty)
                            on:click=newer
                        >
                            "← Newer"
                        </button>
                        <button
                            type="button"
                            class="button button-secondary"
                            data-testid="audit-older"
                            disabled=next.is_none()
                            on:click=move |_| {
                                if let Some(next) = next {
                                    older(next);
                                }
                            }
                        >
                            "Older →"
                        </button>
                    </div>
                </footer>
            }
            .into_any()
        }
    };

    view! {
        <PageHeader title="Audit log" subtitle="Every security-relevant action, hash-chained against tampering.">
            <button type="button" class="button button-secondary" data-testid="audit-refresh" on:click=refresh>
                "Refresh"
            </button>
        </PageHeader>
        <ChainStatusPanel />
        <section class="card">
            <AuditFilters on_apply=apply />
        </section>
        <section class="card card-flush">{body}</section>
    }
}
