//! The session bar's thread: its override-redirect window, kept above the
//! others, drawn with the core `fixed` font; clicks and keys turned into
//! moves, folds, the chat row, a line sent, and the end of the session.

use super::chat::{ChatField, Typed, key_of};
use super::layout::{BASELINE, CHAR_WIDTH, END_WIDTH, Layout, PADDING, Press, ROW, Spot, on_screen, tail};
use super::{BarContent, Command, HEARD_PROPERTY, TEXT_PROPERTY, WINDOW_NAME};
use anyhow::Context;
use std::sync::mpsc;
use std::time::Duration;
use x11rb::CURRENT_TIME;
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    ChangeGCAux, ConfigureWindowAux, ConnectionExt as _, CreateGCAux, CreateWindowAux, EventMask, InputFocus,
    KeyButMask, PropMode, Rectangle, Segment, StackMode, Visibility, Window, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// The folded bar's text.
const FOLDED_LINE: &str = "Tether";
/// How often the thread looks for commands between X events.
const TICK: Duration = Duration::from_millis(50);
const DARK: u32 = 0x0f_17_2a;
const SLATE: u32 = 0x33_41_55;
const RED: u32 = 0xdc_26_26;
const WHITE: u32 = 0xff_ff_ff;
const GREY: u32 = 0xcb_d5_e1;

/// The bar, owned by its thread.
pub struct Bar {
    conn: RustConnection,
    id: Window,
    gc: u32,
    screen: (u16, u16),
    atoms: Atoms,
    keys: Keys,
    layout: Layout,
    /// Where the bar is on the screen.
    at: (i16, i16),
    folded: bool,
    press: Option<Press>,
    content: BarContent,
    chat_open: bool,
    field: ChatField,
    /// The technician's last line.
    heard: Option<String>,
    /// Lines heard while the chat row was closed.
    unread: u32,
    on_end: Option<Box<dyn FnOnce() + Send>>,
    on_chat: Box<dyn Fn(String) + Send>,
}

#[derive(Clone, Copy)]
struct Atoms {
    text: u32,
    heard: u32,
    utf8: u32,
}

/// The keyboard's keysyms, to read what a key press types.
struct Keys {
    min_keycode: u8,
    per_keycode: u8,
    keysyms: Vec<u32>,
}

impl Keys {
    /// The keysym of `keycode` with the state's Shift.
    fn keysym(&self, keycode: u8, state: KeyButMask) -> u32 {
        let per = usize::from(self.per_keycode);
        let base = usize::from(keycode.saturating_sub(self.min_keycode)) * per;
        let shifted = state.contains(KeyButMask::SHIFT) && per > 1;
        let pick = |index: usize| self.keysyms.get(base + index).copied().unwrap_or(0);
        match (shifted, pick(1)) {
            (true, upper) if upper != 0 => upper,
            _ => pick(0),
        }
    }
}

