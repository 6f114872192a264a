//! The message over the remote screen while there is no picture to show:
//! connecting, waiting for the user at the target to accept, reconnecting,
//! waiting for the first frame, ended or failed.

use crate::controller::machine::Status;
use crate::text::sentence;
use leptos::prelude::*;

/// Nothing once the picture flows; otherwise what is going on, with "Try
/// again" after a failure and "Back to targets" once it is over.
#[component]
pub fn ScreenMessage(
    /// Where the session stands.
    #[prop(into)]
    status: Signal<Status>,
    /// Whether a frame has been shown.
    #[prop(into)]
    has_picture: Signal<bool>,
    /// Starts over after a failure.
    on_retry: Callback<()>,
    /// Leaves for the Targets page.
    on_back: Callback<()>,
) -> impl IntoView {
    let waiting = |kind: &'static str, text: String| {
        view! {
            <div class="screen-message" data-testid="screen-message" data-kind=kind>
                <span class="spinner" aria-hidden="true"></span>
                <p>{text}</p>
            </div>
        }
        .into_any()
    };
    let back = move || {
        view! {
            <button type="button" class="button button-primary" data-testid="back-to-targets" on:click=move |_| on_back.run(())>
                "Back to targets"
            </button>
        }
    };
    move || match status.get() {
        Status::Connecting => Some(waiting("connecting", "Connecting to the remote computer…".into())),
        status @ Status::AwaitingUser { .. } => Some(waiting("awaiting_user", status.label())),
        Status::Reconnecting { .. } => Some(waiting("reconnecting", "The connection was lost. Reconnecting…".into())),
        Status::Connected if !has_picture.get() => Some(waiting("waiting", "Waiting for the first picture…".into())),
        Status::Connected => None,
        Status::Ended { reason } => Some(
            view! {
                <div class="screen-message" data-testid="screen-message" data-kind="ended">
                    <h2>"The session has ended"</h2>
                    <p data-testid="ended-reason">{sentence(&reason)}</p>
                    {back()}
                </div>
            }
            .into_any(),
        ),
        Status::Failed { message } => Some(
            view! {
                <div class="screen-message" data-testid="screen-message" data-kind="failed">
                    <h2>"Could not connect"</h2>
                    <p>{sentence(&message)}</p>
                    <div class="screen-message-actions">
                        <button
                            type="button"
                            class="button button-secondary"
                            data-testid="retry"
                            on:click=move |_| on_retry.run(())
                        >
                            "Try again"
                        </button>
                        {back()}
                    </div>
                </div>
            }
            .into_any(),
        ),
    }
}
