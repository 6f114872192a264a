//! A known X11 scene for the browser end-to-end test (`e2e/tests/streaming.test.mjs`).
//!
//! On the display in `$DISPLAY` it paints the root grey, puts solid colour
//! blocks at fixed places and maps an input window that holds the keyboard
//! focus. Once everything is mapped it prints one JSON line,
//! `{"event":"ready","width":…,"height":…,"blocks":[{"name","x","y","width","height","rgb"}…],"input":{…}}`,
//! then one line per button or key event the input window receives:
//! `{"event":"button_press"|"button_release","button","x","y","root_x","root_y"}` and
//! `{"event":"key_press"|"key_release","keycode","keysym","text"}` (`text` is
//! the character typed, or `null` for keys that type none). It runs until
//! it is killed or the X server goes away.

use anyhow::Context;
use serde::Serialize;
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{
    ChangeWindowAttributesAux, ConnectionExt, CreateWindowAux, EventMask, InputFocus, KeyButMask, Screen, Window,
    WindowClass,
};
use x11rb::rust_connection::RustConnection;

/// The root window's colour, `0xRRGGBB` (a 24-bit TrueColor visual, as Xvfb's).
const BACKGROUND: u32 = 0x40_40_40;

/// A solid rectangle of the scene.
#[derive(Debug, Clone, Copy, Serialize)]
struct Block {
    name: &'static str,
    x: i16,
    y: i16,
    width: u16,
    height: u16,
    /// `0xRRGGBB`.
    rgb: u32,
}

/// Large blocks, so that a sample at their centre is far from any edge the
/// encoder may blur.
const BLOCKS: [Block; 5] = [
    Block { name: "red", x: 40, y: 40, width: 240, height: 160, rgb: 0xd0_20_20 },
    Block { name: "green", x: 320, y: 40, width: 240, height: 160, rgb: 0x20_b0_40 },
    Block { name: "blue", x: 600, y: 40, width: 240, height: 160, rgb: 0x20_40_e0 },
    Block { name: "yellow", x: 880, y: 40, width: 240, height: 160, rgb: 0xf0_d0_20 },
    Block { name: "white", x: 40, y: 480, width: 240, height: 160, rgb: 0xf0_f0_f0 },
];

/// The window that logs the input it receives.
const INPUT: Block = Block { name: "input", x: 640, y: 360, width: 400, height: 240, rgb: 0x80_40_a0 };

/// What the scene prints once it is up.
#[derive(Debug, Serialize)]
struct Ready {
    event: &'static str,
    width: u16,
    height: u16,
    background: u32,
    blocks: &'static [Block],
    input: Block,
}

/// One line per input event the input window receives.
#[derive(Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Logged {
    ButtonPress { button: u8, x: i16, y: i16, root_x: i16, root_y: i16 },
    ButtonRelease { button: u8, x: i16, y: i16, root_x: i16, root_y: i16 },
    KeyPress { keycode: u8, keysym: u32, text: Option<char> },
    KeyRelease { keycode: u8, keysym: u32, text: Option<char> },
}

/// The server's keycode → keysym table.
struct Keymap {
    min_keycode: u8,
    per_keycode: usize,
    keysyms: Vec<u32>,
}

impl Keymap {
    fn load(conn: &RustConnection) -> anyhow::Result<Self> {
        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let reply = conn.get_keyboard_mapping(min, max - min + 1)?.reply()?;
        Ok(Self { min_keycode: min, per_keycode: usize::from(reply.keysyms_per_keycode), keysyms: reply.keysyms })
    }

    /// The keysym of `keycode`, shifted or not (core protocol rules for
    /// the first group, enough for the Latin keys the test types).
    fn keysym(&self, keycode: u8, shifted: bool) -> u32 {
        let Some(offset) = keycode.checked_sub(self.min_keycode) else { return 0 };
        let base = usize::from(offset) * self.per_keycode;
        let at = |column: usize| {
            if column < self.per_keycode { self.keysyms.get(base + column).copied().unwrap_or(0) } else { 0 }
        };
        let (lower, upper) = (at(0), at(1));
        match (shifted, upper) {
            (true, 0) => lower,
            (true, upper) => upper,
            (false, _) => lower,
        }
    }
}

