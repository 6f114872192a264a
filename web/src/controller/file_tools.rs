//! Drives the files tool in the browser: what the technician asks (browse,
//! send a file, take one, cancel, resume) goes out on the `files` channel;
//! what the agent answers moves the [`super::transfers`] model, and two
//! tasks move the bytes — a pump reading the picked file a chunk at a time
//! within the flow window, and a writer saving a download piece by piece to
//! the private file system, checking its SHA-256 and handing it to the
//! browser as a download.

use super::file_io::{self, Saving};
use super::tools::ToolStatus;
use super::transfers::{Folder, Transfer, TransferState, new_id};
use futures::StreamExt;
use futures::channel::mpsc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use sha2::Digest;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tether_shared::files::flow::{Receiving, Sending};
use tether_shared::files::wire::{
    AgentToController, CHUNK_BYTES, ControllerToAgent, decode_chunk, decode_from_agent, encode_chunk, hex,
};
use tether_shared::signal::FileDirection;
use tether_shared::tool_message::encode;

/// What goes out on the `files` channel.
pub enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
}

/// What the page shows of the files tool.
#[derive(Debug, Clone, Copy)]
pub struct FilesView {
    /// The folder last listed.
    pub folder: RwSignal<Option<Folder>>,
    /// The latest listing request.
    pub browse: RwSignal<ToolStatus>,
    /// Every transfer of the session, newest last.
    pub transfers: RwSignal<Vec<Transfer>>,
}

impl FilesView {
    pub fn new() -> Self {
        Self {
            folder: RwSignal::new(None),
            browse: RwSignal::new(ToolStatus::Idle),
            transfers: RwSignal::new(Vec::new()),
        }
    }
}

impl Default for FilesView {
    fn default() -> Self {
        Self::new()
    }
}

/// What a download's writer is fed.
enum ToWriter {
    Chunk(Vec<u8>),
    Done(String),
}

/// The files tool of one controller page.
pub struct FileTools {
    view: FilesView,
    send: Rc<dyn Fn(Outgoing)>,
    /// Picked files, by upload id (kept to resume).
    picked: RefCell<HashMap<String, web_sys::File>>,
    /// The running upload's confirmations.
    pump: RefCell<Option<(String, mpsc::UnboundedSender<u64>)>>,
    /// The running download's writer.
    writer: RefCell<Option<(String, mpsc::UnboundedSender<ToWriter>)>>,
}

/// How much of a picked file is read at a time.
const READ_BLOCK: u64 = 1024 * 1024;

fn now() -> i64 {
    // Milliseconds since the epoch fit an i64.
    #[allow(clippy::cast_possible_truncation)]
    let now = js_sys::Date::now() as i64;
    now
}

