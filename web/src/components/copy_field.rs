//! A read-only value with a "Copy" button: secrets and commands to hand on.

use crate::clipboard::copy_text;
use leptos::html::Input;
use leptos::prelude::*;

/// What the last click on "Copy" achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Copied {
    Not,
    Yes,
    /// The browser refused; the text is selected for Ctrl+C instead.
    Refused,
}

/// A labelled read-only input showing `value` in monospace, selected in full
/// on focus, and a button that copies it. `testid` names the input; the
/// button gets `-copy` appended.
#[component]
pub fn CopyField(
    /// The visible label.
    label: &'static str,
    /// The text to show and copy.
    value: String,
    /// The stable test id of the input.
    testid: &'static str,
    /// Help text under the input.
    #[prop(optional)]
    hint: Option<&'static str>,
) -> impl IntoView {
    let id = format!("field-{testid}");
    let copy_testid = format!("{testid}-copy");
    let input = NodeRef::<Input>::new();
    let copied = RwSignal::new(Copied::Not);
    let text = value.clone();
    let copy = move |_| {
        copy_text(&text, move |ok| {
            if ok {
                copied.set(Copied::Yes);
            } else {
                copied.set(Copied::Refused);
                if let Some(input) = input.get_untracked() {
                    input.select();
                }
            }
        });
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <div class="input-with-button">
                <input
                    id=id
                    node_ref=input
                    type="text"
                    class="mono"
                    readonly
                    spellcheck="false"
                    data-testid=testid
                    prop:value=value
                    on:focus=move |_| {
                        if let Some(input) = input.get_untracked() {
                            input.select();
                        }
                    }
                />
                <button type="button" class="button button-secondary" data-testid=copy_testid on:click=copy>
                    {move || match copied.get() {
                        Copied::Yes => "Copied ✓",
                        Copied::Not | Copied::Refused => "Copy",
                    }}
                </button>
            </div>
            {move || match copied.get() {
                Copied::Refused => {
                    Some(view! { <p class="field-hint">"The browser did not allow copying: press Ctrl+C."</p> })
                }
                _ => hint.map(|hint| view! { <p class="field-hint">{hint}</p> }),
            }}
        </div>
    }
}
