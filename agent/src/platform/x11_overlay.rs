//! The technician's drawing on the X display (Guidance): an
//! override-redirect window over the whole screen whose SHAPE is only the
//! drawn lines, so everything else shows through, with an empty input
//! shape, so every click and key goes to the windows beneath — the drawing
//! never takes the person's mouse or keyboard. No compositor is needed. It
//! is a window like others, so the technician sees it in their picture.
//! Its own X connection and thread; dropping [`Overlay`] takes it away.

use anyhow::Context;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tether_shared::guidance::Shape;
use x11rb::connection::Connection;
use x11rb::protocol::shape::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{
    CapStyle, ChangeGCAux, ConfigureWindowAux, ConnectionExt as _, CreateGCAux, CreateWindowAux, JoinStyle, Rectangle,
    Segment, StackMode, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// The window's name, for people and tests looking for it.
pub const WINDOW_NAME: &str = "Tether drawing";
/// The lines' colour (a bright orange that reads on light and dark).
const INK: u32 = 0x00ff_6a00;
/// The lines' width, in pixels.
const LINE_WIDTH: u32 = 6;

/// The drawing of one session.
#[derive(Debug)]
pub struct Overlay {
    shapes: mpsc::Sender<Option<Vec<Shape>>>,
    thread: Option<JoinHandle<()>>,
}

impl Overlay {
    /// Opens the (empty, unmapped) drawing window on `display` (or
    /// `$DISPLAY`); fails when the X server cannot be reached or lacks
    /// the SHAPE extension.
    pub fn open(display: Option<&str>) -> anyhow::Result<Self> {
        let (conn, screen_index) = x11rb::connect(display).context("cannot connect to the X server")?;
        conn.shape_query_version()?.reply().context("the X server lacks the SHAPE extension")?;
        let window = DrawingWindow::create(conn, screen_index)?;
        let (shapes, received) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tether-drawing".into())
            .spawn(move || {
                if let Err(err) = window.run(&received) {
                    tracing::warn!(error = format!("{err:#}"), "the drawing window stopped");
                }
            })
            .context("cannot start the drawing thread")?;
        Ok(Self { shapes, thread: Some(thread) })
    }

    /// Shows `shapes` (on the whole screen's pixels) instead of what was
    /// shown; none takes the window off the screen.
    pub fn show(&self, shapes: Vec<Shape>) {
        // The thread is gone only if the X server went away: nothing to draw on.
        let _ = self.shapes.send(Some(shapes));
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        let _ = self.shapes.send(None);
        if let Some(thread) = self.thread.take() {
            // The thread only draws and exits on `None`; it does not block.
            let _ = thread.join();
        }
    }
}

/// The window, owned by its thread.
struct DrawingWindow {
    conn: RustConnection,
    window: Window,
    width: u16,
    height: u16,
    mapped: bool,
}

impl DrawingWindow {
    fn create(conn: RustConnection, screen_index: usize) -> anyhow::Result<Self> {
        let screen = conn.setup().roots.get(screen_index).context("X server has no such screen")?;
        let (root, width, height) = (screen.root, screen.width_in_pixels, screen.height_in_pixels);
        let window = conn.generate_id()?;
        let attributes = CreateWindowAux::new().background_pixel(INK).override_redirect(1);
        conn.create_window(0, window, root, 0, 0, width, height, 0, WindowClass::INPUT_OUTPUT, 0, &attributes)?;
        conn.change_property8(
            x11rb::protocol::xproto::PropMode::REPLACE,
            window,
            x11rb::protocol::xproto::AtomEnum::WM_NAME,
            x11rb::protocol::xproto::AtomEnum::STRING,
            WINDOW_NAME.as_bytes(),
        )?;
        // No input shape: clicks and keys go through to what is beneath.
        conn.shape_rectangles(
            shape::SO::SET,
            shape::SK::INPUT,
            x11rb::protocol::xproto::ClipOrdering::UNSORTED,
            window,
            0,
            0,
            &[],
        )?;
        conn.flush()?;
        Ok(Self { conn, window, width, height, mapped: false })
    }

    fn run(mut self, shapes: &mpsc::Receiver<Option<Vec<Shape>>>) -> anyhow::Result<()> {
        // Ends on `None` (dropped) or when the sender is gone.
        while let Ok(Some(shown)) = shapes.recv() {
            self.draw(&shown)?;
        }
        self.conn.destroy_window(self.window)?;
        self.conn.flush()?;
        Ok(())
    }

    /// Shapes the window to the lines of `shapes`, mapped and on top while
    /// there are any.
    fn draw(&mut self, shapes: &[Shape]) -> anyhow::Result<()> {
        if shapes.is_empty() {
            if self.mapped {
                self.conn.unmap_window(self.window)?;
                self.mapped = false;
            }
            self.conn.flush()?;
            return Ok(());
        }
        let mask = self.conn.generate_id()?;
        self.conn.create_pixmap(1, mask, self.window, self.width, self.height)?;
        let gc = self.conn.generate_id()?;
        self.conn.create_gc(gc, mask, &CreateGCAux::new().foreground(0))?;
        let whole = Rectangle { x: 0, y: 0, width: self.width, height: self.height };
        self.conn.poly_fill_rectangle(mask, gc, &[whole])?;
        let pen = ChangeGCAux::new()
            .foreground(1)
            .line_width(LINE_WIDTH)
            .cap_style(CapStyle::ROUND)
            .join_style(JoinStyle::ROUND);
        self.conn.change_gc(gc, &pen)?;
        let segments: Vec<Segment> = shapes.iter().flat_map(Shape::segments).map(segment).collect();
        // Requests have a size limit: send the lines in pieces.
        for piece in segments.chunks(4_096) {
            self.conn.poly_segment(mask, gc, piece)?;
        }
        self.conn.shape_mask(shape::SO::SET, shape::SK::BOUNDING, self.window, 0, 0, mask)?;
        self.conn.free_gc(gc)?;
        self.conn.free_pixmap(mask)?;
        if !self.mapped {
            self.conn.map_window(self.window)?;
            self.mapped = true;
        }
        self.conn.configure_window(self.window, &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE))?;
        self.conn.flush()?;
        Ok(())
    }
}

/// A line in X's coordinates (which are 16-bit; screens are smaller).
fn segment(([x1, y1], [x2, y2]): ([u32; 2], [u32; 2])) -> Segment {
    let coordinate = |value: u32| i16::try_from(value).unwrap_or(i16::MAX);
    Segment { x1: coordinate(x1), y1: coordinate(y1), x2: coordinate(x2), y2: coordinate(y2) }
}
