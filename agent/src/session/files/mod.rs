//! The `files` data channel, agent side: the technician browses below the
//! shared root ([`place`]), sends files here ([`incoming`]: each asked
//! about where the policy wants, saved under a name that overwrites
//! nothing, checked by SHA-256, resumable) and takes files from here
//! ([`outgoing`]), every transfer within the policy's size limit, held to
//! the flow window (`tether_shared::files::flow`), and audited as it
//! starts and as it ends.

mod incoming;
mod outgoing;
mod place;

pub use incoming::Uploads;
pub use place::FilesConfig;

use super::Reporter;
use super::activity::{ActivityCell, MovingFile};
use super::assent::ToolAssent;
use super::channels::next_message;
use bytes::BytesMut;
use incoming::{Upload, WriteError};
use outgoing::Download;
use std::sync::Arc;
use tether_shared::access::Access;
use tether_shared::consent::ToolUse;
use tether_shared::files::human_size;
use tether_shared::files::name::check_file_name;
use tether_shared::files::wire::{
    AgentToController, ControllerToAgent, decode_chunk, decode_from_controller, encode_chunk,
};
use tether_shared::grant::Grant;
use tether_shared::signal::{FileDirection, FileOutcome, ToolEvent};
use tether_shared::tool_message::encode;
use webrtc::data_channel::DataChannel;

/// What a `files` channel works with.
#[derive(Debug)]
pub struct FilesContext {
    pub config: FilesConfig,
    pub uploads: Uploads,
    pub assent: ToolAssent,
    /// The grant in force when the channel opened (its size limit and
    /// assent rules; a grant without file transfer closes the channel).
    pub grant: Grant,
    pub reporter: Reporter,
    /// Each file counts as in use while it moves.
    pub activity: ActivityCell,
}

/// Serves the files channel until it closes.
pub async fn serve(channel: Arc<dyn DataChannel>, context: FilesContext) {
    let mut files = Files { channel, context, upload: None, download: None };
    loop {
        let sending = files.download.as_ref().is_some_and(|download| download.can_send());
        let step = tokio::select! {
            message = next_message(&files.channel) => match message {
                Some(message) if message.is_string => files.on_text(&message.data).await,
                Some(message) => files.on_chunk(&message.data).await,
                None => break,
            },
            () = std::future::ready(()), if sending => files.send_chunk().await,
        };
        if let Err(Closed) = step {
            break;
        }
    }
    files.abandon();
}

/// The channel closed under a send.
struct Closed;

struct Files {
    channel: Arc<dyn DataChannel>,
    context: FilesContext,
    upload: Option<Moving<Upload>>,
    download: Option<Moving<Download>>,
}

/// A transfer, counted as in use (with its progress) while it is kept.
struct Moving<T> {
    transfer: T,
    progress: MovingFile,
}

impl<T> std::ops::Deref for Moving<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.transfer
    }
}

impl<T> std::ops::DerefMut for Moving<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.transfer
    }
}

impl Files {
    /// `transfer` of file `name` (`size` bytes, `moved` already), counted
    /// as in use until it is dropped.
    fn moving<T>(&self, transfer: T, name: &str, size: u64, moved: u64) -> Moving<T> {
        let progress = self.context.activity.file(name, size);
        progress.moved(moved);
        Moving { transfer, progress }
    }

    async fn send(&self, message: &AgentToController) -> Result<(), Closed> {
        self.channel.send_text(&encode(message)).await.map_err(|err| {
            tracing::debug!(error = %err, "the files channel is closing");
            Closed
        })
    }

    fn record(
        &self,
        direction: FileDirection,
        name: &str,
        size: u64,
        outcome: FileOutcome,
        sha256: Option<String>,
        reason: Option<String>,
    ) {
        let event = ToolEvent::File { direction, name: name.to_owned(), size, sha256, outcome, reason };
        self.context.reporter.tool(event);
    }

    fn limit(&self) -> Option<u64> {
        self.context.grant.max_file_mib.map(|mib| u64::from(mib) * 1024 * 1024)
    }

