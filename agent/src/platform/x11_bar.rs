//! The session bar on the X display: while a session runs, a small window
//! at the top of the screen, above the others, says who is connected and
//! in which mode, and holds a large red **X** that ends the session. It is
//! a native window of its own (its own X connection and thread), so it
//! does not depend on a browser being open; the technician sees it in
//! their picture too. Dragging its text moves it; clicking its text folds
//! it to a small "Tether" tab (the X stays) and back.
//!
//! Where things are on the bar and what a press means are pure
//! ([`Layout`], [`Press`]); the thread only draws it, moves it and turns a
//! click on the X into the caller's `on_end`.

use anyhow::Context;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use tether_shared::mode::SessionMode;
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    AtomEnum, ChangeGCAux, ConfigureWindowAux, ConnectionExt as _, CreateGCAux, CreateWindowAux, EventMask, PropMode,
    Rectangle, Segment, StackMode, Visibility, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// The bar's window name, for people and tests looking for it.
pub const WINDOW_NAME: &str = "Tether session";

/// What the bar says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarContent {
    pub technician: String,
    pub mode: SessionMode,
}

impl BarContent {
    /// The bar's line: who, and how.
    pub fn line(&self) -> String {
        let technician: String = self.technician.chars().filter(|c| !c.is_control()).take(60).collect();
        format!("{technician} is connected - {} mode", self.mode.name())
    }
}

/// Where things are on a bar of a given text width, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub width: u16,
    pub height: u16,
    /// The red X: its left edge (it runs to the right edge).
    pub end_x: u16,
}

/// Width of one character of the core `fixed` font, and its baseline.
const CHAR_WIDTH: u16 = 6;
const BASELINE: i16 = 21;
const PADDING: u16 = 12;
const HEIGHT: u16 = 32;
const END_WIDTH: u16 = 44;

impl Layout {
    /// The bar for `line`.
    pub fn for_line(line: &str) -> Self {
        let text = u16::try_from(line.chars().count()).unwrap_or(u16::MAX).saturating_mul(CHAR_WIDTH);
        let end_x = PADDING.saturating_add(text).saturating_add(PADDING);
        Layout { width: end_x.saturating_add(END_WIDTH), height: HEIGHT, end_x }
    }

    /// Whether a click at (`x`, `y`) in the bar is on the X.
    pub fn is_end(&self, x: i16, y: i16) -> bool {
        let (Ok(x), Ok(y)) = (u16::try_from(x), u16::try_from(y)) else { return false };
        x >= self.end_x && x < self.width && y < self.height
    }
}

/// The folded bar's text.
const FOLDED_LINE: &str = "Tether";
/// How far the pointer may move before a press on the text is a drag.
const DRAG_SLOP: i16 = 3;

/// A press on the bar's text, until the button comes up: a drag moves the
/// bar, a click (it hardly moved) folds or unfolds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Press {
    /// Where the pointer went down, on the screen.
    pub from: (i16, i16),
    /// Where the bar was then.
    pub bar_at: (i16, i16),
    /// Whether it has moved past the slop: a drag.
    pub dragging: bool,
}

impl Press {
    /// The pointer is at `to` on the screen: where the bar goes, once it
    /// is a drag.
    pub fn moved_to(&mut self, to: (i16, i16)) -> Option<(i16, i16)> {
        let (dx, dy) = (to.0.saturating_sub(self.from.0), to.1.saturating_sub(self.from.1));
        if !self.dragging && dx.abs() <= DRAG_SLOP && dy.abs() <= DRAG_SLOP {
            return None;
        }
        self.dragging = true;
        Some((self.bar_at.0.saturating_add(dx), self.bar_at.1.saturating_add(dy)))
    }
}

/// `at` kept so a `size` bar stays wholly on a `screen`-sized screen.
pub fn on_screen(at: (i16, i16), size: (u16, u16), screen: (u16, u16)) -> (i16, i16) {
    let most = |screen: u16, size: u16| i16::try_from(screen.saturating_sub(size)).unwrap_or(i16::MAX);
    (at.0.clamp(0, most(screen.0, size.0)), at.1.clamp(0, most(screen.1, size.1)))
}

/// What the bar's thread is told.
#[derive(Debug)]
enum Command {
    Show(BarContent),
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
    /// the person clicks its X.
    pub fn open(
        display: Option<&str>,
        content: BarContent,
        on_end: impl FnOnce() + Send + 'static,
    ) -> anyhow::Result<Self> {
        let (conn, screen) = x11rb::connect(display).context("cannot connect to the X server for the session bar")?;
        let (commands, receiver) = mpsc::channel();
        let window = BarWindow::create(&conn, screen, &content)?;
        let thread = std::thread::Builder::new()
            .name("session-bar".into())
            .spawn(move || {
                let mut bar = Bar {
                    conn,
                    window,
                    layout: Layout::for_line(&content.line()),
                    at: window.at,
                    folded: false,
                    press: None,
                    content,
                    on_end: Some(on_end),
                };
                if let Err(err) = bar.run(&receiver) {
                    tracing::warn!(error = format!("{err:#}"), "the session bar stopped");
                }
            })
            .context("cannot start the session bar's thread")?;
        Ok(Self { commands, thread: Some(thread) })
    }

