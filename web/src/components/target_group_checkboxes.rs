//! Checkboxes for choosing target groups (by id): which groups a computer
//! is in, or which ones an enrollment token's computers join.

use leptos::prelude::*;
use tether_shared::groups::GroupView;

/// One checkbox per group (`{testid}-{name}`), checked while `selected`
/// holds its id.
#[component]
pub fn TargetGroupCheckboxes(
    groups: Vec<GroupView>,
    selected: RwSignal<Vec<String>>,
    testid: &'static str,
) -> impl IntoView {
    if groups.is_empty() {
        return view! { <p class="field-hint">"No target groups yet; create them under Groups."</p> }.into_any();
    }
    let boxes = groups
        .into_iter()
        .map(|group| {
            let (id, checked_id) = (group.id.clone(), group.id.clone());
            view! {
                <label class="checkbox-inline">
                    <input
                        type="checkbox"
                        data-testid=format!("{testid}-{}", group.name)
                        prop:checked=move || selected.with(|ids| ids.contains(&checked_id))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            selected.update(|ids| {
                                ids.retain(|other| *other != id);
                                if on {
                                    ids.push(id.clone());
                                }
                            });
                        }
                    />
                    {group.name}
                </label>
            }
        })
        .collect_view();
    view! { <div class="checkbox-row">{boxes}</div> }.into_any()
}