fn random_id() -> String {
    let mut bytes = [0u8; 8];
    if let Some(crypto) = web_sys::window().and_then(|window| window.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    new_id(bytes)
}

impl FileTools {
    /// The tool, sending through `send`.
    pub fn new(view: FilesView, send: Rc<dyn Fn(Outgoing)>) -> Rc<Self> {
        Rc::new(Self { view, send, picked: RefCell::default(), pump: RefCell::default(), writer: RefCell::default() })
    }

    fn say(&self, message: &ControllerToAgent) {
        (self.send)(Outgoing::Text(encode(message)));
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Transfer)) {
        self.view.transfers.update(|transfers| {
            if let Some(transfer) = transfers.iter_mut().find(|transfer| transfer.id == id) {
                change(transfer);
            }
        });
    }

    fn transfer(&self, id: &str) -> Option<Transfer> {
        self.view.transfers.with_untracked(|transfers| transfers.iter().find(|transfer| transfer.id == id).cloned())
    }

    /// Lists the folder at `path`.
    pub fn browse(&self, path: Vec<String>) {
        self.view.browse.set(ToolStatus::Waiting);
        self.say(&ControllerToAgent::List { path });
    }

    /// Sends a file the technician picked.
    pub fn upload(&self, file: web_sys::File) {
        let id = random_id();
        let size = file_io::size_of(&file);
        let transfer = Transfer::new(id.clone(), FileDirection::ToComputer, file.name(), Vec::new(), size);
        self.view.transfers.update(|transfers| transfers.push(transfer));
        self.say(&ControllerToAgent::Offer { id: id.clone(), name: file.name(), size });
        self.picked.borrow_mut().insert(id, file);
    }

    /// Takes the file at `path` from the computer.
    pub fn download(&self, path: Vec<String>, size: u64) {
        let id = random_id();
        let name = path.last().cloned().unwrap_or_default();
        let transfer = Transfer::new(id.clone(), FileDirection::FromComputer, name, path.clone(), size);
        self.view.transfers.update(|transfers| transfers.push(transfer));
        self.say(&ControllerToAgent::Fetch { id, path, offset: 0 });
    }

    /// Stops transfer `id`.
    pub fn cancel(self: &Rc<Self>, id: &str) {
        self.say(&ControllerToAgent::Cancel { id: id.to_owned() });
        self.stop_jobs(id);
        self.update(id, |transfer| transfer.state = TransferState::Cancelled);
        self.picked.borrow_mut().remove(id);
        let id = id.to_owned();
        spawn_local(async move { file_io::forget(&id).await });
    }

    /// Goes on with an interrupted transfer from where it stopped.
    pub fn resume(self: &Rc<Self>, id: &str) {
        let Some(transfer) = self.transfer(id) else { return };
        self.update(id, |transfer| transfer.state = TransferState::Asking);
        match transfer.direction {
            FileDirection::ToComputer => {
                let Some(file) = self.picked.borrow().get(id).cloned() else { return };
                self.say(&ControllerToAgent::Offer { id: id.to_owned(), name: file.name(), size: transfer.size });
            }
            FileDirection::FromComputer => {
                let this = Rc::clone(self);
                let id = id.to_owned();
                spawn_local(async move {
                    let offset = file_io::held(&id).await.min(transfer.size);
                    this.say(&ControllerToAgent::Fetch { id, path: transfer.path, offset });
                });
            }
        }
    }

    /// Resumes every interrupted transfer (the connection is back).
    pub fn resume_interrupted(self: &Rc<Self>) {
        let interrupted: Vec<String> = self.view.transfers.with_untracked(|transfers| {
            transfers.iter().filter(|t| t.state == TransferState::Interrupted).map(|t| t.id.clone()).collect()
        });
        for id in interrupted {
            self.resume(&id);
        }
    }

    fn stop_jobs(&self, id: &str) {
        self.pump.borrow_mut().take_if(|(running, _)| running == id);
        self.writer.borrow_mut().take_if(|(running, _)| running == id);
    }

    /// The channel closed: what was moving can resume later.
    pub fn on_closed(&self) {
        self.pump.borrow_mut().take();
        self.writer.borrow_mut().take();
        self.view.transfers.update(|transfers| {
            for transfer in transfers.iter_mut().filter(|transfer| !transfer.state.is_final()) {
                transfer.state = TransferState::Interrupted;
            }
        });
        if self.view.browse.get_untracked() == ToolStatus::Waiting {
            self.view.browse.set(ToolStatus::Failed(
                "The computer closed the files tool: the session's mode does not include file transfer, or the connection dropped.".into(),
            ));
        }
    }

    /// A binary message: the next chunk of the running download.
    pub fn on_binary(&self, bytes: Vec<u8>) {
        if let Some((_, writer)) = self.writer.borrow().as_ref() {
            let _ = writer.unbounded_send(ToWriter::Chunk(bytes));
        }
    }

    /// A text message from the agent.
    pub fn on_text(self: &Rc<Self>, bytes: &[u8]) {
        let message = match decode_from_agent(bytes) {
            Ok(message) => message,
            Err(bad) => {
                web_sys::console::warn_1(&format!("dropping a files message: {bad}").into());
                return;
            }
        };
        match message {
            AgentToController::Listing { path, entries, more } => {
                self.view.folder.set(Some(Folder { path, entries, more }));
                self.view.browse.set(ToolStatus::Idle);
            }
            AgentToController::Failed { id: None, reason } => self.view.browse.set(ToolStatus::Failed(reason)),
            AgentToController::Failed { id: Some(id), reason } => {
                self.stop_jobs(&id);
                self.update(&id, |transfer| transfer.state = TransferState::Failed(reason));
            }
            AgentToController::Accepted { id, name, folder, offset } => self.accepted(id, name, folder, offset),
            AgentToController::Progress { id, bytes } => {
                self.update(&id, |transfer| transfer.moved_to(bytes, now()));
                if let Some((running, pump)) = self.pump.borrow().as_ref()
                    && *running == id
                {
                    let _ = pump.unbounded_send(bytes);
                }
            }
            AgentToController::Saved { id, name, sha256 } => {
                self.picked.borrow_mut().remove(&id);
                let short = &sha256[..12];
                self.update(&id, |transfer| {
                    transfer.moved = transfer.size;
                    transfer.state =
                        TransferState::Done(format!("Saved on the computer as {name}; SHA-256 {short}… checked."));
                });
            }
            AgentToController::Sending { id, name, size, offset } => self.sending(id, name, size, offset),
            AgentToController::Done { id, sha256 } => {
                if let Some((running, writer)) = self.writer.borrow().as_ref()
                    && *running == id
                {
                    let _ = writer.unbounded_send(ToWriter::Done(sha256));
                }
            }
            AgentToController::Cancelled { id } => {
                self.stop_jobs(&id);
                self.update(&id, |transfer| {
                    if !transfer.state.is_final() {
                        transfer.state = TransferState::Cancelled;
                    }
                });
            }
        }
    }

    fn accepted(self: &Rc<Self>, id: String, name: String, folder: String, offset: u64) {
        let Some(file) = self.picked.borrow().get(&id).cloned() else { return };
        self.update(&id, |transfer| {
            transfer.name = name;
            transfer.path = vec![folder];
            transfer.started(offset, now());
        });
        let (confirmations, confirmed) = mpsc::unbounded();
        self.pump.replace(Some((id.clone(), confirmations)));
        let this = Rc::clone(self);
        spawn_local(async move {
            if let Err(reason) = this.pump_file(&id, &file, offset, confirmed).await {
                this.update(&id, |transfer| transfer.state = TransferState::Failed(reason));
            }
        });
    }

    /// Sends `file` from `offset` within the window, then its hash.
    async fn pump_file(
        &self,
        id: &str,
        file: &web_sys::File,
        offset: u64,
        mut confirmed: mpsc::UnboundedReceiver<u64>,
    ) -> Result<(), String> {
        let size = file_io::size_of(file);
        let mut hasher = file_io::hash_prefix(file, offset).await?;
        let mut flow = Sending::new(size, offset);
        // Read a block at a time (each read is a trip through the browser), sent in chunks.
        let mut block: (u64, Vec<u8>) = (offset, Vec::new());
        while !flow.all_sent() {
            while let Some((at, length)) = flow.next_chunk(CHUNK_BYTES) {
                let end = at + length as u64;
                if at < block.0 || end > block.0 + block.1.len() as u64 {
                    let block_end = (at + READ_BLOCK).min(size).max(end);
                    block = (at, file_io::read_slice(file, at, block_end).await?);
                }
                let start = usize::try_from(at - block.0).unwrap_or(usize::MAX);
                let Some(data) = block.1.get(start..start + length) else {
                    return Err("the file changed while it was being sent".into());
                };
                hasher.update(data);
                if !self.still_pumping(id) {
                    return Ok(());
                }
                (self.send)(Outgoing::Binary(encode_chunk(at, data)));
            }
            if flow.all_sent() {
                break;
            }
            // The window is full: wait for the computer to confirm.
            let Some(bytes) = confirmed.next().await else { return Ok(()) };
            flow.on_confirmed(bytes).map_err(|broken| broken.to_string())?;
        }
        self.update(id, |transfer| transfer.state = TransferState::Checking);
        self.say(&ControllerToAgent::Sent { id: id.to_owned(), sha256: hex(&hasher.finalize()) });
        Ok(())
    }

    fn still_pumping(&self, id: &str) -> bool {
        self.pump.borrow().as_ref().is_some_and(|(running, _)| running == id)
    }

    fn sending(self: &Rc<Self>, id: String, name: String, size: u64, offset: u64) {
        self.update(&id, |transfer| {
            transfer.name.clone_from(&name);
            transfer.size = size;
            transfer.started(offset, now());
        });
        let (chunks, input) = mpsc::unbounded();
        self.writer.replace(Some((id.clone(), chunks)));
        let this = Rc::clone(self);
        spawn_local(async move {
            if let Err(reason) = this.write_download(&id, &name, size, offset, input).await {
                this.update(&id, |transfer| transfer.state = TransferState::Failed(reason));
                this.say(&ControllerToAgent::Cancel { id: id.clone() });
                file_io::forget(&id).await;
            }
        });
    }

    /// Writes download `id` as its chunks come, confirming as it goes;
    /// checks it and hands it to the browser.
    async fn write_download(
        &self,
        id: &str,
        name: &str,
        size: u64,
        offset: u64,
        mut input: mpsc::UnboundedReceiver<ToWriter>,
    ) -> Result<(), String> {
        let saving = Saving::open(id, offset).await?;
        let mut flow = Receiving::new(size, offset);
        let mut expected = None;
        // Chunks are written a confirmation's worth at a time (each write is a
        // trip through the browser); what is confirmed is always written.
        let mut pending = Vec::new();
        while !(flow.is_complete() && expected.is_some()) {
            match input.next().await {
                Some(ToWriter::Chunk(bytes)) => {
                    let (at, data) = decode_chunk(&bytes).map_err(|bad| bad.to_string())?;
                    let confirm = flow.on_chunk(at, data.len()).map_err(|broken| broken.to_string())?;
                    pending.extend_from_slice(data);
                    if let Some(bytes) = confirm {
                        saving.write(&pending).await?;
                        pending.clear();
                        self.update(id, |transfer| transfer.moved_to(bytes, now()));
                        self.say(&ControllerToAgent::Progress { id: id.to_owned(), bytes });
                    }
                }
                Some(ToWriter::Done(sha256)) => expected = Some(sha256),
                None => {
                    // Interrupted: keep what was confirmed, to resume (the agent
                    // sends the rest again from there).
                    saving.pause().await;
                    return Ok(());
                }
            }
        }
        self.writer.borrow_mut().take_if(|(running, _)| running == id);
        self.update(id, |transfer| transfer.state = TransferState::Checking);
        let file = saving.finish().await?;
        let actual = hex(&file_io::hash_prefix(&file, size).await?.finalize());
        if Some(&actual) != expected.as_ref() {
            return Err(format!("The file arrived damaged (SHA-256 {actual}); nothing was saved."));
        }
        file_io::save_as(&file, name)?;
        // The browser copies it to its downloads at once; the private copy goes later.
        let kept = id.to_owned();
        set_timeout(
            move || spawn_local(async move { file_io::forget(&kept).await }),
            std::time::Duration::from_secs(600),
        );
        let short = &actual[..12];
        self.update(id, |transfer| {
            transfer.state = TransferState::Done(format!("Downloaded as {name}; SHA-256 {short}… checked."));
        });
        Ok(())
    }
}
