//! Capture beneath the privacy screen: while it covers the display, the
//! picture is composed from the top-level windows' own pictures (each has
//! one while the root's children are redirected, `x11_privacy`), bottom to
//! top, each cut to its SHAPE and blended when it has alpha, leaving out
//! the covering window. Bare desktop shows black: the root's own pixels
//! are under the cover and cannot be read.
//!
//! Costs a request round trip per window on top of a plain grab; used
//! only while the screen is up.

use crate::frame::Frame;
use anyhow::Context;
use memmap2::Mmap;
use tether_shared::monitor::Area;
use x11rb::connection::Connection;
use x11rb::protocol::composite::ConnectionExt as _;
use x11rb::protocol::shape::{self, ConnectionExt as _};
use x11rb::protocol::shm::ConnectionExt as _;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, MapState, Window, WindowClass};
use x11rb::rust_connection::RustConnection;

/// A rectangle in root coordinates (windows may start left of or above it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rect {
    x: i32,
    y: i32,
    width: i32,
    height: i32,
}

impl Rect {
    fn of_area(area: Area) -> Self {
        let signed = |value: u32| i32::try_from(value).unwrap_or(i32::MAX);
        Rect { x: signed(area.x), y: signed(area.y), width: signed(area.width), height: signed(area.height) }
    }

    fn intersect(self, other: Rect) -> Option<Rect> {
        let (left, top) = (self.x.max(other.x), self.y.max(other.y));
        let right = (self.x + self.width).min(other.x + other.width);
        let bottom = (self.y + self.height).min(other.y + other.height);
        (right > left && bottom > top).then_some(Rect { x: left, y: top, width: right - left, height: bottom - top })
    }
}

/// One window to paint: where it is, how it is shaped, whether it has alpha.
struct Layer {
    window: Window,
    /// Its outer rectangle, border included.
    outer: Rect,
    /// Its SHAPE, in root coordinates.
    shape: Vec<Rect>,
    alpha: bool,
}

/// The viewable top-level windows under `cover`, bottom to top.
fn layers(conn: &RustConnection, root: Window, cover: Window) -> anyhow::Result<Vec<Layer>> {
    let children = conn.query_tree(root)?.reply()?.children;
    // All questions first, then the answers: one round trip, not three per window.
    let mut asked = Vec::with_capacity(children.len());
    for &window in children.iter().filter(|window| **window != cover) {
        let attributes = conn.get_window_attributes(window)?;
        let geometry = conn.get_geometry(window)?;
        let shape = conn.shape_get_rectangles(window, shape::SK::BOUNDING)?;
        asked.push((window, attributes, geometry, shape));
    }
    let mut layers = Vec::new();
    for (window, attributes, geometry, shape) in asked {
        // A window gone meanwhile answers with an error: it is not drawn.
        let (Ok(attributes), Ok(geometry), Ok(shape)) = (attributes.reply(), geometry.reply(), shape.reply()) else {
            continue;
        };
        let drawable = attributes.map_state == MapState::VIEWABLE
            && attributes.class == WindowClass::INPUT_OUTPUT
            && matches!(geometry.depth, 24 | 32);
        if !drawable {
            continue;
        }
        let border = i32::from(geometry.border_width);
        let (x, y) = (i32::from(geometry.x), i32::from(geometry.y));
        let outer = Rect {
            x,
            y,
            width: i32::from(geometry.width) + 2 * border,
            height: i32::from(geometry.height) + 2 * border,
        };
        // SHAPE rectangles are relative to the window's inside corner.
        let shape = shape
            .rectangles
            .iter()
            .map(|r| Rect {
                x: x + border + i32::from(r.x),
                y: y + border + i32::from(r.y),
                width: i32::from(r.width),
                height: i32::from(r.height),
            })
            .collect();
        layers.push(Layer { window, outer, shape, alpha: geometry.depth == 32 });
    }
    Ok(layers)
}

