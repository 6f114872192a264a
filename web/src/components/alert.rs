//! A message box for form- or page-level errors and confirmations.

use leptos::prelude::*;

/// How an [`Alert`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// Something failed.
    Error,
    /// Something worked.
    Success,
    /// Something to act on before going on.
    Warning,
    /// Neutral information.
    Info,
}

impl AlertKind {
    fn class(self) -> &'static str {
        match self {
            AlertKind::Error => "alert alert-error",
            AlertKind::Success => "alert alert-success",
            AlertKind::Warning => "alert alert-warning",
            AlertKind::Info => "alert alert-info",
        }
    }
}

/// Shows `message` when it is `Some`; nothing otherwise.
#[component]
pub fn Alert(
    /// The text to show.
    #[prop(into)]
    message: Signal<Option<String>>,
    /// Error, success or info styling.
    kind: AlertKind,
    /// The stable test id.
    #[prop(into)]
    testid: String,
) -> impl IntoView {
    let role = if kind == AlertKind::Error { "alert" } else { "status" };
    move || {
        message.get().map(|text| {
            view! {
                <div class=kind.class() role=role data-testid=testid.clone()>
                    {text}
                </div>
            }
        })
    }
}
