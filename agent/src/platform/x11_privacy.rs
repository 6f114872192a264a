//! The privacy screen on X11. What covers the display is the Composite
//! extension's overlay window: the X server keeps it above every other
//! window, override-redirect ones too (only a screen saver goes higher),
//! and paints it on the monitors. We paint it black with what the screen
//! says ([`big_text`]), give it an empty input shape so the technician's
//! input reaches the windows beneath, and hide the pointer (XFixes), whose
//! moves would show on the black.
//!
//! The technician still sees the real picture: while the screen is up the
//! root's children are redirected (automatically: the server still paints
//! them), so each has its own picture, and capture composes those instead
//! of reading the covered screen (`x11_beneath`); [`Cover`] tells it when.
//!
//! Everything here belongs to the X connection that asked for it, which is
//! the lock's: when the agent exits or is killed the server releases the
//! overlay window, stops redirecting and shows the pointer by itself.
//!
//! Refused where a compositing manager runs (it owns `_NET_WM_CM_S<n>`):
//! it paints the overlay window itself, so nothing we paint would stay.
//! The screen is checked every second and put back if something took it
//! away; a compositing manager starting later ends it, and says so.

use super::big_text;
use super::x11::monitors;
use anyhow::Context;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tether_shared::input::ScreenSize;
use tether_shared::monitor::{Area, Monitor};
use x11rb::connection::Connection;
use x11rb::protocol::composite::{ConnectionExt as _, Redirect};
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::shape::{self, ConnectionExt as _};
use x11rb::protocol::xfixes::ConnectionExt as _;
use x11rb::protocol::xproto::{
    Atom, ChangeGCAux, ChangeWindowAttributesAux, ClipOrdering, ConnectionExt as _, CreateGCAux, EventMask, Gcontext,
    MapState, Rectangle, Window,
};
use x11rb::rust_connection::RustConnection;

const BLACK: u32 = 0x00_00_00;
const WHITE: u32 = 0xff_ff_ff;

/// Which window covers the display while the privacy screen is up, for
/// capture to look beneath it. Cheap to clone; one per session.
#[derive(Debug, Clone, Default)]
pub struct Cover(Arc<AtomicU32>);

impl Cover {
    /// The covering window, while there is one.
    pub fn window(&self) -> Option<Window> {
        Some(self.0.load(Ordering::Acquire)).filter(|window| *window != x11rb::NONE)
    }

    fn set(&self, window: Option<Window>) {
        self.0.store(window.unwrap_or(x11rb::NONE), Ordering::Release);
    }
}

/// The privacy screen, up on the display of the connection it was shown
/// with (which must stay the same for every call).
#[derive(Debug)]
pub struct PrivacyScreen {
    root: Window,
    overlay: Window,
    gc: Gcontext,
    compositing: Atom,
    lines: Vec<String>,
    cover: Cover,
    /// The monitors the text was laid out for.
    monitors: Vec<Monitor>,
}

impl PrivacyScreen {
    /// Covers every monitor of screen `screen_index` with `lines`, and
    /// tells `cover`; fails, with nothing left changed, where the X server
    /// lacks what it takes or a compositing manager runs.
    pub fn show(conn: &RustConnection, screen_index: usize, lines: Vec<String>, cover: &Cover) -> anyhow::Result<Self> {
        let root = conn.setup().roots.get(screen_index).context("X server has no such screen")?.root;
        let composite = conn
            .composite_query_version(0, 4)?
            .reply()
            .context("the X server lacks the Composite extension, which the privacy screen needs")?;
        if (composite.major_version, composite.minor_version) < (0, 3) {
            anyhow::bail!(
                "Composite {}.{} is too old for the privacy screen; 0.3 is needed",
                composite.major_version,
                composite.minor_version
            );
        }
        conn.xfixes_query_version(4, 0)?.reply().context("the X server lacks XFixes 4")?;
        conn.shape_query_version()?.reply().context("the X server lacks the SHAPE extension")?;
        conn.randr_query_version(1, 5)?.reply().context("the X server lacks RandR")?;
        let name = format!("_NET_WM_CM_S{screen_index}");
        let compositing = conn.intern_atom(false, name.as_bytes())?.reply()?.atom;
        if compositing_manager_runs(conn, compositing)? {
            anyhow::bail!(
                "a compositing manager runs on this display and paints the whole screen itself, so nothing can be \
                 kept over it"
            );
        }
        conn.composite_redirect_subwindows(root, Redirect::AUTOMATIC)?
            .check()
            .context("the windows cannot be redirected, so the technician could not see beneath the screen")?;
        let overlay = conn.composite_get_overlay_window(root)?.reply().context("no overlay window")?.overlay_win;
        let gc = conn.generate_id()?;
        let mut screen = Self { root, overlay, gc, compositing, lines, cover: cover.clone(), monitors: Vec::new() };
        if let Err(err) = screen.cover_up(conn) {
            screen.hide(conn);
            return Err(err);
        }
        Ok(screen)
    }

