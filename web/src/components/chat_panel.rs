//! A session's chat, for the technician's page and the person's agent
//! page alike: the lines in order with who and when, a box to type in
//! (Enter sends, Shift+Enter breaks the line), and, while folded away, how
//! many lines came from the other side since it was last open.

use crate::time::local_time;
use leptos::prelude::*;
use tether_shared::chat::{ChatLine, MAX_CHAT_CHARS, Speaker, check_text};

/// The chat panel. `me` is the side this page types for.
#[component]
pub fn ChatPanel(
    /// The session's chat so far, oldest first.
    #[prop(into)]
    lines: Signal<Vec<ChatLine>>,
    /// Who types here.
    me: Speaker,
    /// Whether a line can be sent now.
    #[prop(into)]
    enabled: Signal<bool>,
    /// Sends a checked line.
    on_send: Callback<String>,
) -> impl IntoView {
    let open = RwSignal::new(true);
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    // Lines from the other side seen while the panel was open.
    let seen = RwSignal::new(0usize);
    let theirs = move || lines.with(|lines| lines.iter().filter(|line| line.from != me).count());
    Effect::new(move |_| {
        if open.get() {
            seen.set(theirs());
        }
    });
    let unread = move || theirs().saturating_sub(seen.get());
    let send = move || match check_text(&typed.get_untracked()) {
        Ok(text) => {
            on_send.run(text);
            typed.set(String::new());
            problem.set(None);
        }
        Err(bad) => problem.set(Some(bad.to_string())),
    };
    view! {
        <section class="chat-panel" data-testid="chat-panel" data-open=move || open.get().to_string()>
            <button type="button" class="chat-toggle" data-testid="chat-toggle" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|open| *open = !*open)>
                "Chat"
                {move || (unread() > 0).then(|| view! {
                    <span class="badge" data-testid="chat-unread" data-count=unread().to_string()>{unread()} " new"</span>
                })}
            </button>
            <Show when=move || open.get()>
                <ol class="chat-lines" data-testid="chat-lines" aria-live="polite">
                    {move || lines.get().into_iter().map(|line| {
                        let from = match line.from { Speaker::Technician => "technician", Speaker::Person => "person" };
                        view! {
                            <li class="chat-line" class:chat-mine=line.from == me data-testid="chat-line" data-from=from>
                                <span class="chat-meta small muted">
                                    <span data-testid="chat-name">{line.name.clone()}</span> " · " {local_time(line.at)}
                                </span>
                                <span class="chat-text" data-testid="chat-text">{line.text.clone()}</span>
                            </li>
                        }
                    }).collect_view()}
                </ol>
                <form class="chat-form" on:submit=move |event| { event.prevent_default(); send(); }>
                    <textarea
                        data-testid="chat-input"
                        rows="2"
                        maxlength=MAX_CHAT_CHARS.to_string()
                        placeholder="Type a message; Enter sends"
                        prop:value=move || typed.get()
                        disabled=move || !enabled.get()
                        on:input=move |event| typed.set(event_target_value(&event))
                        on:keydown=move |event| {
                            if event.key() == "Enter" && !event.shift_key() {
                                event.prevent_default();
                                send();
                            }
                        }
                    ></textarea>
                    <button type="submit" class="button button-secondary" data-testid="chat-send" disabled=move || !enabled.get()>
                        "Send"
                    </button>
                </form>
                {move || problem.get().map(|problem| view! { <p class="small error" data-testid="chat-error">{problem}</p> })}
            </Show>
        </section>
    }
}