impl Bar {
    /// Creates the bar's window, mapped, at the top centre of the screen.
    pub fn create(
        conn: RustConnection,
        screen: usize,
        content: BarContent,
        on_end: Box<dyn FnOnce() + Send>,
        on_chat: Box<dyn Fn(String) + Send>,
    ) -> anyhow::Result<Bar> {
        let root = conn.setup().roots.get(screen).context("the X server has no such screen")?.clone();
        let layout = Layout::new(&content.line(), false);
        let id = conn.generate_id()?;
        let events = EventMask::EXPOSURE
            | EventMask::BUTTON_PRESS
            | EventMask::BUTTON_RELEASE
            | EventMask::BUTTON1_MOTION
            | EventMask::KEY_PRESS
            | EventMask::VISIBILITY_CHANGE;
        // Override-redirect: no window manager moves, hides or decorates it.
        let attributes = CreateWindowAux::new().background_pixel(DARK).override_redirect(1).event_mask(events);
        let x = i16::try_from(root.width_in_pixels.saturating_sub(layout.width) / 2).unwrap_or(0);
        conn.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            id,
            root.root,
            x,
            0,
            layout.width,
            layout.height,
            0,
            WindowClass::INPUT_OUTPUT,
            x11rb::COPY_FROM_PARENT,
            &attributes,
        )?;
        conn.change_property8(
            PropMode::REPLACE,
            id,
            x11rb::protocol::xproto::AtomEnum::WM_NAME,
            x11rb::protocol::xproto::AtomEnum::STRING,
            WINDOW_NAME.as_bytes(),
        )?;
        let intern =
            |name: &str| -> anyhow::Result<u32> { Ok(conn.intern_atom(false, name.as_bytes())?.reply()?.atom) };
        let atoms =
            Atoms { text: intern(TEXT_PROPERTY)?, heard: intern(HEARD_PROPERTY)?, utf8: intern("UTF8_STRING")? };
        let font = conn.generate_id()?;
        conn.open_font(font, b"fixed")?;
        let gc = conn.generate_id()?;
        conn.create_gc(gc, id, &CreateGCAux::new().font(font).foreground(WHITE).background(DARK).line_width(3))?;
        conn.close_font(font)?;
        let setup = conn.setup();
        let (min_keycode, max_keycode) = (setup.min_keycode, setup.max_keycode);
        let mapping = conn.get_keyboard_mapping(min_keycode, max_keycode - min_keycode + 1)?.reply()?;
        let keys = Keys { min_keycode, per_keycode: mapping.keysyms_per_keycode, keysyms: mapping.keysyms };
        conn.map_window(id)?;
        conn.flush()?;
        let bar = Bar {
            conn,
            id,
            gc,
            screen: (root.width_in_pixels, root.height_in_pixels),
            atoms,
            keys,
            layout,
            at: (x, 0),
            folded: false,
            press: None,
            content,
            chat_open: false,
            field: ChatField::default(),
            heard: None,
            unread: 0,
            on_end: Some(on_end),
            on_chat,
        };
        bar.set_properties()?;
        Ok(bar)
    }

    pub fn run(&mut self, commands: &mpsc::Receiver<Command>) -> anyhow::Result<()> {
        self.draw()?;
        loop {
            match commands.recv_timeout(TICK) {
                Ok(Command::Show(content)) => {
                    self.content = content;
                    self.relayout()?;
                }
                Ok(Command::Heard(line)) => self.heard(line)?,
                Ok(Command::Close) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            while let Some(event) = self.conn.poll_for_event()? {
                self.on_event(event)?;
            }
        }
        if self.chat_open {
            self.release_focus()?;
        }
        self.conn.destroy_window(self.id)?;
        self.conn.flush()?;
        Ok(())
    }

    fn on_event(&mut self, event: Event) -> anyhow::Result<()> {
        match event {
            Event::Expose(expose) if expose.count == 0 => self.draw()?,
            Event::ButtonPress(press) => match self.layout.spot(press.event_x, press.event_y) {
                Spot::End => {
                    if let Some(on_end) = self.on_end.take() {
                        tracing::info!("the person clicked the session bar's X");
                        on_end();
                    }
                }
                Spot::Chat => self.toggle_chat()?,
                Spot::ChatRows => self.take_focus()?,
                Spot::Text => {
                    self.press = Some(Press { from: (press.root_x, press.root_y), bar_at: self.at, dragging: false });
                }
                Spot::Outside => {}
            },
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
            Event::KeyPress(key) if self.chat_open => {
                let Some(key) = key_of(self.keys.keysym(key.detail, key.state)) else { return Ok(()) };
                match self.field.press(key) {
                    Typed::Changed => {}
                    Typed::Send(line) => (self.on_chat)(line),
                    Typed::Close => return self.toggle_chat(),
                }
                self.redraw()?;
            }
            // Something covered the bar: back on top.
            Event::VisibilityNotify(notify) if notify.state != Visibility::UNOBSCURED => {
                self.conn.configure_window(self.id, &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE))?;
                self.conn.flush()?;
            }
            _ => {}
        }
        Ok(())
    }

    fn heard(&mut self, line: String) -> anyhow::Result<()> {
        self.conn.change_property8(PropMode::REPLACE, self.id, self.atoms.heard, self.atoms.utf8, line.as_bytes())?;
        self.heard = Some(line);
        if !self.chat_open {
            self.unread += 1;
        }
        self.redraw()
    }

    fn toggle_chat(&mut self) -> anyhow::Result<()> {
        self.chat_open = !self.chat_open;
        if self.chat_open {
            self.unread = 0;
            self.take_focus()?;
        } else {
            self.release_focus()?;
        }
        self.relayout()
    }

    /// Typing goes to the bar (an override-redirect window gets the
    /// keyboard only when it takes it).
    fn take_focus(&self) -> anyhow::Result<()> {
        self.conn.set_input_focus(InputFocus::PARENT, self.id, CURRENT_TIME)?;
        self.conn.flush()?;
        Ok(())
    }

    /// Typing goes back to wherever the pointer is.
    fn release_focus(&self) -> anyhow::Result<()> {
        self.conn.set_input_focus(InputFocus::POINTER_ROOT, u32::from(InputFocus::POINTER_ROOT), CURRENT_TIME)?;
        self.conn.flush()?;
        Ok(())
    }

    /// The top row's text: the whole line, or the folded tab's.
    fn line(&self) -> String {
        if self.folded { FOLDED_LINE.to_owned() } else { self.content.line() }
    }

    fn set_properties(&self) -> anyhow::Result<()> {
        let line = self.content.line();
        self.conn.change_property8(PropMode::REPLACE, self.id, self.atoms.text, self.atoms.utf8, line.as_bytes())?;
        Ok(())
    }

    /// Sizes the bar to what it shows, kept on the screen, and draws it.
    fn relayout(&mut self) -> anyhow::Result<()> {
        self.layout = Layout::new(&self.line(), self.chat_open);
        self.set_properties()?;
        self.move_to(self.at)?;
        let size = ConfigureWindowAux::new().width(u32::from(self.layout.width)).height(u32::from(self.layout.height));
        self.conn.configure_window(self.id, &size)?;
        self.redraw()
    }

    /// Moves the bar to `to`, kept wholly on the screen.
    fn move_to(&mut self, to: (i16, i16)) -> anyhow::Result<()> {
        self.at = on_screen(to, (self.layout.width, self.layout.height), self.screen);
        let place = ConfigureWindowAux::new().x(i32::from(self.at.0)).y(i32::from(self.at.1));
        self.conn.configure_window(self.id, &place)?;
        self.conn.flush()?;
        Ok(())
    }

    fn text(&self, x: u16, row: u16, text: &str, color: u32, background: u32) -> anyhow::Result<()> {
        self.conn.change_gc(self.gc, &ChangeGCAux::new().foreground(color).background(background))?;
        // The core font is Latin-1: anything else shows as '?'.
        let bytes: Vec<u8> = text.chars().map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?')).take(255).collect();
        let y = i16::try_from(row * ROW).unwrap_or(0) + BASELINE;
        self.conn.image_text8(self.id, self.gc, i16::try_from(x).unwrap_or(0), y, &bytes)?;
        Ok(())
    }

    fn fill(&self, rectangle: Rectangle, color: u32) -> anyhow::Result<()> {
        self.conn.change_gc(self.gc, &ChangeGCAux::new().foreground(color))?;
        self.conn.poly_fill_rectangle(self.id, self.gc, &[rectangle])?;
        Ok(())
    }

    /// Clears the window and draws it again.
    fn redraw(&self) -> anyhow::Result<()> {
        self.conn.clear_area(false, self.id, 0, 0, 0, 0)?;
        self.draw()
    }

    fn draw(&self) -> anyhow::Result<()> {
        let Layout { width, chat_x, end_x, .. } = self.layout;
        let x = |value: u16| i16::try_from(value).unwrap_or(0);
        self.text(PADDING, 0, &self.line(), WHITE, DARK)?;
        // Chat, with a star while lines wait unread.
        self.fill(Rectangle { x: x(chat_x), y: 0, width: end_x - chat_x, height: ROW }, SLATE)?;
        let chat = if self.unread > 0 { "Chat*" } else { "Chat" };
        self.text(chat_x + (end_x - chat_x - CHAR_WIDTH * 5) / 2, 0, chat, WHITE, SLATE)?;
        // The red X.
        self.fill(Rectangle { x: x(end_x), y: 0, width: width - end_x, height: ROW }, RED)?;
        self.conn.change_gc(self.gc, &ChangeGCAux::new().foreground(WHITE))?;
        let (left, right) = (x(end_x) + 13, x(end_x) + x(END_WIDTH) - 13);
        let (top, bottom) = (8, x(ROW) - 8);
        let cross = [
            Segment { x1: left, y1: top, x2: right, y2: bottom },
            Segment { x1: left, y1: bottom, x2: right, y2: top },
        ];
        self.conn.poly_segment(self.id, self.gc, &cross)?;
        if self.chat_open {
            let columns = self.layout.columns();
            let heard = match &self.heard {
                Some(line) => tail(line, columns),
                None => "Type to the technician: Enter sends, Esc closes.".to_owned(),
            };
            self.text(PADDING, 1, &heard, GREY, DARK)?;
            self.text(PADDING, 2, &self.field.visible(columns), WHITE, DARK)?;
        }
        self.conn.flush()?;
        Ok(())
    }
}
