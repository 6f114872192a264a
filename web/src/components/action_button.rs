//! A button that runs one action, such as "Refresh" or a table row's
//! "Remove".

use leptos::prelude::*;

/// `<button type="button">` calling `on_click`.
#[component]
pub fn ActionButton(
    /// The stable test id of the button.
    testid: &'static str,
    /// The button's text.
    label: &'static str,
    /// The button's classes.
    #[prop(default = "button button-secondary")]
    class: &'static str,
    /// What a click does.
    #[prop(into)]
    on_click: Callback<()>,
) -> impl IntoView {
    view! {
        <button type="button" class=class data-testid=testid on:click=move |_| on_click.run(())>
            {label}
        </button>
    }
}