    async fn on_text(&mut self, bytes: &[u8]) -> Result<(), Closed> {
        let message = match decode_from_controller(bytes) {
            Ok(message) => message,
            Err(reason) => {
                tracing::warn!(%reason, "dropping a files message");
                return self.send(&AgentToController::Failed { id: None, reason: reason.to_string() }).await;
            }
        };
        match message {
            ControllerToAgent::List { path } => self.list(path).await,
            ControllerToAgent::Offer { id, name, size } => self.offer(id, name, size).await,
            ControllerToAgent::Sent { id, sha256 } => self.sent(&id, &sha256).await,
            ControllerToAgent::Fetch { id, path, offset } => self.fetch(id, path, offset).await,
            ControllerToAgent::Progress { id, bytes } => self.confirmed(&id, bytes).await,
            ControllerToAgent::Cancel { id } => self.cancel(&id).await,
        }
    }

    /// Asks the person about one use of file transfer, where needed.
    async fn allowed(&self, detail: Option<String>, each_time: bool) -> Result<(), String> {
        let tool = ToolUse { access: Access::FileTransfer, detail };
        self.context.assent.allow_use(tool, each_time, &self.context.grant, &self.context.reporter).await
    }

    async fn list(&mut self, path: Vec<String>) -> Result<(), Closed> {
        if let Err(reason) = self.allowed(None, false).await {
            return self.send(&AgentToController::Failed { id: None, reason }).await;
        }
        let root = self.context.config.browse_root.clone();
        let asked = path.clone();
        let listed = tokio::task::spawn_blocking(move || place::list(root.as_deref(), &asked))
            .await
            .unwrap_or_else(|err| Err(format!("listing failed: {err}")));
        match listed {
            Ok((entries, more)) => self.send(&AgentToController::Listing { path, entries, more }).await,
            Err(reason) => self.send(&AgentToController::Failed { id: None, reason }).await,
        }
    }

    async fn offer(&mut self, id: String, name: String, size: u64) -> Result<(), Closed> {
        if self.upload.is_some() {
            let reason = "another file is arriving; send one at a time".to_owned();
            return self.send(&AgentToController::Failed { id: Some(id), reason }).await;
        }
        match self.accept(&id, &name, size).await {
            Ok(upload) => {
                let accepted = AgentToController::Accepted {
                    id: id.clone(),
                    name: upload.name().to_owned(),
                    folder: upload.folder().display().to_string(),
                    offset: upload.flow.received(),
                };
                self.record(FileDirection::ToComputer, upload.name(), size, FileOutcome::Started, None, None);
                let (name, moved) = (upload.name().to_owned(), upload.flow.received());
                self.upload = Some(self.moving(upload, &name, size, moved));
                self.send(&accepted).await
            }
            Err(reason) => {
                self.record(FileDirection::ToComputer, &name, size, FileOutcome::Failed, None, Some(reason.clone()));
                self.send(&AgentToController::Failed { id: Some(id), reason }).await
            }
        }
    }

    /// Checks an offer (name, size, the person) and opens its file.
    async fn accept(&self, id: &str, name: &str, size: u64) -> Result<Upload, String> {
        let safe = check_file_name(name).map_err(|bad| format!("the name is refused: {bad}"))?;
        if let Some(limit) = self.limit().filter(|limit| size > *limit) {
            return Err(format!(
                "the file is {}; the policy allows files up to {}",
                human_size(size),
                human_size(limit)
            ));
        }
        let uploads = &self.context.uploads;
        let folder = self.context.config.incoming.clone();
        if !uploads.is_resuming(id, &safe, size) {
            uploads.cancel(id);
            let saved_as = Uploads::preview_name(&folder, &safe);
            let detail =
                format!("They send {safe} ({}), to be saved in {} as {saved_as}.", human_size(size), folder.display());
            self.allowed(Some(detail), true).await?;
        }
        uploads.begin(id, &safe, size, &folder).await
    }

