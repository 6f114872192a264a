//! X11 screen capture (the whole screen or one area of it, e.g. a
//! monitor) through MIT-SHM: the X server writes each frame
//! straight into a shared-memory segment it created (`ShmCreateSegment`),
//! which costs about 2 ms per 1080p frame, against ~35 ms for `GetImage`.
//!
//! X DAMAGE ([`DamageTracker`]) says whether anything was drawn since the
//! last grab, so that a still screen is not grabbed at all. While the
//! privacy screen covers the display ([`Cover`]), the picture is composed
//! from the windows beneath it instead (`x11_beneath`).
//!
//! The one `unsafe` block maps that segment into our address space.

#![allow(unsafe_code)]

use super::x11_beneath;
use super::x11_damage::DamageTracker;
use super::x11_privacy::Cover;
use super::{Damage, Layout, ScreenCapture};
use crate::frame::Frame;
use anyhow::Context;
use memmap2::{Mmap, MmapOptions};
use tether_shared::input::ScreenSize;
use tether_shared::monitor::Area;
use x11rb::connection::Connection;
use x11rb::protocol::shm::ConnectionExt as _;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

/// A shared-memory segment sized for one screen.
struct Segment {
    id: u32,
    map: Mmap,
    width: u16,
    height: u16,
}

/// Grabs the whole X screen.
pub struct X11Capturer {
    conn: RustConnection,
    root: Window,
    segment: Option<Segment>,
    damage: Option<DamageTracker>,
    cover: Cover,
}

impl std::fmt::Debug for X11Capturer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11Capturer").field("root", &self.root).finish_non_exhaustive()
    }
}

impl X11Capturer {
    /// Connects to `display` (or `$DISPLAY`) and checks for MIT-SHM 1.2.
    pub fn open(display: Option<&str>) -> anyhow::Result<Self> {
        let (conn, screen_index) = x11rb::connect(display).context("cannot connect to the X server")?;
        let root = conn.setup().roots.get(screen_index).context("X server has no such screen")?.root;
        let version =
            conn.shm_query_version().context("MIT-SHM")?.reply().context("the X server lacks the MIT-SHM extension")?;
        if (version.major_version, version.minor_version) < (1, 2) {
            anyhow::bail!("MIT-SHM {}.{} is too old; 1.2 is needed", version.major_version, version.minor_version);
        }
        let damage = DamageTracker::open(&conn, root)?;
        Ok(Self { conn, root, segment: None, damage, cover: Cover::default() })
    }

    /// Looks beneath the privacy screen `cover` tells of, while it is up.
    pub fn beneath(mut self, cover: Cover) -> Self {
        self.cover = cover;
        self
    }

    /// The screen's current size.
    fn screen_size(&self) -> anyhow::Result<(u16, u16)> {
        let geometry = self.conn.get_geometry(self.root)?.reply()?;
        Ok((geometry.width, geometry.height))
    }

    fn segment_for(&mut self, width: u16, height: u16) -> anyhow::Result<&Segment> {
        if self.segment.as_ref().is_none_or(|s| (s.width, s.height) != (width, height)) {
            if let Some(old) = self.segment.take() {
                self.conn.shm_detach(old.id)?;
            }
            let size = usize::from(width) * usize::from(height) * 4;
            let id = self.conn.generate_id()?;
            let reply = self
                .conn
                .shm_create_segment(id, u32::try_from(size)?, false)?
                .reply()
                .context("the X server cannot create a shared-memory segment")?;
            let file = std::fs::File::from(reply.shm_fd);
            // SAFETY: the segment is `size` bytes, created for us by the X
            // server; only the server writes it, and only while we wait for
            // a ShmGetImage reply, so no write races our reads of `map`.
            let map = unsafe { MmapOptions::new().len(size).map(&file) }.context("cannot map the segment")?;
            self.segment = Some(Segment { id, map, width, height });
        }
        self.segment.as_ref().context("segment")
    }

    /// Captures `area` of the screen (all of it when `None`; cut to the
    /// screen as it is now) into `frame`, reusing its buffer.
    pub fn grab_into(&mut self, frame: &mut Frame, area: Option<Area>) -> anyhow::Result<()> {
        let (screen_width, screen_height) = self.screen_size()?;
        let screen = ScreenSize { width: u32::from(screen_width), height: u32::from(screen_height) };
        let area = area.unwrap_or(Area::whole(screen)).cut_to(screen);
        // Within the screen, so within u16 and i16.
        let (x, y) = (i16::try_from(area.x)?, i16::try_from(area.y)?);
        let (width, height) = (u16::try_from(area.width)?, u16::try_from(area.height)?);
        let (root, id) = (self.root, self.segment_for(width, height)?.id);
        if let Some(damage) = &mut self.damage {
            damage.reset(&self.conn)?;
        }
        if let Some(cover) = self.cover.window() {
            let segment = self.segment.as_ref().context("segment")?;
            match x11_beneath::compose(&self.conn, root, cover, area, (segment.id, &segment.map), frame) {
                Ok(()) => return Ok(()),
                // The technician sees the cover for a frame: nothing the room should not.
                Err(err) => tracing::warn!(error = format!("{err:#}"), "cannot look beneath the privacy screen"),
            }
        }
        let reply = self
            .conn
            .shm_get_image(root, x, y, width, height, u32::MAX, ImageFormat::Z_PIXMAP.into(), id, 0)?
            .reply()
            .context("ShmGetImage failed")?;
        if reply.depth != 24 && reply.depth != 32 {
            anyhow::bail!("unsupported screen depth {}", reply.depth);
        }
        let segment = self.segment.as_ref().context("segment")?;
        frame.width = usize::from(width);
        frame.height = usize::from(height);
        frame.data.clear();
        frame.data.extend_from_slice(&segment.map[..frame.width * frame.height * 4]);
        Ok(())
    }

    /// Whether anything was drawn since the last grab, as far as DAMAGE
    /// tells (never blocks).
    pub fn damage(&mut self) -> anyhow::Result<Damage> {
        let Some(tracker) = &mut self.damage else {
            return Ok(Damage::Unknown);
        };
        Ok(if tracker.poll(&self.conn)? { Damage::Drawn } else { Damage::Still })
    }

    /// Captures the whole screen into a new frame.
    pub fn grab(&mut self) -> anyhow::Result<Frame> {
        let mut frame = Frame::default();
        self.grab_into(&mut frame, None)?;
        Ok(frame)
    }
}

impl ScreenCapture for X11Capturer {
    fn grab_into(&mut self, frame: &mut Frame, area: Option<Area>) -> anyhow::Result<()> {
        X11Capturer::grab_into(self, frame, area)
    }

    fn damage(&mut self) -> anyhow::Result<Damage> {
        X11Capturer::damage(self)
    }

    fn layout(&mut self) -> anyhow::Result<Option<Layout>> {
        let (width, height) = self.screen_size()?;
        let screen = ScreenSize { width: u32::from(width), height: u32::from(height) };
        Ok(Some(Layout { screen, monitors: super::x11::monitors(&self.conn, self.root) }))
    }
}

impl Drop for X11Capturer {
    fn drop(&mut self) {
        if let Some(segment) = self.segment.take() {
            // The connection is going away too; a failure here changes nothing.
            let _ = self.conn.shm_detach(segment.id);
        }
    }
}
