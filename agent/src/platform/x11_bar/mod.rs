//! The session bar on the X display: while a session runs, a small window
//! at the top of the screen, above the others, says who is connected, in
//! which mode and what is in use right now (viewing, controlling, a file
//! moving); its **Chat** button opens a row to read the technician's last
//! line and type one back; its large red **X** ends the session. It is a
//! native window of its own (its own X connection and thread), so it does
//! not depend on a browser being open; the technician sees it in their
//! picture too. Dragging its text moves it; clicking its text folds it to
//! a small "Tether" tab (Chat and the X stay) and back.
//!
//! Where things are and what a press means are pure ([`layout`]), and so is
//! the line being typed ([`chat`]); [`window`] is the thread that draws the
//! bar and turns clicks and keys into the caller's `on_end` and `on_chat`.

pub mod chat;
pub mod layout;
mod window;

use anyhow::Context;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tether_shared::access::AccessSet;
use tether_shared::activity::in_use_words;
use tether_shared::mode::SessionMode;

/// The bar's window name, for people and tests looking for it.
pub const WINDOW_NAME: &str = "Tether session";
/// The property holding the bar's line as text (UTF-8), for tools that
/// read windows rather than pixels.
pub const TEXT_PROPERTY: &str = "_TETHER_BAR_TEXT";
/// The property holding the technician's last chat line as the bar shows
/// it.
pub const HEARD_PROPERTY: &str = "_TETHER_BAR_HEARD";

/// What the bar says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarContent {
    pub technician: String,
    pub mode: SessionMode,
    /// What is in use right now (viewing, controlling, a file moving).
    pub in_use: AccessSet,
    /// The moving file's name and progress, where one moves.
    pub transfer: Option<String>,
}

impl BarContent {
    /// The bar's line: who, how, and what is in use right now.
    pub fn line(&self) -> String {
        let line = format!("{} is connected - {} mode", printable(&self.technician, 60), self.mode.name());
        match in_use_words(self.in_use, self.transfer.as_deref()) {
            words if words.is_empty() => line,
            words => format!("{line} - {words}"),
        }
    }
}

/// `text` without control characters, at most `chars` long.
fn printable(text: &str, chars: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(chars).collect()
}

/// What the bar's thread is told.
#[derive(Debug)]
enum Command {
    Show(BarContent),
    /// The technician said this ("Tess: …").
    Heard(String),
    Close,
}

/// The bar of one session; dropping it takes it off the screen.
#[derive(Debug)]
pub struct SessionBar {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl SessionBar {
    /// Shows the bar on `display` (or `$DISPLAY`); `on_end` runs once when
    /// the person clicks its X, `on_chat` with each line they send from it.
    pub fn open(
        display: Option<&str>,
        content: BarContent,
        on_end: impl FnOnce() + Send + 'static,
        on_chat: impl Fn(String) + Send + 'static,
    ) -> anyhow::Result<Self> {
        let (conn, screen) = x11rb::connect(display).context("cannot connect to the X server for the session bar")?;
        let (commands, receiver) = mpsc::channel();
        let mut bar = window::Bar::create(conn, screen, content, Box::new(on_end), Box::new(on_chat))?;
        let thread = std::thread::Builder::new()
            .name("session-bar".into())
            .spawn(move || {
                if let Err(err) = bar.run(&receiver) {
                    tracing::warn!(error = format!("{err:#}"), "the session bar stopped");
                }
            })
            .context("cannot start the session bar's thread")?;
        Ok(Self { commands, thread: Some(thread) })
    }

    /// Shows `content` instead.
    pub fn show(&self, content: BarContent) {
        self.tell(Command::Show(content));
    }

    /// Shows what the technician (`name`) said.
    pub fn heard(&self, name: &str, text: &str) {
        self.tell(Command::Heard(format!("{}: {}", printable(name, 60), printable(text, 2_000))));
    }

    fn tell(&self, command: Command) {
        if self.commands.send(command).is_err() {
            tracing::debug!("the session bar is gone");
        }
    }
}

impl Drop for SessionBar {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Close);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the session bar's thread panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_shared::access::Access;

    #[test]
    fn the_line_says_who_how_and_what_is_in_use() {
        let content = BarContent {
            technician: "Tess\u{1b}[2J Tech".into(),
            mode: SessionMode::Monitor,
            in_use: AccessSet::empty(),
            transfer: None,
        };
        assert_eq!(content.line(), "Tess[2J Tech is connected - Monitor mode");
        let busy = BarContent { in_use: AccessSet::of(&[Access::View, Access::FileTransfer]), ..content.clone() };
        assert_eq!(busy.line(), "Tess[2J Tech is connected - Monitor mode - viewing, transferring a file");
        let moving = BarContent { transfer: Some("a.iso 5% (1.0 MiB/s, 9 s left)".into()), ..busy };
        assert!(moving.line().ends_with("viewing, transferring a.iso 5% (1.0 MiB/s, 9 s left)"));
    }
}