    async fn on_chunk(&mut self, bytes: &[u8]) -> Result<(), Closed> {
        let Some(upload) = self.upload.as_mut() else {
            tracing::warn!("dropping a chunk with no file arriving");
            return Ok(());
        };
        let written = match decode_chunk(bytes) {
            Ok((offset, data)) => match upload.flow.on_chunk(offset, data.len()) {
                Ok(confirm) => match upload.write(data).await {
                    Ok(()) => Ok(confirm),
                    Err(WriteError::Failed(reason)) => Err(reason),
                    Err(WriteError::TakenOver) => {
                        // The resumed attempt carries on; nothing to report.
                        self.upload = None;
                        return Ok(());
                    }
                },
                Err(broken) => Err(broken.to_string()),
            },
            Err(bad) => Err(bad.to_string()),
        };
        match written {
            Ok(Some(bytes)) => {
                upload.progress.moved(bytes);
                let id = upload.id.clone();
                self.send(&AgentToController::Progress { id, bytes }).await
            }
            Ok(None) => Ok(()),
            Err(reason) => self.fail_upload(reason).await,
        }
    }

    async fn fail_upload(&mut self, reason: String) -> Result<(), Closed> {
        let Some(upload) = self.upload.take() else { return Ok(()) };
        self.context.uploads.cancel(&upload.id);
        let size = upload.flow.size();
        self.record(FileDirection::ToComputer, upload.name(), size, FileOutcome::Failed, None, Some(reason.clone()));
        self.send(&AgentToController::Failed { id: Some(upload.id.clone()), reason }).await
    }

    async fn sent(&mut self, id: &str, sha256: &str) -> Result<(), Closed> {
        let Some(upload) = self.upload.take_if(|upload| upload.id == id) else {
            let reason = "no such file is arriving".to_owned();
            return self.send(&AgentToController::Failed { id: Some(id.to_owned()), reason }).await;
        };
        if !upload.flow.is_complete() {
            self.upload = Some(upload);
            return self.fail_upload("the sender finished before every byte arrived".into()).await;
        }
        let (name, size) = (upload.name().to_owned(), upload.flow.size());
        match self.context.uploads.finish(upload.transfer, sha256).await {
            Ok(hash) => {
                self.record(FileDirection::ToComputer, &name, size, FileOutcome::Completed, Some(hash.clone()), None);
                self.send(&AgentToController::Saved { id: id.to_owned(), name, sha256: hash }).await
            }
            Err(reason) => {
                self.record(FileDirection::ToComputer, &name, size, FileOutcome::Failed, None, Some(reason.clone()));
                self.send(&AgentToController::Failed { id: Some(id.to_owned()), reason }).await
            }
        }
    }

    async fn fetch(&mut self, id: String, path: Vec<String>, offset: u64) -> Result<(), Closed> {
        let shown = place::shown(&path);
        // The file already moving, asked for again: the controller lost track
        // of it (its connection dropped and came back on another path) and
        // resumes from what it kept; the old sending gives way. Another file
        // waits its turn.
        match self.download.take() {
            Some(moving) if moving.shown == shown => {
                tracing::info!(file = %shown, offset, "the controller resumes the file being sent");
            }
            Some(moving) => {
                self.download = Some(moving);
                let reason = "another file is being sent; take one at a time".to_owned();
                return self.send(&AgentToController::Failed { id: Some(id), reason }).await;
            }
            None => {}
        }
        let opened = match self.allowed(None, false).await {
            Ok(()) => match place::resolve(self.context.config.browse_root.as_deref(), &path) {
                Ok(resolved) => Download::open(&id, &resolved, &shown, offset, self.limit()).await,
                Err(reason) => Err(reason),
            },
            Err(reason) => Err(reason),
        };
        match opened {
            Ok(download) => {
                let size = download.flow.size();
                if offset == 0 {
                    self.record(FileDirection::FromComputer, &shown, size, FileOutcome::Started, None, None);
                }
                let sending = AgentToController::Sending { id, name: download.name.clone(), size, offset };
                let (moved, name_of) = (download.flow.confirmed(), download.name.clone());
                self.download = Some(self.moving(download, &name_of, size, moved));
                self.send(&sending).await?;
                self.finish_download_if_sent().await
            }
            Err(reason) => {
                self.record(FileDirection::FromComputer, &shown, 0, FileOutcome::Failed, None, Some(reason.clone()));
                self.send(&AgentToController::Failed { id: Some(id), reason }).await
            }
        }
    }

