//! The technician's live controller: signalling, the WebRTC peer, remote
//! input and stats for one session.
//!
//! Pure logic, tested natively: [`machine`] (connection and reconnection
//! as a state machine), [`control`] (the agent's control messages: applied
//! quality, the remote cursor), [`geometry`] (letterboxing, target pixels
//! and where to draw the cursor), [`mode_request`] (a request to change
//! the session's mode, followed to its outcome), [`tools`] (the clipboard
//! and system tools' answers), [`guide`] (a drag over the picture as a
//! guidance shape), [`transfers`] (the files tool: the folder
//! browsed, each transfer's progress, rate and time left),
//! [`events`] (DOM input to [`tether_shared::input::InputEvent`]s),
//! [`stats`] (`getStats()` figures) and [`codecs`] (the offer's codec
//! order). Browser glue: [`socket`], [`peer`] and [`runtime`], which drives
//! the machine; [`file_tools`] and [`file_io`] move files' bytes.

pub mod codecs;
pub mod control;
pub mod events;
pub mod file_io;
pub mod file_tools;
pub mod geometry;
pub mod guide;
pub mod machine;
pub mod mode_request;
pub mod peer;
pub mod runtime;
pub mod socket;
pub mod stats;
pub mod tools;
pub mod transfers;

/// How the remote screen is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    /// Scaled to fit the window, letterboxed.
    Fit,
    /// One target pixel per device pixel, scrolling when larger than the window.
    OneToOne,
}

impl ViewMode {
    /// The other mode.
    pub fn toggled(self) -> Self {
        match self {
            ViewMode::Fit => ViewMode::OneToOne,
            ViewMode::OneToOne => ViewMode::Fit,
        }
    }

    /// A stable name for styling and tests.
    pub fn key(self) -> &'static str {
        match self {
            ViewMode::Fit => "fit",
            ViewMode::OneToOne => "1:1",
        }
    }
}
