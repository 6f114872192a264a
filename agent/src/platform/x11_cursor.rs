//! The X pointer through XFixes: its position (`QueryPointer`, polled) and
//! its image (`GetCursorImage`, fetched again only after a `CursorNotify`
//! event says the shape changed). X screen capture leaves the cursor out of
//! the picture, so the controller draws it from these.

use anyhow::Context;
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xfixes::{ConnectionExt as _, CursorNotifyMask};
use x11rb::protocol::xproto::{ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

/// One cursor image, straight (not premultiplied) RGBA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorImage {
    /// The X server's serial for this image: equal serials, equal images.
    pub serial: u32,
    pub width: u32,
    pub height: u32,
    pub hot_x: u32,
    pub hot_y: u32,
    pub rgba: Vec<u8>,
}

impl CursorImage {
    /// Whether every pixel is transparent (a hidden pointer).
    pub fn is_blank(&self) -> bool {
        self.rgba.chunks_exact(4).all(|pixel| pixel[3] == 0)
    }
}

/// Where the pointer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointerPosition {
    pub x: u32,
    pub y: u32,
    /// False when the pointer is on another X screen.
    pub on_screen: bool,
}

/// Watches the pointer of one X display.
pub struct X11Cursor {
    conn: RustConnection,
    root: Window,
}

impl std::fmt::Debug for X11Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X11Cursor").field("root", &self.root).finish_non_exhaustive()
    }
}

impl X11Cursor {
    /// Connects to `display` (or `$DISPLAY`) and asks to hear of shape changes.
    pub fn open(display: Option<&str>) -> anyhow::Result<Self> {
        let (conn, screen_index) = x11rb::connect(display).context("cannot connect to the X server")?;
        let root = conn.setup().roots.get(screen_index).context("X server has no such screen")?.root;
        let version = conn.xfixes_query_version(5, 0)?.reply().context("the X server lacks XFixes")?;
        if version.major_version < 2 {
            anyhow::bail!("XFixes {} is too old; 2 is needed", version.major_version);
        }
        conn.xfixes_select_cursor_input(root, CursorNotifyMask::DISPLAY_CURSOR)?.check()?;
        Ok(Self { conn, root })
    }

    /// The pointer's position now.
    pub fn position(&self) -> anyhow::Result<PointerPosition> {
        let reply = self.conn.query_pointer(self.root)?.reply().context("QueryPointer failed")?;
        let coordinate = |value: i16| u32::try_from(value).unwrap_or(0);
        Ok(PointerPosition { x: coordinate(reply.root_x), y: coordinate(reply.root_y), on_screen: reply.same_screen })
    }

    /// Whether the shape changed since the last call (drains the events).
    pub fn shape_changed(&self) -> anyhow::Result<bool> {
        let mut changed = false;
        while let Some(event) = self.conn.poll_for_event().context("the X connection failed")? {
            changed |= matches!(event, Event::XfixesCursorNotify(_));
        }
        Ok(changed)
    }

    /// The current cursor image.
    pub fn image(&self) -> anyhow::Result<CursorImage> {
        let reply = self.conn.xfixes_get_cursor_image()?.reply().context("GetCursorImage failed")?;
        Ok(CursorImage {
            serial: reply.cursor_serial,
            width: u32::from(reply.width),
            height: u32::from(reply.height),
            hot_x: u32::from(reply.xhot),
            hot_y: u32::from(reply.yhot),
            rgba: straight_rgba(&reply.cursor_image),
        })
    }
}

/// XFixes' premultiplied ARGB pixels as straight RGBA bytes.
pub fn straight_rgba(argb: &[u32]) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(argb.len() * 4);
    for &pixel in argb {
        let [a, r, g, b] = pixel.to_be_bytes();
        let unpremultiply = |channel: u8| match a {
            0 => 0,
            // channel ≤ a for premultiplied data; min() guards bad input.
            _ => (u32::from(channel.min(a)) * 255 / u32::from(a)) as u8,
        };
        rgba.extend_from_slice(&[unpremultiply(r), unpremultiply(g), unpremultiply(b), a]);
    }
    rgba
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn premultiplied_pixels_become_straight() {
        let opaque_red = 0xff_ff_00_00;
        let half_white = 0x80_80_80_80;
        let clear = 0x00_00_00_00;
        let bad = 0x10_ff_ff_ff;
        assert_eq!(
            straight_rgba(&[opaque_red, half_white, clear, bad]),
            vec![255, 0, 0, 255, 255, 255, 255, 128, 0, 0, 0, 0, 255, 255, 255, 16]
        );
    }

    #[test]
    fn a_transparent_image_is_blank() {
        let image = |rgba: Vec<u8>| CursorImage { serial: 1, width: 1, height: 2, hot_x: 0, hot_y: 0, rgba };
        assert!(image(vec![9, 9, 9, 0, 0, 0, 0, 0]).is_blank());
        assert!(!image(vec![0, 0, 0, 0, 0, 0, 0, 1]).is_blank());
    }
}
