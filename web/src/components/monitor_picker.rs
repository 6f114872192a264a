//! Which of the computer's monitors the technician sees: all of them in one
//! picture, or one; shown only when the computer has more than one. The
//! button of what the agent shows is lit, the one asked for pulses until
//! the agent shows it.

use crate::controller::control::MonitorsView;
use leptos::prelude::*;
use tether_shared::monitor::{Monitor, View};

/// The monitor buttons, for the controller page's header.
#[component]
pub fn MonitorPicker(
    /// What the agent said about its monitors.
    #[prop(into)]
    monitors: Signal<Option<MonitorsView>>,
    /// Whether the session is still live.
    #[prop(into)]
    live: Signal<bool>,
    /// Asks for a view.
    on_show: Callback<View>,
) -> impl IntoView {
    let asked = RwSignal::new(None::<View>);
    let showing = move || monitors.with(|monitors| monitors.as_ref().map(|monitors| monitors.showing.clone()));
    // Whatever the agent says next answers what was asked (it may show
    // something else: a monitor unplugged meanwhile).
    Effect::new(move |_| {
        monitors.track();
        asked.set(None);
    });
    let button = move |view: View, label: String, title: String, testid: String| {
        let (lit, pending, pressed) = (view.clone(), view.clone(), view.clone());
        view! {
            <button
                type="button"
                class="segment"
                class:segment-active=move || showing().as_ref() == Some(&lit)
                class:segment-pending=move || asked.get().as_ref() == Some(&pending) && showing().as_ref() != Some(&pending)
                aria-pressed=move || (showing().as_ref() == Some(&pressed)).to_string()
                data-testid=testid
                title=title
                disabled=move || !live.get()
                on:click=move |_| {
                    asked.set(Some(view.clone()));
                    on_show.run(view.clone());
                }
            >
                {label}
            </button>
        }
    };
    let list = move || -> Vec<Monitor> {
        monitors.with(|monitors| monitors.as_ref().map(|monitors| monitors.monitors.clone()).unwrap_or_default())
    };
    let buttons = move || {
        let all = button(View::All, "All".into(), "Every monitor in one picture".into(), "monitor-all".into());
        let each = list().into_iter().enumerate().map(|(index, monitor)| {
            let primary = if monitor.primary { " · primary" } else { "" };
            let title = format!("{} · {}×{}{primary}", monitor.name, monitor.width, monitor.height);
            let testid = format!("monitor-{}", monitor.name);
            button(View::Monitor(monitor.name), (index + 1).to_string(), title, testid)
        });
        view! { {all} {each.collect_view()} }
    };
    let several = move || list().len() > 1;
    let showing_key = move || match showing() {
        Some(View::Monitor(name)) => name,
        Some(View::All) => "all".to_owned(),
        None => String::new(),
    };
    view! {
        <Show when=several>
            <div class="segmented" role="group" aria-label="Monitors" data-testid="monitors" data-showing=showing_key>
                {buttons}
            </div>
        </Show>
    }
}
