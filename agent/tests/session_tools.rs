//! A session's tools on loopback with Xvfb, driven by a webrtc-rs
//! controller: a tool beyond the grant, or one the policy wants allowed
//! with nobody to ask, is refused; an unattended session reads system
//! information and will not touch another display's clipboard; files move
//! both ways under the flow window, checked by SHA-256, never overwriting,
//! refusing hostile names and oversized files, resuming after the channel
//! drops, each transfer reported for the audit log.

#![allow(clippy::unwrap_used)]

mod common;

use bytes::BytesMut;
use common::session_harness::{Controller, DEADLINE, Harness, wait_open};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tether_agent::session::{FilesConfig, ToolAssent};
use tether_shared::access::{Access, AccessSet};
use tether_shared::files::flow::{Receiving, Sending};
use tether_shared::files::wire::{
    AgentToController, CHUNK_BYTES, ControllerToAgent, decode_chunk, decode_from_agent, encode_chunk, hex,
};
use tether_shared::mode::SessionMode;
use tether_shared::signal::{FileDirection, FileOutcome, Refused, ToolEvent};
use tether_shared::tool_message::encode;
use tether_shared::{clipboard, system_info};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// Opens `label` on `controller`'s connection and sends `request` once it opens; the first answer.
async fn ask_tool(controller: &Controller, label: &str, request: &str) -> String {
    let channel = controller.connection.create_data_channel(label, None).await.unwrap();
    wait_open(&channel).await;
    channel.send_text(request).await.unwrap();
    tokio::time::timeout(DEADLINE, async {
        while let Some(event) = channel.poll().await {
            if let DataChannelEvent::OnMessage(message) = event {
                return String::from_utf8(message.data.to_vec()).unwrap();
            }
        }
        panic!("the {label} channel closed unanswered");
    })
    .await
    .unwrap_or_else(|_| panic!("no answer on {label} in time"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_is_refused_beyond_the_grant_and_where_the_person_must_allow_it_but_nobody_can() {
    let mut h = Harness::start();
    // Each controller opens its tool before connecting: webrtc-rs may lose a channel that
    // reuses the stream of one the agent just closed (a browser waits for the reset).
    let monitor = h.offer(1, Some(SessionMode::Monitor)).await;
    let _clipboard = monitor.connection.create_data_channel("clipboard", None).await.unwrap();
    assert_eq!(h.answered().await, 1);
    let mut reasons = vec![h.refusal().await, h.refusal().await];
    reasons.sort_by_key(|refusal| refusal.reason.contains("input"));
    assert!(reasons.iter().all(|refusal| refusal.what == Refused::Channel), "{reasons:?}");
    let clipboard = &reasons[0].reason;
    assert!(clipboard.contains("Clipboard") && clipboard.contains("Monitor"), "{clipboard}");

    // Active covers it, but the policy wants the person to allow it and nobody can be asked.
    drop(monitor);
    let active = h.offer(2, Some(SessionMode::Active)).await;
    let _system = active.connection.create_data_channel("system", None).await.unwrap();
    assert_eq!(h.answered().await, 2);
    let refusal = h.refusal().await;
    assert!(refusal.reason.contains("nobody can be asked"), "{}", refusal.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unattended_session_reads_system_information_but_not_another_displays_clipboard() {
    let mut h = Harness::start_with(ToolAssent::new(None, true), FilesConfig::from_environment());
    let active = h.offer(1, Some(SessionMode::Active)).await;
    assert_eq!(h.answered().await, 1);
    let answer = ask_tool(&active, "system", r#"{"t":"refresh"}"#).await;
    match system_info::decode_from_agent(answer.as_bytes()) {
        Ok(system_info::AgentToController::Report(report)) => assert!(report.cpu.cores > 0, "{report:?}"),
        other => panic!("no report: {other:?}"),
    }
    // The session shows the test's Xvfb, which is not this process's DISPLAY: the clipboard
    // (reachable only through DISPLAY) says so rather than touch another display's.
    let answer = ask_tool(&active, "clipboard", r#"{"t":"set","text":"from the technician"}"#).await;
    match clipboard::decode_from_agent(answer.as_bytes()) {
        Ok(clipboard::AgentToController::Failed { reason }) => assert!(reason.contains("DISPLAY"), "{reason}"),
        other => panic!("the clipboard of another display was used: {other:?}"),
    }
}

/// A `files` channel seen from the controller.
struct Files {
    channel: Arc<dyn DataChannel>,
    texts: mpsc::UnboundedReceiver<AgentToController>,
    chunks: mpsc::UnboundedReceiver<Vec<u8>>,
}

impl Files {
    async fn open(controller: &Controller) -> Self {
        let channel = controller.connection.create_data_channel("files", None).await.unwrap();
        wait_open(&channel).await;
        let (text_sender, texts) = mpsc::unbounded_channel();
        let (chunk_sender, chunks) = mpsc::unbounded_channel();
        let polled = Arc::clone(&channel);
        tokio::spawn(async move {
            while let Some(event) = polled.poll().await {
                if let DataChannelEvent::OnMessage(message) = event {
                    if message.is_string {
                        let _ = text_sender.send(decode_from_agent(&message.data).unwrap());
                    } else {
                        let _ = chunk_sender.send(message.data.to_vec());
                    }
                }
            }
        });
        Self { channel, texts, chunks }
    }

    async fn send(&self, message: &ControllerToAgent) {
        self.channel.send_text(&encode(message)).await.unwrap();
    }

    async fn next(&mut self) -> AgentToController {
        tokio::time::timeout(DEADLINE, self.texts.recv()).await.expect("an answer in time").unwrap()
    }

    /// The next answer that is not a progress report.
    async fn outcome(&mut self) -> AgentToController {
        loop {
            match self.next().await {
                AgentToController::Progress { .. } => {}
                other => return other,
            }
        }
    }

    /// Sends `data` from `offset` to `stop` (the end when `None`), within the window.
    async fn push(&mut self, data: &[u8], offset: u64, stop: Option<u64>) {
        let size = data.len() as u64;
        let mut sending = Sending::new(stop.unwrap_or(size), offset);
        while !sending.all_sent() {
            while let Some((at, length)) = sending.next_chunk(CHUNK_BYTES) {
                let start = usize::try_from(at).unwrap();
                let chunk = encode_chunk(at, &data[start..start + length]);
                self.channel.send(BytesMut::from(&chunk[..])).await.unwrap();
            }
            if sending.all_sent() {
                break;
            }
            match self.next().await {
                AgentToController::Progress { bytes, .. } => sending.on_confirmed(bytes).unwrap(),
                other => panic!("{other:?} in the middle of an upload"),
            }
        }
    }

    /// Uploads `data` as `name` with id `id`; the agent's final answer.
    async fn upload(&mut self, id: &str, name: &str, data: &[u8]) -> AgentToController {
        self.send(&ControllerToAgent::Offer { id: id.into(), name: name.into(), size: data.len() as u64 }).await;
        match self.next().await {
            AgentToController::Accepted { offset, .. } => self.push(data, offset, None).await,
            refused => return refused,
        }
        self.send(&ControllerToAgent::Sent { id: id.into(), sha256: sha256(data) }).await;
        self.outcome().await
    }
}

fn sha256(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Bytes that differ everywhere, so a misplaced chunk cannot go unseen.
fn content(size: usize, seed: u8) -> Vec<u8> {
    (0..size).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed).collect()
}

fn temp_folder(what: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tether-files-{what}-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<_> =
        std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_move_both_ways_checked_never_overwriting_and_resume_after_a_drop() {
    let (incoming, shared) = (temp_folder("in"), temp_folder("root"));
    let notes = content(3 * 1024 * 1024 + 17, 7);
    std::fs::write(shared.join("notes.txt"), &notes).unwrap();
    std::fs::create_dir(shared.join("Documents")).unwrap();
    let files_config = FilesConfig { incoming: incoming.clone(), browse_root: Some(shared.clone()) };
    let mut h = Harness::start_with(ToolAssent::new(None, true), files_config);
    let active = h.offer(1, Some(SessionMode::Active)).await;
    assert_eq!(h.answered().await, 1);
    let mut files = Files::open(&active).await;

    // Browsing: folders first, then files.
    files.send(&ControllerToAgent::List { path: vec![] }).await;
    let AgentToController::Listing { entries, .. } = files.next().await else { panic!("no listing") };
    let listed: Vec<_> = entries.iter().map(|entry| (entry.name.as_str(), entry.size)).collect();
    assert_eq!(listed, vec![("Documents", 0), ("notes.txt", notes.len() as u64)]);
    files.send(&ControllerToAgent::List { path: vec!["..".into()] }).await;
    assert!(matches!(files.next().await, AgentToController::Failed { id: None, .. }), "nothing above the root");

    // Upload, and the same name again: saved beside it, numbered.
    let report = content(5 * 1024 * 1024 + 123, 1);
    let saved = files.upload("u1", "report.pdf", &report).await;
    assert_eq!(saved, AgentToController::Saved { id: "u1".into(), name: "report.pdf".into(), sha256: sha256(&report) });
    let again = content(1000, 2);
    let AgentToController::Saved { name, .. } = files.upload("u2", "report.pdf", &again).await else { panic!() };
    assert_eq!(name, "report (1).pdf");
    assert_eq!(std::fs::read(incoming.join("report.pdf")).unwrap(), report, "the first file is untouched");
    assert_eq!(std::fs::read(incoming.join("report (1).pdf")).unwrap(), again);

    // Hostile names and an oversized file: refused with the reason, nothing written.
    for hostile in ["../evil.sh", "/etc/passwd", "NUL.txt", ".bashrc", "a\u{202e}fdp.exe"] {
        let refused = files.upload("u3", hostile, b"x").await;
        assert!(
            matches!(&refused, AgentToController::Failed { reason, .. } if reason.contains("name is refused")),
            "{hostile}: {refused:?}"
        );
    }
    files.send(&ControllerToAgent::Offer { id: "u4".into(), name: "huge.iso".into(), size: 11 << 30 }).await;
    let AgentToController::Failed { reason, .. } = files.next().await else { panic!("a huge file was accepted") };
    assert!(reason.contains("10.0 GiB"), "{reason}");
    assert_eq!(names_in(&incoming), vec!["report (1).pdf", "report.pdf"]);

    // An upload cut off by the channel closing resumes on a new channel from what arrived.
    let big = content(6 * 1024 * 1024, 3);
    files.send(&ControllerToAgent::Offer { id: "u5".into(), name: "big.bin".into(), size: big.len() as u64 }).await;
    assert!(matches!(files.next().await, AgentToController::Accepted { offset: 0, .. }));
    files.push(&big, 0, Some(2 * 1024 * 1024)).await;
    assert!(matches!(files.next().await, AgentToController::Progress { bytes, .. } if bytes >= 1024 * 1024));
    // The new channel opens first, so it cannot take the closing one's stream (see above).
    let replacement = Files::open(&active).await;
    files.channel.close().await.unwrap();
    let mut files = replacement;
    files.send(&ControllerToAgent::Offer { id: "u5".into(), name: "big.bin".into(), size: big.len() as u64 }).await;
    let AgentToController::Accepted { offset, .. } = files.next().await else { panic!("no resume") };
    assert!((1024 * 1024..=2 * 1024 * 1024).contains(&offset), "resumed at {offset}");
    files.push(&big, offset, None).await;
    files.send(&ControllerToAgent::Sent { id: "u5".into(), sha256: sha256(&big) }).await;
    let outcome = files.outcome().await;
    assert!(matches!(outcome, AgentToController::Saved { .. }), "{outcome:?}");
    assert_eq!(std::fs::read(incoming.join("big.bin")).unwrap(), big);

    // The file being sent, asked for again (the controller lost track of it
    // when its connection dropped and came back on another path), resumes
    // from where it asks; another file waits its turn.
    // (A file larger than the flow window, so that it waits for confirmations.)
    std::fs::write(shared.join("other.txt"), b"other").unwrap();
    std::fs::write(shared.join("big.log"), content(12 * 1024 * 1024, 9)).unwrap();
    files.send(&ControllerToAgent::Fetch { id: "d0".into(), path: vec!["big.log".into()], offset: 0 }).await;
    assert!(matches!(files.next().await, AgentToController::Sending { offset: 0, .. }));
    tokio::time::timeout(DEADLINE, files.chunks.recv()).await.expect("a chunk in time").unwrap();
    files.send(&ControllerToAgent::Fetch { id: "d0b".into(), path: vec!["big.log".into()], offset: 1 << 20 }).await;
    let resumed = files.next().await;
    assert!(matches!(&resumed, AgentToController::Sending { id, offset: 1_048_576, .. } if id == "d0b"), "{resumed:?}");
    files.send(&ControllerToAgent::Fetch { id: "d0c".into(), path: vec!["other.txt".into()], offset: 0 }).await;
    let refused = files.next().await;
    let waits = matches!(&refused, AgentToController::Failed { id: Some(id), reason } if id == "d0c" && reason.contains("take one at a time"));
    assert!(waits, "{refused:?}");
    files.send(&ControllerToAgent::Cancel { id: "d0b".into() }).await;
    assert_eq!(files.next().await, AgentToController::Cancelled { id: "d0b".into() });
    while files.chunks.try_recv().is_ok() {}

    // Download, confirming as the window needs; the hash covers every byte.
    files.send(&ControllerToAgent::Fetch { id: "d1".into(), path: vec!["notes.txt".into()], offset: 0 }).await;
    let AgentToController::Sending { size, offset: 0, .. } = files.next().await else { panic!("not sending") };
    let mut receiving = Receiving::new(size, 0);
    let mut received = Vec::new();
    while !receiving.is_complete() {
        let chunk = tokio::time::timeout(DEADLINE, files.chunks.recv()).await.expect("a chunk in time").unwrap();
        let (at, data) = decode_chunk(&chunk).unwrap();
        received.extend_from_slice(data);
        if let Some(bytes) = receiving.on_chunk(at, data.len()).unwrap() {
            files.send(&ControllerToAgent::Progress { id: "d1".into(), bytes }).await;
        }
    }
    assert_eq!(received, notes);
    assert_eq!(files.next().await, AgentToController::Done { id: "d1".into(), sha256: sha256(&notes) });

    // The bar heard that the screen was sent and that files moved.
    let (mut seen, mut progress) = (AccessSet::empty(), Vec::new());
    while let Ok((in_use, transfer)) = h.in_use.try_recv() {
        seen = seen.union(in_use);
        progress.extend(transfer);
    }
    assert!(seen.contains(Access::View) && seen.contains(Access::FileTransfer), "{seen:?}");
    assert!(progress.iter().any(|text| text.starts_with("report.pdf ") && text.contains('%')), "{progress:?}");

    // Each transfer was reported as it started and as it ended.
    let mut outcomes = Vec::new();
    while let Ok(event) = h.tools.try_recv() {
        if let ToolEvent::File { direction, name, outcome, .. } = event {
            outcomes.push((direction, name, outcome));
        }
    }
    let to = FileDirection::ToComputer;
    assert!(outcomes.contains(&(to, "report.pdf".into(), FileOutcome::Started)), "{outcomes:?}");
    assert!(outcomes.contains(&(to, "report (1).pdf".into(), FileOutcome::Completed)), "{outcomes:?}");
    assert!(outcomes.contains(&(to, "../evil.sh".into(), FileOutcome::Failed)), "{outcomes:?}");
    assert!(
        outcomes.contains(&(FileDirection::FromComputer, "~/notes.txt".into(), FileOutcome::Started)),
        "{outcomes:?}"
    );
    for folder in [incoming, shared] {
        std::fs::remove_dir_all(folder).unwrap();
    }
}