    /// Shows `content` instead.
    pub fn show(&self, content: BarContent) {
        if self.commands.send(Command::Show(content)).is_err() {
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

/// The bar's window and what it shows, owned by its thread.
struct Bar<F: FnOnce()> {
    conn: RustConnection,
    window: BarWindow,
    layout: Layout,
    /// Where the bar is on the screen.
    at: (i16, i16),
    folded: bool,
    press: Option<Press>,
    content: BarContent,
    on_end: Option<F>,
}

/// The X resources of the bar.
#[derive(Debug, Clone, Copy)]
struct BarWindow {
    id: Window,
    root_width: u16,
    root_height: u16,
    /// Where it was created.
    at: (i16, i16),
    gc: u32,
    red: u32,
    white: u32,
    dark: u32,
}

impl BarWindow {
    /// Creates the bar's window, mapped, at the top centre of the screen.
    fn create(conn: &RustConnection, screen: usize, content: &BarContent) -> anyhow::Result<BarWindow> {
        let screen = conn.setup().roots.get(screen).context("the X server has no such screen")?;
        let layout = Layout::for_line(&content.line());
        let id = conn.generate_id()?;
        let (dark, red, white) = (0x0f_17_2a, 0xdc_26_26, 0xff_ff_ff);
        let events = EventMask::EXPOSURE
            | EventMask::BUTTON_PRESS
            | EventMask::BUTTON_RELEASE
            | EventMask::BUTTON1_MOTION
            | EventMask::VISIBILITY_CHANGE;
        // Override-redirect: no window manager moves, hides or decorates it.
        let attributes = CreateWindowAux::new().background_pixel(dark).override_redirect(1).event_mask(events);
        let x = i16::try_from(screen.width_in_pixels.saturating_sub(layout.width) / 2).unwrap_or(0);
        conn.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            id,
            screen.root,
            x,
            0,
            layout.width,
            layout.height,
            0,
            WindowClass::INPUT_OUTPUT,
            x11rb::COPY_FROM_PARENT,
            &attributes,
        )?;
        conn.change_property8(PropMode::REPLACE, id, AtomEnum::WM_NAME, AtomEnum::STRING, WINDOW_NAME.as_bytes())?;
        let font = conn.generate_id()?;
        conn.open_font(font, b"fixed")?;
        let gc = conn.generate_id()?;
        conn.create_gc(gc, id, &CreateGCAux::new().font(font).foreground(white).background(dark).line_width(3))?;
        conn.close_font(font)?;
        conn.map_window(id)?;
        conn.flush()?;
        Ok(BarWindow {
            id,
            root_width: screen.width_in_pixels,
            root_height: screen.height_in_pixels,
            at: (x, 0),
            gc,
            red,
            white,
            dark,
        })
    }
}

/// How often the thread looks for commands between X events.
const TICK: Duration = Duration::from_millis(50);

impl<F: FnOnce()> Bar<F> {
    fn run(&mut self, commands: &mpsc::Receiver<Command>) -> anyhow::Result<()> {
        self.draw()?;
        loop {
            match commands.recv_timeout(TICK) {
                Ok(Command::Show(content)) => self.show(content)?,
                Ok(Command::Close) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            while let Some(event) = self.conn.poll_for_event()? {
                self.on_event(event)?;
            }
        }
        self.conn.destroy_window(self.window.id)?;
        self.conn.flush()?;
        Ok(())
    }

    fn on_event(&mut self, event: Event) -> anyhow::Result<()> {
        match event {
            Event::Expose(expose) if expose.count == 0 => self.draw()?,
            Event::ButtonPress(press) if self.layout.is_end(press.event_x, press.event_y) => {
                if let Some(on_end) = self.on_end.take() {
                    tracing::info!("the person clicked the session bar's X");
                    on_end();
                }
            }
            Event::ButtonPress(press) => {
                self.press = Some(Press { from: (press.root_x, press.root_y), bar_at: self.at, dragging: false });
            }
            Event::MotionNotify(motion) => {
                if let Some(to) = self.press.as_mut().and_then(|press| press.moved_to((motion.root_x, motion.root_y))) {
                    self.move_to(to)?;
                }
            }
            Event::ButtonRelease(_) => {
                // Every release ends the press; only a click folds.
                let clicked = self.press.take().is_some_and(|press| !press.dragging);
                if clicked {
                    self.folded = !self.folded;
                    self.relayout()?;
                }
            }
            // Something covered the bar: back on top.
            Event::VisibilityNotify(notify) if notify.state != Visibility::UNOBSCURED => {
                self.conn.configure_window(self.window.id, &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE))?;
                self.conn.flush()?;
            }
            _ => {}
        }
        Ok(())
    }

    fn show(&mut self, content: BarContent) -> anyhow::Result<()> {
        self.content = content;
        self.relayout()
    }

    /// The text shown: the whole line, or the folded tab's.
    fn line(&self) -> String {
        if self.folded { FOLDED_LINE.to_owned() } else { self.content.line() }
    }

    /// Sizes the bar to its text, kept on the screen, and draws it again.
    fn relayout(&mut self) -> anyhow::Result<()> {
        self.layout = Layout::for_line(&self.line());
        self.move_to(self.at)?;
        self.conn.configure_window(self.window.id, &ConfigureWindowAux::new().width(u32::from(self.layout.width)))?;
        self.conn.clear_area(false, self.window.id, 0, 0, 0, 0)?;
        self.draw()
    }

    /// Moves the bar to `to`, kept wholly on the screen.
    fn move_to(&mut self, to: (i16, i16)) -> anyhow::Result<()> {
        let size = (self.layout.width, self.layout.height);
        self.at = on_screen(to, size, (self.window.root_width, self.window.root_height));
        let place = ConfigureWindowAux::new().x(i32::from(self.at.0)).y(i32::from(self.at.1));
        self.conn.configure_window(self.window.id, &place)?;
        self.conn.flush()?;
        Ok(())
    }

    fn draw(&self) -> anyhow::Result<()> {
        let BarWindow { id, gc, red, white, dark, .. } = self.window;
        let Layout { width, height, end_x } = self.layout;
        let conn = &self.conn;
        conn.change_gc(gc, &ChangeGCAux::new().foreground(white).background(dark))?;
        let line = self.line();
        let text: Vec<u8> = line.chars().map(|c| if c.is_ascii() { c as u8 } else { b'?' }).take(255).collect();
        conn.image_text8(id, gc, i16::try_from(PADDING).unwrap_or(0), BASELINE, &text)?;
        conn.change_gc(gc, &ChangeGCAux::new().foreground(red))?;
        let end = Rectangle { x: i16::try_from(end_x).unwrap_or(0), y: 0, width: width - end_x, height };
        conn.poly_fill_rectangle(id, gc, &[end])?;
        conn.change_gc(gc, &ChangeGCAux::new().foreground(white))?;
        let (left, right) = (end.x + 13, end.x + i16::try_from(END_WIDTH).unwrap_or(44) - 13);
        let (top, bottom) = (8, i16::try_from(height).unwrap_or(32) - 8);
        let cross = [
            Segment { x1: left, y1: top, x2: right, y2: bottom },
            Segment { x1: left, y1: bottom, x2: right, y2: top },
        ];
        conn.poly_segment(id, gc, &cross)?;
        conn.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_press_is_a_click_until_it_moves_past_the_slop_and_then_drags_the_bar() {
        let mut press = Press { from: (100, 10), bar_at: (400, 0), dragging: false };
        assert_eq!(press.moved_to((102, 12)), None, "a shaky click");
        assert!(!press.dragging);
        assert_eq!(press.moved_to((150, 60)), Some((450, 50)));
        assert_eq!(press.moved_to((101, 11)), Some((401, 1)), "once dragging, every move counts");
    }

    #[test]
    fn the_bar_stays_wholly_on_the_screen() {
        assert_eq!(on_screen((-20, -5), (300, 32), (1280, 720)), (0, 0));
        assert_eq!(on_screen((1200, 700), (300, 32), (1280, 720)), (980, 688));
        assert_eq!(on_screen((10, 10), (2000, 32), (1280, 720)), (0, 10), "wider than the screen: at its left");
    }

    #[test]
    fn the_x_is_the_bars_right_end_and_the_line_says_who_and_how() {
        let content = BarContent { technician: "Tess\u{1b}[2J Tech".into(), mode: SessionMode::Monitor };
        assert_eq!(content.line(), "Tess[2J Tech is connected - Monitor mode");
        let layout = Layout::for_line(&content.line());
        assert_eq!(layout.width, layout.end_x + END_WIDTH);
        assert!(layout.is_end(i16::try_from(layout.end_x).unwrap_or(0) + 5, 10));
        assert!(!layout.is_end(i16::try_from(layout.end_x).unwrap_or(0) - 1, 10), "the text is not the X");
        assert!(!layout.is_end(-3, 10));
        assert!(!layout.is_end(i16::try_from(layout.width).unwrap_or(0), 10), "past the bar");
    }
}