/// Composes `area` of the screen beneath `cover` into `frame`, through the
/// shared-memory segment `(id, map)` (at least `area`'s size).
pub(super) fn compose(
    conn: &RustConnection,
    root: Window,
    cover: Window,
    area: Area,
    (segment, map): (u32, &Mmap),
    frame: &mut Frame,
) -> anyhow::Result<()> {
    let target = Rect::of_area(area);
    frame.width = usize::try_from(area.width)?;
    frame.height = usize::try_from(area.height)?;
    frame.data.clear();
    frame.data.resize(frame.width * frame.height * 4, 0);
    for layer in layers(conn, root, cover)? {
        let Some(seen) = layer.outer.intersect(target) else { continue };
        let pixmap = conn.generate_id()?;
        conn.composite_name_window_pixmap(layer.window, pixmap)?;
        let image = conn
            .shm_get_image(
                pixmap,
                i16::try_from(seen.x - layer.outer.x)?,
                i16::try_from(seen.y - layer.outer.y)?,
                u16::try_from(seen.width)?,
                u16::try_from(seen.height)?,
                u32::MAX,
                ImageFormat::Z_PIXMAP.into(),
                segment,
                0,
            )?
            .reply();
        conn.free_pixmap(pixmap)?;
        // Unmapped or not redirected after all (it changed meanwhile): not drawn.
        if image.is_err() {
            continue;
        }
        let picture = Picture { map, bounds: seen, alpha: layer.alpha };
        for part in layer.shape.iter().filter_map(|shape| shape.intersect(seen)) {
            picture.paint(part, target, frame);
        }
    }
    conn.flush().context("the X server went away")?;
    Ok(())
}

/// One window's grabbed pixels, `bounds` in root coordinates.
struct Picture<'a> {
    map: &'a Mmap,
    bounds: Rect,
    alpha: bool,
}

impl Picture<'_> {
    /// Paints `part` (inside the picture and the target) onto `frame`,
    /// which shows `target`.
    fn paint(&self, part: Rect, target: Rect, frame: &mut Frame) {
        let index = |value: i32| usize::try_from(value).unwrap_or(0);
        let row_bytes = index(part.width) * 4;
        for row in 0..part.height {
            let from =
                (index(part.y + row - self.bounds.y) * index(self.bounds.width) + index(part.x - self.bounds.x)) * 4;
            let to = (index(part.y + row - target.y) * frame.width + index(part.x - target.x)) * 4;
            let (Some(source), Some(dest)) =
                (self.map.get(from..from + row_bytes), frame.data.get_mut(to..to + row_bytes))
            else {
                continue;
            };
            if self.alpha {
                blend(source, dest);
            } else {
                dest.copy_from_slice(source);
            }
        }
    }
}

/// Premultiplied BGRA `source` over `dest`.
fn blend(source: &[u8], dest: &mut [u8]) {
    for (from, to) in source.chunks_exact(4).zip(dest.chunks_exact_mut(4)) {
        let keep = 255 - u16::from(from[3]);
        for channel in 0..3 {
            let under = u16::from(to[channel]) * keep / 255;
            to[channel] = u8::try_from((u16::from(from[channel]) + under).min(255)).unwrap_or(u8::MAX);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangles_meet_where_they_overlap() {
        let screen = Rect { x: 0, y: 0, width: 100, height: 50 };
        let left_off = Rect { x: -20, y: 10, width: 40, height: 100 };
        assert_eq!(screen.intersect(left_off), Some(Rect { x: 0, y: 10, width: 20, height: 40 }));
        assert_eq!(screen.intersect(Rect { x: 100, y: 0, width: 5, height: 5 }), None, "touching is not meeting");
    }

    #[test]
    fn alpha_blends_over_and_opaque_replaces() {
        let mut under = [100, 100, 100, 0, 100, 100, 100, 0];
        blend(&[0, 0, 0, 0, 200, 10, 0, 255], &mut under);
        assert_eq!(under, [100, 100, 100, 0, 200, 10, 0, 0]);
        let mut half = [200, 200, 200, 0];
        blend(&[50, 0, 0, 128], &mut half);
        assert_eq!(half[..3], [149, 99, 99]);
    }
}