    /// Makes the overlay window ours: passing input through, black, and
    /// watched for exposure; hides the pointer and paints.
    fn cover_up(&mut self, conn: &RustConnection) -> anyhow::Result<()> {
        conn.shape_rectangles(shape::SO::SET, shape::SK::INPUT, ClipOrdering::UNSORTED, self.overlay, 0, 0, &[])?;
        let attributes = ChangeWindowAttributesAux::new().background_pixel(BLACK).event_mask(EventMask::EXPOSURE);
        conn.change_window_attributes(self.overlay, &attributes)?;
        conn.create_gc(self.gc, self.overlay, &CreateGCAux::new().foreground(BLACK))?;
        conn.xfixes_hide_cursor(self.root)?;
        self.paint(conn)?;
        self.cover.set(Some(self.overlay));
        Ok(())
    }

    /// The window that covers the display.
    pub fn window(&self) -> Window {
        self.overlay
    }

    /// How many monitors it covers (the whole screen counts as one).
    pub fn monitors(&self) -> usize {
        self.monitors.len().max(1)
    }

    /// Paints the whole screen black and the text on each monitor, and
    /// waits until the X server did.
    pub fn paint(&mut self, conn: &RustConnection) -> anyhow::Result<()> {
        let geometry = conn.get_geometry(self.root)?.reply()?;
        let screen = ScreenSize { width: u32::from(geometry.width), height: u32::from(geometry.height) };
        self.monitors = monitors(conn, self.root);
        let areas: Vec<Area> = if self.monitors.is_empty() {
            vec![Area::whole(screen)]
        } else {
            self.monitors.iter().map(|monitor| monitor.area().cut_to(screen)).collect()
        };
        conn.change_gc(self.gc, &ChangeGCAux::new().foreground(BLACK))?;
        let whole = Rectangle { x: 0, y: 0, width: geometry.width, height: geometry.height };
        conn.poly_fill_rectangle(self.overlay, self.gc, &[whole])?;
        conn.change_gc(self.gc, &ChangeGCAux::new().foreground(WHITE))?;
        for area in areas {
            let blocks: Vec<Rectangle> =
                big_text::layout(&self.lines, area).into_iter().filter_map(rectangle).collect();
            // Requests have a size limit: send the text in pieces.
            for piece in blocks.chunks(4_096) {
                conn.poly_fill_rectangle(self.overlay, self.gc, piece)?;
            }
        }
        // A round trip: everything above is done once it returns.
        conn.get_input_focus()?.reply()?;
        Ok(())
    }

    /// Checks that the screen still covers the display: puts the overlay
    /// window back if something unmapped it and repaints when the monitors
    /// changed. `Err` (the screen is gone then) when a compositing manager
    /// started, which would paint over it.
    pub fn keep(&mut self, conn: &RustConnection) -> anyhow::Result<()> {
        if compositing_manager_runs(conn, self.compositing)? {
            self.hide(conn);
            anyhow::bail!("a compositing manager started on this display, so the privacy screen could not stay");
        }
        let mapped = conn.get_window_attributes(self.overlay)?.reply()?.map_state == MapState::VIEWABLE;
        if !mapped {
            tracing::warn!("the privacy screen was taken off the display: putting it back");
            conn.map_window(self.overlay)?;
        }
        if !mapped || monitors(conn, self.root) != self.monitors {
            self.paint(conn)?;
        }
        Ok(())
    }

    /// Takes the screen away: the display shows what it shows, the pointer
    /// too. Errors only mean the X server is gone, which took it away.
    pub fn hide(&self, conn: &RustConnection) {
        self.cover.set(None);
        let undone = (|| -> Result<(), x11rb::errors::ConnectionError> {
            conn.composite_release_overlay_window(self.root)?;
            conn.composite_unredirect_subwindows(self.root, Redirect::AUTOMATIC)?;
            conn.xfixes_show_cursor(self.root)?;
            conn.free_gc(self.gc)?;
            conn.flush()
        })();
        if let Err(err) = undone {
            tracing::debug!(error = %err, "the X server went away with the privacy screen");
        }
    }
}

/// Whether a compositing manager owns the selection `compositing`.
fn compositing_manager_runs(conn: &RustConnection, compositing: Atom) -> anyhow::Result<bool> {
    Ok(conn.get_selection_owner(compositing)?.reply()?.owner != x11rb::NONE)
}

/// A block in X's 16-bit coordinates (screens are smaller).
fn rectangle(block: big_text::Block) -> Option<Rectangle> {
    Some(Rectangle {
        x: i16::try_from(block.x).ok()?,
        y: i16::try_from(block.y).ok()?,
        width: u16::try_from(block.width).ok()?,
        height: u16::try_from(block.height).ok()?,
    })
}
