//! Files leaving this computer: one at a time, read a chunk at a time as
//! the controller's window allows, hashed as they are read (a resumed
//! download hashes what the controller holds already first), so the
//! controller can check what it saved.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use tether_shared::files::flow::Sending;
use tether_shared::files::wire::{CHUNK_BYTES, hex};
use tokio::io::AsyncReadExt;

/// One outgoing file.
#[derive(Debug)]
pub struct Download {
    pub id: String,
    /// The file's name, as the controller saves it.
    pub name: String,
    /// Where it is, as the audit log says it ("~/Documents/a.txt").
    pub shown: String,
    pub flow: Sending,
    file: tokio::fs::File,
    hasher: Sha256,
    /// `done` went out.
    pub finished_sending: bool,
}

impl Download {
    /// Opens the regular file at `path`, at most `limit` bytes, to send
    /// from `offset`.
    pub async fn open(id: &str, path: &Path, shown: &str, offset: u64, limit: Option<u64>) -> Result<Download, String> {
        let metadata = tokio::fs::metadata(path).await.map_err(|err| format!("cannot read the file: {err}"))?;
        if !metadata.is_file() {
            return Err("only files can be taken, not folders or devices".into());
        }
        let size = metadata.len();
        if let Some(limit) = limit.filter(|limit| size > *limit) {
            return Err(format!(
                "the file is {}; the policy allows files up to {}",
                tether_shared::files::human_size(size),
                tether_shared::files::human_size(limit)
            ));
        }
        if offset > size {
            return Err("the download cannot resume past the end of the file; start again".into());
        }
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let owned: PathBuf = path.to_owned();
        let hasher = tokio::task::spawn_blocking(move || hash_prefix(&owned, offset))
            .await
            .map_err(|err| format!("cannot read the file: {err}"))?
            .map_err(|err| format!("cannot read the file: {err}"))?;
        let mut file = tokio::fs::File::open(path).await.map_err(|err| format!("cannot read the file: {err}"))?;
        use tokio::io::AsyncSeekExt;
        file.seek(std::io::SeekFrom::Start(offset)).await.map_err(|err| format!("cannot read the file: {err}"))?;
        Ok(Download {
            id: id.to_owned(),
            name,
            shown: shown.to_owned(),
            flow: Sending::new(size, offset),
            file,
            hasher,
            finished_sending: false,
        })
    }

    /// Whether a chunk may be read and sent now.
    pub fn can_send(&self) -> bool {
        self.flow.can_send()
    }

    /// Reads the next chunk the window allows: its offset and bytes.
    pub async fn next_chunk(&mut self) -> Result<Option<(u64, Vec<u8>)>, String> {
        let Some((offset, length)) = self.flow.next_chunk(CHUNK_BYTES) else { return Ok(None) };
        let mut data = vec![0; length];
        self.file.read_exact(&mut data).await.map_err(|err| format!("the file changed while it was sent: {err}"))?;
        self.hasher.update(&data);
        Ok(Some((offset, data)))
    }

    /// The SHA-256 of every byte sent (and of the prefix a resume skipped).
    pub fn sha256(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

/// A hasher fed the first `bytes` of the file at `path`. Blocking.
fn hash_prefix(path: &Path, bytes: u64) -> std::io::Result<Sha256> {
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path)?.take(bytes);
    let mut buffer = vec![0; 1024 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(hasher);
        }
        hasher.update(&buffer[..read]);
    }
}
