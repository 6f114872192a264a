//! Files coming to this computer. A file is written to a hidden partial
//! file beside its final name, which is reserved first (created empty, so
//! nothing that exists is ever overwritten: a taken name gets a number,
//! "report (1).pdf"); once every byte is there and its SHA-256 matches the
//! sender's, the partial file replaces the reservation. A transfer cut off
//! keeps its partial file for the rest of the session, so the same offer
//! resumes it; when the session ends, what was never finished is removed.
//! A resumed file takes over from the attempt before it: every write holds
//! the file's turn and checks it is still the current attempt's, so the
//! offset a resume starts from is never followed by an older write.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tether_shared::files::flow::Receiving;
use tether_shared::files::name::{SafeName, numbered, partial_name};
use tether_shared::files::wire::hex;
use tokio::io::AsyncWriteExt;

/// How many numbered names are tried beside a taken one.
const NUMBERED_TRIES: u32 = 1_000;

/// A file that is arriving, reserved under its final name.
#[derive(Debug, Clone)]
struct Reserved {
    /// The name the sender asked for.
    asked: SafeName,
    /// The name it is saved under (`asked`, or a numbered one).
    name: SafeName,
    folder: PathBuf,
    size: u64,
    /// Whose turn it is to write: the current attempt's number.
    turn: Arc<tokio::sync::Mutex<u64>>,
}

impl Reserved {
    fn final_path(&self) -> PathBuf {
        self.folder.join(self.name.as_str())
    }

    fn partial_path(&self) -> PathBuf {
        self.folder.join(partial_name(&self.name))
    }

    /// Removes the partial file and the reservation.
    fn remove(&self) {
        for path in [self.partial_path(), self.final_path()] {
            if let Err(err) = std::fs::remove_file(&path)
                && err.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %path.display(), error = %err, "cannot remove an unfinished file");
            }
        }
    }
}

/// A session's unfinished incoming files, by transfer id; shared by the
/// session's `files` channels (a reloaded page opens a new one).
#[derive(Debug, Clone, Default)]
pub struct Uploads {
    // A std mutex: held only to look up or change the map, never across an await.
    unfinished: Arc<Mutex<Unfinished>>,
}

#[derive(Debug, Default)]
struct Unfinished(HashMap<String, Reserved>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        for reserved in self.0.values() {
            reserved.remove();
        }
    }
}

/// Why a chunk was not written.
#[derive(Debug)]
pub enum WriteError {
    /// A resumed attempt (on another channel) writes this file now; this
    /// one just stops.
    TakenOver,
    /// The write failed, and why.
    Failed(String),
}

/// One incoming file being written.
#[derive(Debug)]
pub struct Upload {
    pub id: String,
    pub flow: Receiving,
    file: tokio::fs::File,
    reserved: Reserved,
    /// This attempt's number.
    attempt: u64,
}

impl Upload {
    /// The name it is saved under.
    pub fn name(&self) -> &str {
        self.reserved.name.as_str()
    }

    /// The folder it is saved in.
    pub fn folder(&self) -> &Path {
        &self.reserved.folder
    }

    /// Writes a chunk that `flow` accepted, and hands it to the system
    /// before the file's turn is let go.
    pub async fn write(&mut self, data: &[u8]) -> Result<(), WriteError> {
        let turn = self.reserved.turn.lock().await;
        if *turn != self.attempt {
            return Err(WriteError::TakenOver);
        }
        let failed = |err: std::io::Error| WriteError::Failed(format!("cannot write the file: {err}"));
        self.file.write_all(data).await.map_err(failed)?;
        self.file.flush().await.map_err(failed)
    }
}

