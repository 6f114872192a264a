//! The `files` channel's messages. Text messages are JSON tagged by `t`
//! (one enum per direction); binary messages are one chunk of the file
//! being moved in that direction: its offset (8 bytes, big-endian) and
//! then its bytes. Each direction moves one file at a time, so a chunk
//! needs no other name.
//!
//! ```text
//! upload (to the computer)            download (from the computer)
//! C: offer{id,name,size}              C: fetch{id,path,offset}
//! A: accepted{id,name,offset}         A: sending{id,name,size,offset}
//! C: chunks…  A: progress{id,bytes}   A: chunks…  C: progress{id,bytes}
//! C: sent{id,sha256}                  A: done{id,sha256}
//! A: saved{id,name,sha256}            (the controller checks the hash)
//! ```
//! Either side may `cancel`; the agent answers what it cannot do with
//! `failed{id,reason}`. A transfer cut off by a dropped connection resumes
//! with the same `id`: the agent keeps what it received and answers the
//! repeated offer with the offset to go on from; a fetch names its own.

use super::name::MAX_NAME_BYTES;
use crate::tool_message::{ToolRejected, at_most, decode};
use serde::{Deserialize, Serialize};

/// The largest text message on the channel, in bytes.
pub const MAX_FILES_MESSAGE_BYTES: usize = 192 * 1024;
/// The most bytes of file in one chunk (the whole message is 8 more).
pub const CHUNK_BYTES: usize = 64 * 1024;
/// The longest transfer id.
pub const MAX_ID_BYTES: usize = 64;
/// The deepest folder path a request may name.
pub const MAX_PATH_DEPTH: usize = 64;
/// The most entries a listing carries (the rest are counted, not sent).
pub const MAX_LISTED_ENTRIES: usize = 1_000;

/// What the controller sends. (v10)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControllerToAgent {
    /// List the folder at `path` (components below the computer's home
    /// folder; empty for the home folder itself).
    List { path: Vec<String> },
    /// The technician wants to send a file of `size` bytes named `name`;
    /// the same `id` again resumes it.
    Offer { id: String, name: String, size: u64 },
    /// Every chunk of upload `id` was sent; the file's SHA-256 (hex).
    Sent { id: String, sha256: String },
    /// Send the file at `path`, from byte `offset` (0, or where a broken
    /// download stopped).
    Fetch { id: String, path: Vec<String>, offset: u64 },
    /// The controller holds this many bytes of download `id`.
    Progress { id: String, bytes: u64 },
    /// Stop transfer `id` (either direction).
    Cancel { id: String },
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub name: String,
    pub folder: bool,
    /// In bytes; 0 for a folder.
    pub size: u64,
    /// Last changed (Unix ms), where known.
    pub modified: Option<i64>,
}

/// What the agent sends. (v10)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentToController {
    /// The folder at `path`: folders first, then files, each by name;
    /// `more` entries were left out.
    Listing { path: Vec<String>, entries: Vec<Entry>, more: u64 },
    /// Upload `id` goes on from `offset`, saved as `name` (the name asked
    /// for, or a numbered one beside a file that exists) in `folder`.
    Accepted { id: String, name: String, folder: String, offset: u64 },
    /// The computer holds this many bytes of upload `id`.
    Progress { id: String, bytes: u64 },
    /// Upload `id` is complete and checked, saved as `name`.
    Saved { id: String, name: String, sha256: String },
    /// Download `id` starts: `size` bytes in all, chunks from `offset`.
    Sending { id: String, name: String, size: u64, offset: u64 },
    /// Every chunk of download `id` was sent; the file's SHA-256 (hex).
    Done { id: String, sha256: String },
    /// Transfer `id` (or a listing, without id) did not happen, and why.
    /// Nothing was written.
    Failed { id: Option<String>, reason: String },
    /// Transfer `id` was stopped at the computer.
    Cancelled { id: String },
}

/// Decodes and checks a text message from the controller (run by the
/// agent). Names and paths are checked again as what they are where
/// they are used ([`super::name`]).
pub fn decode_from_controller(bytes: &[u8]) -> Result<ControllerToAgent, ToolRejected> {
    let message: ControllerToAgent = decode(bytes, MAX_FILES_MESSAGE_BYTES)?;
    match &message {
        ControllerToAgent::List { path } => check_path(path)?,
        ControllerToAgent::Offer { id, name, .. } => {
            check_id(id)?;
            at_most("name", name.len(), MAX_NAME_BYTES)?;
        }
        ControllerToAgent::Sent { id, sha256 } => {
            check_id(id)?;
            check_sha256(sha256)?;
        }
        ControllerToAgent::Fetch { id, path, .. } => {
            check_id(id)?;
            check_path(path)?;
        }
        ControllerToAgent::Progress { id, .. } | ControllerToAgent::Cancel { id } => check_id(id)?,
    }
    Ok(message)
}

