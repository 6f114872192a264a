//! The browser's side of moving file bytes: slices of a file the
//! technician picked, downloads written piece by piece to the origin's
//! private file system (so a 2 GiB file never sits in the page's memory),
//! SHA-256 over either, and handing a finished download to the browser as
//! a normal download.

use js_sys::{Promise, Uint8Array};
use sha2::{Digest, Sha256};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, File, FileSystemCreateWritableOptions, FileSystemDirectoryHandle, FileSystemFileHandle,
    FileSystemGetFileOptions, FileSystemWritableFileStream,
};

/// How much is read at a time to hash a file.
const HASH_PIECE: u64 = 4 * 1024 * 1024;

fn text(error: JsValue) -> String {
    super::peer::describe(&error)
}

async fn wait(promise: Promise) -> Result<JsValue, String> {
    JsFuture::from(promise).await.map_err(text)
}

/// Bytes `start..end` of `blob`.
pub async fn read_slice(blob: &Blob, start: u64, end: u64) -> Result<Vec<u8>, String> {
    // File offsets fit an f64 exactly up to 2^53 bytes.
    #[allow(clippy::cast_precision_loss)]
    let slice = blob.slice_with_f64_and_f64(start as f64, end as f64).map_err(text)?;
    let buffer = wait(slice.array_buffer()).await?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// A hasher fed the first `bytes` of `blob`.
pub async fn hash_prefix(blob: &Blob, bytes: u64) -> Result<Sha256, String> {
    let mut hasher = Sha256::new();
    let mut at = 0;
    while at < bytes {
        let end = (at + HASH_PIECE).min(bytes);
        hasher.update(read_slice(blob, at, end).await?);
        at = end;
    }
    Ok(hasher)
}

/// The size of a blob (a picked file, a saved download).
pub fn size_of(blob: &Blob) -> u64 {
    // Sizes are whole numbers well within an f64's exact range.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let size = blob.size() as u64;
    size
}

async fn private_folder() -> Result<FileSystemDirectoryHandle, String> {
    let window = web_sys::window().ok_or("no window")?;
    // Without a secure context `navigator.storage` is missing, and calling
    // into it would throw past this code.
    if !window.is_secure_context() {
        return Err("downloads need the page served over HTTPS (or opened on the server's own computer): \
                    the browser keeps no private files for an insecure page"
            .into());
    }
    let root = wait(window.navigator().storage().get_directory()).await.map_err(|err| {
        format!("this browser keeps no private files for this page ({err}); downloads need a current Chromium, Firefox or Safari")
    })?;
    Ok(root.unchecked_into())
}

async fn file_handle(name: &str) -> Result<FileSystemFileHandle, String> {
    let options = FileSystemGetFileOptions::new();
    options.set_create(true);
    let handle = wait(private_folder().await?.get_file_handle_with_options(name, &options)).await?;
    Ok(handle.unchecked_into())
}

/// A download being written to the private file system under `name`.
pub struct Saving {
    handle: FileSystemFileHandle,
    stream: FileSystemWritableFileStream,
}

impl Saving {
    /// Opens `name` to write from byte `offset`, keeping what is before.
    pub async fn open(name: &str, offset: u64) -> Result<Saving, String> {
        let handle = file_handle(name).await?;
        let options = FileSystemCreateWritableOptions::new();
        options.set_keep_existing_data(true);
        let stream: FileSystemWritableFileStream =
            wait(handle.create_writable_with_options(&options)).await?.unchecked_into();
        // See `read_slice`.
        #[allow(clippy::cast_precision_loss)]
        wait(stream.seek_with_f64(offset as f64).map_err(text)?).await?;
        Ok(Saving { handle, stream })
    }

    /// Writes the next bytes.
    pub async fn write(&self, data: &[u8]) -> Result<(), String> {
        wait(self.stream.write_with_u8_array(data).map_err(text)?).await.map(drop)
    }

    /// Closes the file (its bytes are in place once this returns) and
    /// gives it back to read.
    pub async fn finish(self) -> Result<File, String> {
        wait(self.stream.close()).await?;
        Ok(wait(self.handle.get_file()).await?.unchecked_into())
    }

    /// Closes the file, keeping what was written (to resume).
    pub async fn pause(self) {
        if let Err(err) = wait(self.stream.close()).await {
            web_sys::console::warn_1(&format!("closing a download: {err}").into());
        }
    }
}

/// How many bytes of `name` the private file system holds (0 if none).
pub async fn held(name: &str) -> u64 {
    match file_handle(name).await {
        Ok(handle) => match wait(handle.get_file()).await {
            Ok(file) => size_of(&file.unchecked_into::<Blob>()),
            Err(_) => 0,
        },
        Err(_) => 0,
    }
}

/// Removes `name` from the private file system.
pub async fn forget(name: &str) {
    if let Ok(folder) = private_folder().await
        && let Err(err) = wait(folder.remove_entry(name)).await
    {
        web_sys::console::warn_1(&format!("removing a saved download: {err}").into());
    }
}

/// Hands `file` to the browser as a download called `name`.
pub fn save_as(file: &File, name: &str) -> Result<(), String> {
    let url = web_sys::Url::create_object_url_with_blob(file).map_err(text)?;
    let document = web_sys::window().and_then(|window| window.document()).ok_or("no document")?;
    let anchor: web_sys::HtmlAnchorElement = document.create_element("a").map_err(text)?.unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // The browser has the file once the click is handled; the URL can go a
    // minute later.
    let revoke = move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    };
    leptos::prelude::set_timeout(revoke, std::time::Duration::from_secs(60));
    Ok(())
}
