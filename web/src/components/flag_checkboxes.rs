//! A fieldset of checkboxes over a [`FlagSet`]: session modes or kinds of
//! access, each box adding its value to the set or taking it out.

use leptos::prelude::*;
use tether_shared::flag_set::{Flag, FlagSet};

/// One checkbox per `(value, label, testid)`, checked while `set` holds it.
#[component]
pub fn FlagCheckboxes<T>(
    /// The fieldset's legend.
    legend: &'static str,
    /// What the choice means.
    hint: &'static str,
    /// The choices, in order.
    choices: Vec<(T, &'static str, String)>,
    /// The set the boxes edit.
    set: RwSignal<FlagSet<T>>,
) -> impl IntoView
where
    T: Flag + Copy + Send + Sync + 'static,
{
    let boxes = choices
        .into_iter()
        .map(|(value, label, testid)| {
            view! {
                <label class="checkbox-inline">
                    <input
                        type="checkbox"
                        data-testid=testid
                        prop:checked=move || set.with(|set| set.contains(value))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            set.update(|set| {
                                if on {
                                    set.insert(value);
                                } else {
                                    set.remove(value);
                                }
                            });
                        }
                    />
                    {label}
                </label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="field checkbox-group">
            <legend>{legend}</legend>
            <div class="checkbox-row">{boxes}</div>
            <p class="field-hint">{hint}</p>
        </fieldset>
    }
}
