//! The files tool beside the remote screen: browse the computer's shared
//! folder and take a file from it (it lands in this browser's downloads),
//! send a file to the computer, and follow every transfer with a progress
//! bar, its rate and time left, and how it ended; cancel or resume one.

use crate::controller::file_tools::{FileTools, FilesView};
use crate::controller::tools::ToolStatus;
use crate::controller::transfers::{Transfer, TransferState, breadcrumbs};
use leptos::prelude::*;
use std::rc::Rc;
use tether_shared::files::human_size;
use tether_shared::files::wire::Entry;
use tether_shared::signal::FileDirection;
use wasm_bindgen::JsCast;

/// The files panel; `tools` is `None` until the controller runs.
#[component]
pub fn FilesPanel(
    view: FilesView,
    /// Whether the session is live.
    #[prop(into)]
    live: Signal<bool>,
    tools: StoredValue<Option<Rc<FileTools>>, LocalStorage>,
) -> impl IntoView {
    let with_tools = move |act: &dyn Fn(&Rc<FileTools>)| tools.with_value(|tools| tools.iter().for_each(act));
    let browse = move |path: Vec<String>| with_tools(&|tools| tools.browse(path.clone()));
    let on_pick = move |event: leptos::ev::Event| {
        let Some(input) = event.target().and_then(|target| target.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
            return;
        };
        if let Some(files) = input.files() {
            for index in 0..files.length() {
                if let Some(file) = files.get(index) {
                    with_tools(&|tools| tools.upload(file.clone()));
                }
            }
        }
        // The same file can be picked again.
        input.set_value("");
    };
    view! {
        <section class="tool-panel" data-testid="files-panel">
            <h3 class="tool-title">"Files"</h3>
            <div class="tool-actions">
                <label class="button button-secondary" class:disabled=move || !live.get()>
                    "Send files…"
                    <input type="file" multiple class="visually-hidden" data-testid="files-upload-input"
                        disabled=move || !live.get() on:change=on_pick />
                </label>
                <button type="button" class="button button-secondary" data-testid="files-browse" disabled=move || !live.get()
                    on:click=move |_| browse(Vec::new())>
                    "Browse their files"
                </button>
            </div>
            <p class="small muted" data-testid="files-browse-status" aria-live="polite">
                {move || match view.browse.get() {
                    ToolStatus::Waiting => "Waiting for the computer (the person may be asked)…".to_owned(),
                    other => other.text().unwrap_or_default().to_owned(),
                }}
            </p>
            {move || view.folder.get().map(|folder| {
                let path = folder.path.clone();
                view! {
                    <nav class="files-crumbs small" data-testid="files-crumbs">
                        {breadcrumbs(&path).into_iter().map(|(name, to)| view! {
                            <button type="button" class="link-button" on:click=move |_| browse(to.clone())>{name}</button>
                            " / "
                        }).collect_view()}
                    </nav>
                    <ul class="files-list" data-testid="files-list">
                        {folder.entries.into_iter().map(|entry| view! {
                            <FileEntry entry=entry folder=path.clone() browse=Callback::new(browse)
                                download=Callback::new(move |(path, size): (Vec<String>, u64)| with_tools(&|tools| tools.download(path.clone(), size))) />
                        }).collect_view()}
                        {(folder.more > 0).then(|| view! { <li class="muted small">{format!("… and {} more", folder.more)}</li> })}
                    </ul>
                }
            })}
            <ul class="transfers" data-testid="transfers">
                {move || view.transfers.get().into_iter().rev().map(|transfer| {
                    let id = transfer.id.clone();
                    view! {
                        <TransferRow transfer=transfer
                            cancel=Callback::new({ let id = id.clone(); move |()| with_tools(&|tools| tools.cancel(&id)) })
                            resume=Callback::new(move |()| with_tools(&|tools| tools.resume(&id))) />
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn FileEntry(
    entry: Entry,
    folder: Vec<String>,
    browse: Callback<Vec<String>>,
    download: Callback<(Vec<String>, u64)>,
) -> impl IntoView {
    let mut path = folder;
    path.push(entry.name.clone());
    let name = entry.name.clone();
    let label = entry.name;
    if entry.folder {
        view! {
            <li class="files-entry" data-testid="files-entry" data-name=name data-folder="true">
                <button type="button" class="link-button" on:click=move |_| browse.run(path.clone())>{format!("📁 {label}")}</button>
            </li>
        }
        .into_any()
    } else {
        let size = entry.size;
        view! {
            <li class="files-entry" data-testid="files-entry" data-name=name data-folder="false">
                <span>{label}</span> " " <span class="muted small">{human_size(size)}</span> " "
                <button type="button" class="link-button" data-testid="files-download" on:click=move |_| download.run((path.clone(), size))>
                    "Download"
                </button>
            </li>
        }
        .into_any()
    }
}

#[component]
fn TransferRow(transfer: Transfer, cancel: Callback<()>, resume: Callback<()>) -> impl IntoView {
    let direction = match transfer.direction {
        FileDirection::ToComputer => "to",
        FileDirection::FromComputer => "from",
    };
    let arrow = if direction == "to" { "↑" } else { "↓" };
    let moving = matches!(transfer.state, TransferState::Asking | TransferState::Moving | TransferState::Checking);
    let interrupted = transfer.state == TransferState::Interrupted;
    view! {
        <li class="transfer" data-testid="transfer" data-direction=direction data-state=transfer.state.key() data-name=transfer.name.clone()>
            <div class="transfer-head">
                <strong>{format!("{arrow} {}", transfer.name)}</strong>
                {moving.then(|| view! {
                    <button type="button" class="link-button" data-testid="transfer-cancel" on:click=move |_| cancel.run(())>"Cancel"</button>
                })}
                {interrupted.then(|| view! {
                    <button type="button" class="link-button" data-testid="transfer-resume" on:click=move |_| resume.run(())>"Resume"</button>
                })}
            </div>
            <progress max="100" value=transfer.percent().to_string() data-testid="transfer-progress"></progress>
            <p class="small muted" data-testid="transfer-text">{transfer.progress_text()}</p>
        </li>
    }
}