impl Uploads {
    fn lock(&self) -> std::sync::MutexGuard<'_, Unfinished> {
        self.unfinished.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether offer `id` resumes a file of this name and size (asked
    /// about already).
    pub fn is_resuming(&self, id: &str, name: &SafeName, size: u64) -> bool {
        self.lock().0.get(id).is_some_and(|reserved| reserved.size == size && reserved.asked == *name)
    }

    /// The name a new file called `name` would be saved under in `folder`
    /// now (for the question to the person; [`Uploads::begin`] decides).
    pub fn preview_name(folder: &Path, name: &SafeName) -> SafeName {
        candidates(name).find(|candidate| !folder.join(candidate.as_str()).exists()).unwrap_or_else(|| name.clone())
    }

    /// Starts (or resumes) incoming file `id`: reserves its name in
    /// `folder` and opens its partial file, appending to what an earlier
    /// attempt wrote.
    pub async fn begin(&self, id: &str, name: &SafeName, size: u64, folder: &Path) -> Result<Upload, String> {
        let known = self.lock().0.get(id).cloned();
        let reserved = match known {
            Some(reserved) => reserved,
            None => {
                let folder = folder.to_owned();
                let name = name.clone();
                let reserved = tokio::task::spawn_blocking(move || reserve(&folder, &name, size))
                    .await
                    .map_err(|err| format!("cannot reserve a name: {err}"))??;
                self.lock().0.insert(id.to_owned(), reserved.clone());
                reserved
            }
        };
        // Taking the turn stops an earlier attempt from writing after `held` is read.
        let mut turn = reserved.turn.lock().await;
        *turn += 1;
        let attempt = *turn;
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(reserved.partial_path())
            .await
            .map_err(|err| format!("cannot write in {}: {err}", reserved.folder.display()))?;
        let held = file.metadata().await.map_err(|err| format!("cannot read the partial file: {err}"))?.len();
        drop(turn);
        if held > size {
            self.cancel(id);
            return Err("the partial file is larger than the file; start again".into());
        }
        Ok(Upload { id: id.to_owned(), flow: Receiving::new(size, held), file, reserved, attempt })
    }

    /// Every byte of `upload` arrived: checks its SHA-256 against
    /// `expected` and puts it in place; the hash it has. On a mismatch
    /// the file is removed.
    pub async fn finish(&self, mut upload: Upload, expected: &str) -> Result<String, String> {
        if *upload.reserved.turn.lock().await != upload.attempt {
            return Err("a resumed transfer took over this file".into());
        }
        upload.file.flush().await.map_err(|err| format!("cannot write the file: {err}"))?;
        upload.file.sync_all().await.map_err(|err| format!("cannot write the file: {err}"))?;
        drop(upload.file);
        let partial = upload.reserved.partial_path();
        let actual = tokio::task::spawn_blocking(move || sha256_of(&partial))
            .await
            .map_err(|err| format!("cannot check the file: {err}"))?
            .map_err(|err| format!("cannot check the file: {err}"))?;
        let reserved = self.lock().0.remove(&upload.id);
        let Some(reserved) = reserved else { return Err("the transfer was cancelled".into()) };
        if actual != expected {
            reserved.remove();
            return Err(format!("the file arrived damaged (SHA-256 {actual}, expected {expected}); nothing was kept"));
        }
        std::fs::rename(reserved.partial_path(), reserved.final_path())
            .map_err(|err| format!("cannot put the file in place: {err}"))?;
        Ok(actual)
    }

    /// Forgets incoming file `id` and removes what it wrote.
    pub fn cancel(&self, id: &str) {
        if let Some(reserved) = self.lock().0.remove(id) {
            reserved.remove();
        }
    }
}

/// The names a file called `name` may be saved under, in order: `name`,
/// then "name (1)", "name (2)", … ([`NUMBERED_TRIES`] in all).
fn candidates(name: &SafeName) -> impl Iterator<Item = SafeName> + '_ {
    (0..NUMBERED_TRIES).map(move |n| if n == 0 { name.clone() } else { numbered(name, n) })
}

/// Creates `name` (or the first free numbered name) in `folder`, empty,
/// failing rather than touching a file that exists.
fn reserve(folder: &Path, name: &SafeName, size: u64) -> Result<Reserved, String> {
    std::fs::create_dir_all(folder).map_err(|err| format!("cannot create {}: {err}", folder.display()))?;
    for candidate in candidates(name) {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(folder.join(candidate.as_str())) {
            Ok(_) => {
                let turn = Arc::default();
                return Ok(Reserved { asked: name.clone(), name: candidate, folder: folder.to_owned(), size, turn });
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(format!("cannot create a file in {}: {err}", folder.display())),
        }
    }
    Err(format!("{NUMBERED_TRIES} files named like {name} exist in {} already", folder.display()))
}

/// The SHA-256 of the file at `path`, read in 1 MiB pieces. Blocking.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1024 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buffer[..read]);
    }
}
