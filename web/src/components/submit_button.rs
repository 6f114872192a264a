//! A form's submit button that is disabled and says so while the form is
//! being sent.

use leptos::prelude::*;

/// `<button type="submit">` showing `label`, or `busy_label` (and disabled)
/// while `pending`.
#[component]
pub fn SubmitButton(
    /// The stable test id of the button.
    #[prop(into)]
    testid: String,
    /// Whether the form is being sent.
    #[prop(into)]
    pending: Signal<bool>,
    /// The label when idle.
    label: &'static str,
    /// The label while sending.
    busy_label: &'static str,
    /// The button's classes.
    #[prop(default = "button button-primary")]
    class: &'static str,
) -> impl IntoView {
    view! {
        <button type="submit" class=class data-testid=testid disabled=move || pending.get()>
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}
