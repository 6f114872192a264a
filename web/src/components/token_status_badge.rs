//! A badge for an enrollment token's state: active, expired, used up or revoked.

use crate::enrollment::TokenStatus;
use leptos::prelude::*;

/// The token's state as a badge.
#[component]
pub fn TokenStatusBadge(
    /// The state to show.
    status: TokenStatus,
) -> impl IntoView {
    let class = match status {
        TokenStatus::Active => "badge badge-success",
        TokenStatus::Expired | TokenStatus::UsedUp => "badge badge-muted",
        TokenStatus::Revoked => "badge badge-danger",
    };
    view! {
        <span class=class data-testid="token-status" data-status=status.as_str()>
            {status.label()}
        </span>
    }
}