/// The character a Latin-1 keysym types (their values are the code points).
fn text_of(keysym: u32) -> Option<char> {
    match keysym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(keysym),
        _ => None,
    }
}

fn print(line: &impl Serialize) -> anyhow::Result<()> {
    // Line-buffered stdout: each line reaches the reader as it is printed.
    println!("{}", serde_json::to_string(line)?);
    Ok(())
}

/// Maps `block` as an override-redirect window (no window manager runs)
/// that hears `events`.
fn create_block(conn: &RustConnection, screen: &Screen, block: &Block, events: EventMask) -> anyhow::Result<Window> {
    let window = conn.generate_id()?;
    let attributes = CreateWindowAux::new().background_pixel(block.rgb).override_redirect(1).event_mask(events);
    conn.create_window(
        screen.root_depth,
        window,
        screen.root,
        block.x,
        block.y,
        block.width,
        block.height,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &attributes,
    )?;
    conn.map_window(window)?;
    Ok(window)
}

fn main() -> anyhow::Result<()> {
    let (conn, screen_index) = x11rb::connect(None).context("cannot connect to the X display in $DISPLAY")?;
    let screen = conn.setup().roots.get(screen_index).context("the X server has no such screen")?.clone();
    if screen.root_depth != 24 {
        anyhow::bail!("the scene needs a 24-bit screen, this one has depth {}", screen.root_depth);
    }
    let keymap = Keymap::load(&conn)?;
    conn.change_window_attributes(screen.root, &ChangeWindowAttributesAux::new().background_pixel(BACKGROUND))?;
    conn.clear_area(false, screen.root, 0, 0, 0, 0)?;
    for block in &BLOCKS {
        create_block(&conn, &screen, block, EventMask::NO_EVENT)?;
    }
    let logged_events = EventMask::BUTTON_PRESS
        | EventMask::BUTTON_RELEASE
        | EventMask::KEY_PRESS
        | EventMask::KEY_RELEASE
        | EventMask::STRUCTURE_NOTIFY;
    let input = create_block(&conn, &screen, &INPUT, logged_events)?;
    conn.flush()?;
    // Mapped (its MapNotify came back) before it may take the focus.
    loop {
        if let Event::MapNotify(event) = conn.wait_for_event()?
            && event.window == input
        {
            break;
        }
    }
    conn.set_input_focus(InputFocus::POINTER_ROOT, input, x11rb::CURRENT_TIME)?;
    conn.get_input_focus()?.reply()?; // a round trip: all of the above is done
    print(&Ready {
        event: "ready",
        width: screen.width_in_pixels,
        height: screen.height_in_pixels,
        background: BACKGROUND,
        blocks: &BLOCKS,
        input: INPUT,
    })?;

    loop {
        let logged = match conn.wait_for_event()? {
            Event::ButtonPress(e) => {
                Logged::ButtonPress { button: e.detail, x: e.event_x, y: e.event_y, root_x: e.root_x, root_y: e.root_y }
            }
            Event::ButtonRelease(e) => Logged::ButtonRelease {
                button: e.detail,
                x: e.event_x,
                y: e.event_y,
                root_x: e.root_x,
                root_y: e.root_y,
            },
            Event::KeyPress(e) => {
                let keysym = keymap.keysym(e.detail, e.state.contains(KeyButMask::SHIFT));
                Logged::KeyPress { keycode: e.detail, keysym, text: text_of(keysym) }
            }
            Event::KeyRelease(e) => {
                let keysym = keymap.keysym(e.detail, e.state.contains(KeyButMask::SHIFT));
                Logged::KeyRelease { keycode: e.detail, keysym, text: text_of(keysym) }
            }
            _ => continue,
        };
        print(&logged)?;
    }
}
