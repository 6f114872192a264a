//! The administrator's table of enrollment tokens, newest first, with their
//! state and a Revoke button for those still usable.

use crate::components::token_status_badge::TokenStatusBadge;
use crate::enrollment::TokenStatus;
use crate::time::{local_date_time, relative};
use leptos::prelude::*;
use tether_shared::agent::EnrollmentTokenView;

/// One row per token: label, creator, created, expires, uses, status, actions.
#[component]
pub fn EnrollmentTokensTable(
    /// The tokens, in display order.
    tokens: Vec<EnrollmentTokenView>,
    /// The time the statuses are judged at, Unix milliseconds.
    now_ms: i64,
    /// Asks to revoke a token.
    #[prop(into)]
    on_revoke: Callback<EnrollmentTokenView>,
) -> impl IntoView {
    let rows = tokens
        .into_iter()
        .map(|token| {
            let status = TokenStatus::of(&token, now_ms);
            let expires = if token.expires_at <= now_ms {
                format!("expired {}", relative(now_ms, token.expires_at))
            } else {
                relative(now_ms, token.expires_at)
            };
            let revoke_token = token.clone();
            view! {
                <tr
                    data-testid="token-row"
                    data-id=token.id.clone()
                    data-label=token.label.clone()
                    data-status=status.as_str()
                    class:row-muted=status != TokenStatus::Active
                >
                    <td data-testid="token-cell-label">{token.label.clone()}</td>
                    <td class="mono" data-testid="token-cell-created-by">{token.created_by.clone()}</td>
                    <td class="nowrap">{local_date_time(token.created_at)}</td>
                    <td class="nowrap" title=local_date_time(token.expires_at) data-testid="token-cell-expires">
                        {expires}
                    </td>
                    <td class="nowrap" data-testid="token-cell-uses">
                        {format!("{} / {}", token.uses, token.max_uses)}
                    </td>
                    <td>
                        <TokenStatusBadge status=status />
                    </td>
                    <td>
                        <div class="row-actions">
                            {(status == TokenStatus::Active)
                                .then(|| {
                                    view! {
                                        <button
                                            type="button"
                                            class="button button-small button-danger-ghost"
                                            data-testid="token-revoke"
                                            on:click=move |_| on_revoke.run(revoke_token.clone())
                                        >
                                            "Revoke"
                                        </button>
                                    }
                                })}
                        </div>
                    </td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <div class="table-wrap">
            <table class="table" data-testid="tokens-table">
                <thead>
                    <tr>
                        <th scope="col">"Label"</th>
                        <th scope="col">"Created by"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Uses"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="align-right">"Actions"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