    async fn send_chunk(&mut self) -> Result<(), Closed> {
        let Some(download) = self.download.as_mut() else { return Ok(()) };
        match download.next_chunk().await {
            Ok(Some((offset, data))) => {
                let chunk = BytesMut::from(&encode_chunk(offset, &data)[..]);
                self.channel.send(chunk).await.map_err(|_| Closed)?;
                self.finish_download_if_sent().await
            }
            Ok(None) => Ok(()),
            Err(reason) => self.fail_download(reason).await,
        }
    }

    /// The outgoing file broke: recorded, and the controller told why.
    async fn fail_download(&mut self, reason: String) -> Result<(), Closed> {
        let Some(download) = self.download.take() else { return Ok(()) };
        let size = download.flow.size();
        self.record(
            FileDirection::FromComputer,
            &download.shown,
            size,
            FileOutcome::Failed,
            None,
            Some(reason.clone()),
        );
        self.send(&AgentToController::Failed { id: Some(download.id.clone()), reason }).await
    }

    /// Once every byte is out, says so with the file's hash.
    async fn finish_download_if_sent(&mut self) -> Result<(), Closed> {
        let Some(download) =
            self.download.as_mut().filter(|download| download.flow.all_sent() && !download.finished_sending)
        else {
            return Ok(());
        };
        download.finished_sending = true;
        let done = AgentToController::Done { id: download.id.clone(), sha256: download.sha256() };
        self.send(&done).await?;
        self.completed_if_confirmed();
        Ok(())
    }

    async fn confirmed(&mut self, id: &str, bytes: u64) -> Result<(), Closed> {
        let Some(download) = self.download.as_mut().filter(|download| download.id == id) else { return Ok(()) };
        if let Err(broken) = download.flow.on_confirmed(bytes) {
            return self.fail_download(broken.to_string()).await;
        }
        download.progress.moved(bytes);
        self.completed_if_confirmed();
        Ok(())
    }

    /// A download the controller holds entirely is over.
    fn completed_if_confirmed(&mut self) {
        let Some(download) = self
            .download
            .take_if(|download| download.finished_sending && download.flow.confirmed() == download.flow.size())
        else {
            return;
        };
        let size = download.flow.size();
        self.record(
            FileDirection::FromComputer,
            &download.shown,
            size,
            FileOutcome::Completed,
            Some(download.sha256()),
            None,
        );
    }

    async fn cancel(&mut self, id: &str) -> Result<(), Closed> {
        if let Some(upload) = self.upload.take_if(|upload| upload.id == id) {
            self.context.uploads.cancel(id);
            self.record(
                FileDirection::ToComputer,
                upload.name(),
                upload.flow.size(),
                FileOutcome::Cancelled,
                None,
                None,
            );
        } else if let Some(download) = self.download.take_if(|download| download.id == id) {
            self.record(
                FileDirection::FromComputer,
                &download.shown,
                download.flow.size(),
                FileOutcome::Cancelled,
                None,
                None,
            );
        } else {
            // An unfinished file of an earlier channel.
            self.context.uploads.cancel(id);
        }
        self.send(&AgentToController::Cancelled { id: id.to_owned() }).await
    }

    /// The channel closed: an arriving file stays resumable for the
    /// session; an outgoing one is over.
    fn abandon(&mut self) {
        if let Some(download) = self.download.take() {
            let reason = Some("the connection closed".to_owned());
            self.record(
                FileDirection::FromComputer,
                &download.shown,
                download.flow.size(),
                FileOutcome::Failed,
                None,
                reason,
            );
        }
    }
}