/// Decodes and checks a text message from the agent (run by the
/// controller).
pub fn decode_from_agent(bytes: &[u8]) -> Result<AgentToController, ToolRejected> {
    let message: AgentToController = decode(bytes, MAX_FILES_MESSAGE_BYTES)?;
    match &message {
        AgentToController::Listing { path, entries, .. } => {
            check_path(path)?;
            at_most("entries", entries.len(), MAX_LISTED_ENTRIES)?;
            for entry in entries {
                at_most("name", entry.name.len(), MAX_NAME_BYTES)?;
            }
        }
        AgentToController::Accepted { id, name, folder, .. } => {
            check_id(id)?;
            at_most("name", name.len(), MAX_NAME_BYTES)?;
            at_most("folder", folder.len(), 4_096)?;
        }
        AgentToController::Saved { id, name, sha256 } => {
            check_id(id)?;
            at_most("name", name.len(), MAX_NAME_BYTES)?;
            check_sha256(sha256)?;
        }
        AgentToController::Sending { id, name, .. } => {
            check_id(id)?;
            at_most("name", name.len(), MAX_NAME_BYTES)?;
        }
        AgentToController::Done { id, sha256 } => {
            check_id(id)?;
            check_sha256(sha256)?;
        }
        AgentToController::Failed { id, reason } => {
            if let Some(id) = id {
                check_id(id)?;
            }
            at_most("reason", reason.len(), 1_000)?;
        }
        AgentToController::Progress { id, .. } | AgentToController::Cancelled { id } => check_id(id)?,
    }
    Ok(message)
}

fn check_id(id: &str) -> Result<(), ToolRejected> {
    let fine = !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if !fine {
        return Err(ToolRejected::Malformed("a transfer id is letters, digits and dashes".into()));
    }
    at_most("id", id.len(), MAX_ID_BYTES)
}

fn check_path(path: &[String]) -> Result<(), ToolRejected> {
    at_most("path", path.len(), MAX_PATH_DEPTH)?;
    for component in path {
        at_most("path component", component.len(), MAX_NAME_BYTES)?;
    }
    Ok(())
}

fn check_sha256(sha256: &str) -> Result<(), ToolRejected> {
    if sha256.len() == 64 && sha256.bytes().all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(ToolRejected::Malformed("a SHA-256 is 64 lowercase hex digits".into()))
    }
}

/// One chunk: its offset and bytes, as sent.
pub fn encode_chunk(offset: u64, data: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(8 + data.len());
    message.extend_from_slice(&offset.to_be_bytes());
    message.extend_from_slice(data);
    message
}

/// A chunk as received: its offset and bytes; an error for a message too
/// short to hold an offset, or carrying more than [`CHUNK_BYTES`].
pub fn decode_chunk(message: &[u8]) -> Result<(u64, &[u8]), ToolRejected> {
    let Some((offset, data)) = message.split_first_chunk::<8>() else {
        return Err(ToolRejected::Malformed("a chunk starts with its 8-byte offset".into()));
    };
    at_most("chunk", data.len(), CHUNK_BYTES)?;
    Ok((u64::from_be_bytes(*offset), data))
}

/// The SHA-256 of `bytes`' digest as the wire writes it.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool_message::encode;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn every_message_round_trips() {
        for message in [
            ControllerToAgent::List { path: vec!["Documents".into()] },
            ControllerToAgent::Offer { id: "a1-b2".into(), name: "report.pdf".into(), size: 3 },
            ControllerToAgent::Sent { id: "a1".into(), sha256: HASH.into() },
            ControllerToAgent::Fetch { id: "f1".into(), path: vec!["notes.txt".into()], offset: 7 },
            ControllerToAgent::Progress { id: "f1".into(), bytes: 1 << 20 },
            ControllerToAgent::Cancel { id: "f1".into() },
        ] {
            assert_eq!(decode_from_controller(encode(&message).as_bytes()), Ok(message));
        }
        let entry = Entry { name: "a.txt".into(), folder: false, size: 3, modified: Some(1) };
        for message in [
            AgentToController::Listing { path: vec![], entries: vec![entry], more: 0 },
            AgentToController::Accepted {
                id: "a1".into(),
                name: "r (1).pdf".into(),
                folder: "/home/a".into(),
                offset: 0,
            },
            AgentToController::Progress { id: "a1".into(), bytes: 9 },
            AgentToController::Saved { id: "a1".into(), name: "r.pdf".into(), sha256: HASH.into() },
            AgentToController::Sending { id: "f1".into(), name: "n.txt".into(), size: 9, offset: 0 },
            AgentToController::Done { id: "f1".into(), sha256: HASH.into() },
            AgentToController::Failed { id: None, reason: "no such folder".into() },
            AgentToController::Cancelled { id: "f1".into() },
        ] {
            assert_eq!(decode_from_agent(encode(&message).as_bytes()), Ok(message));
        }
    }

    #[test]
    fn ids_hashes_and_paths_are_held_to_their_shapes() {
        let bad_id = encode(&ControllerToAgent::Cancel { id: "../x".into() });
        assert!(decode_from_controller(bad_id.as_bytes()).is_err());
        let bad_hash = encode(&ControllerToAgent::Sent { id: "a".into(), sha256: HASH.to_uppercase() });
        assert!(decode_from_controller(bad_hash.as_bytes()).is_err());
        let deep = encode(&ControllerToAgent::List { path: vec!["a".into(); MAX_PATH_DEPTH + 1] });
        assert_eq!(decode_from_controller(deep.as_bytes()), Err(ToolRejected::OverLimit { field: "path" }));
    }

    #[test]
    fn chunks_carry_their_offset() {
        let chunk = encode_chunk(1 << 40, b"data");
        assert_eq!(decode_chunk(&chunk), Ok((1 << 40, &b"data"[..])));
        assert!(decode_chunk(b"short").is_err());
        let big = encode_chunk(0, &vec![0; CHUNK_BYTES + 1]);
        assert!(decode_chunk(&big).is_err());
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
    }
}
