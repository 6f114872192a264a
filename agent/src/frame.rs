//! Captured frames, change detection and scaling: a frame is tightly packed
//! BGRA; [`changed`] tells whether anything differs from the previous frame
//! (stopping at the first difference), so an unchanged screen costs no
//! encoding and no bandwidth; [`changed_tiles`] says where, in 64×64
//! tiles; [`Scaler`] shrinks frames for a smaller stream.

use anyhow::Context;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// Side of a comparison tile, in pixels.
pub const TILE: usize = 64;

/// One captured picture: `width × height` pixels, 4 bytes each (B, G, R, X).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Frame {
    /// A frame of one colour, for tests and placeholders.
    pub fn solid(width: usize, height: usize, bgra: [u8; 4]) -> Self {
        Self { width, height, data: bgra.repeat(width * height) }
    }

    /// Copies `area` of this frame (cut to it, at least 1×1) into `into`.
    pub fn copy_area(&self, area: tether_shared::monitor::Area, into: &mut Frame) {
        into.data.clear();
        if self.width == 0 || self.height == 0 {
            (into.width, into.height) = (0, 0);
            return;
        }
        let side = |pixels: usize| u32::try_from(pixels).unwrap_or(u32::MAX);
        let cut = area.cut_to(tether_shared::input::ScreenSize { width: side(self.width), height: side(self.height) });
        let [x, y, width, height] = [cut.x, cut.y, cut.width, cut.height].map(|value| value as usize);
        into.width = width;
        into.height = height;
        for row in self.data.chunks_exact(self.width * 4).skip(y).take(height) {
            into.data.extend_from_slice(&row[x * 4..(x + width) * 4]);
        }
    }

    /// The `[b, g, r]` of the pixel at `(x, y)`.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let at = (y * self.width + x) * 4;
        Some([self.data[at], self.data[at + 1], self.data[at + 2]])
    }
}

/// A rectangle of changed pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

/// Whether `next` differs from `previous` at all (always, without a
/// previous frame of the same size). One comparison of the whole buffer,
/// which stops at the first difference: under motion it costs next to
/// nothing, on a still screen one pass over memory.
pub fn changed(previous: Option<&Frame>, next: &Frame) -> bool {
    previous.is_none_or(|previous| {
        (previous.width, previous.height) != (next.width, next.height) || previous.data != next.data
    })
}

/// The tiles of `next` that differ from `previous`; every tile when there is
/// no previous frame or the size changed.
pub fn changed_tiles(previous: Option<&Frame>, next: &Frame) -> Vec<Rect> {
    let tiles_x = next.width.div_ceil(TILE);
    let tiles_y = next.height.div_ceil(TILE);
    let tile_rect = |tx: usize, ty: usize| Rect {
        x: tx * TILE,
        y: ty * TILE,
        width: TILE.min(next.width - tx * TILE),
        height: TILE.min(next.height - ty * TILE),
    };
    let Some(previous) = previous.filter(|p| p.width == next.width && p.height == next.height) else {
        return (0..tiles_y)
            .flat_map(|ty| (0..tiles_x).map(move |tx| (tx, ty)))
            .map(|(tx, ty)| tile_rect(tx, ty))
            .collect();
    };
    let row_bytes = next.width * 4;
    let mut changed = Vec::new();
    for ty in 0..tiles_y {
        for tx in 0..tiles_x {
            let rect = tile_rect(tx, ty);
            let differs = (rect.y..rect.y + rect.height).any(|y| {
                let start = y * row_bytes + rect.x * 4;
                let end = start + rect.width * 4;
                previous.data[start..end] != next.data[start..end]
            });
            if differs {
                changed.push(rect);
            }
        }
    }
    changed
}

/// Shrinks frames to the stream's size (bilinear, SIMD), reusing its
/// buffers from frame to frame.
#[derive(Default)]
pub struct Scaler {
    resizer: Resizer,
    scaled: Frame,
}

impl std::fmt::Debug for Scaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scaler").field("width", &self.scaled.width).field("height", &self.scaled.height).finish()
    }
}

impl Scaler {
    /// `frame` resized to `width × height`.
    pub fn scale(&mut self, frame: &Frame, width: usize, height: usize) -> anyhow::Result<&Frame> {
        let source =
            ImageRef::new(u32::try_from(frame.width)?, u32::try_from(frame.height)?, &frame.data, PixelType::U8x4)
                .context("the frame does not hold its pixels")?;
        self.scaled.width = width;
        self.scaled.height = height;
        self.scaled.data.resize(width * height * 4, 0);
        let mut target =
            Image::from_slice_u8(u32::try_from(width)?, u32::try_from(height)?, &mut self.scaled.data, PixelType::U8x4)
                .context("cannot make the scaled frame")?;
        // The fourth byte is X's padding, not alpha: leave it out of the maths.
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear)).use_alpha(false);
        self.resizer.resize(&source, &mut target, &options).context("cannot scale the frame")?;
        Ok(&self.scaled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_area_is_copied_and_cut_to_the_frame() {
        let mut frame = Frame::solid(4, 3, [0, 0, 0, 255]);
        frame.data[(4 + 2) * 4] = 9; // (2, 1)
        let mut area = Frame::default();
        frame.copy_area(tether_shared::monitor::Area { x: 2, y: 1, width: 5, height: 1 }, &mut area);
        assert_eq!((area.width, area.height), (2, 1));
        assert_eq!(area.pixel(0, 0), Some([9, 0, 0]));
        Frame::default().copy_area(tether_shared::monitor::Area { x: 0, y: 0, width: 2, height: 2 }, &mut area);
        assert_eq!((area.width, area.height, area.data.len()), (0, 0, 0));
    }

    #[test]
    fn identical_frames_have_no_changes() {
        let frame = Frame::solid(200, 100, [1, 2, 3, 255]);
        assert!(changed_tiles(Some(&frame), &frame).is_empty());
        assert!(!changed(Some(&frame), &frame));
        assert!(changed(None, &frame));
    }

    #[test]
    fn first_or_resized_frames_change_everywhere() {
        let frame = Frame::solid(130, 65, [0; 4]);
        let all = changed_tiles(None, &frame);
        assert_eq!(all.len(), 3 * 2);
        assert_eq!(all.last(), Some(&Rect { x: 128, y: 64, width: 2, height: 1 }));
        let bigger = Frame::solid(140, 65, [0; 4]);
        assert_eq!(changed_tiles(Some(&frame), &bigger).len(), 3 * 2);
        assert!(changed(Some(&frame), &bigger), "a new size is a change");
    }

    #[test]
    fn one_changed_pixel_marks_its_tile() {
        let before = Frame::solid(256, 128, [9; 4]);
        let mut after = before.clone();
        let (x, y) = (130, 70);
        after.data[(y * 256 + x) * 4] = 0;
        assert_eq!(changed_tiles(Some(&before), &after), vec![Rect { x: 128, y: 64, width: 64, height: 64 }]);
        assert!(changed(Some(&before), &after));
        assert_eq!(after.pixel(x, y), Some([0, 9, 9]));
        assert_eq!(after.pixel(256, 0), None);
    }

    #[test]
    fn scaling_halves_and_keeps_colours() {
        let mut frame = Frame::solid(200, 100, [200, 100, 50, 0]);
        for y in 0..100 {
            for x in 100..200 {
                let at = (y * 200 + x) * 4;
                frame.data[at..at + 4].copy_from_slice(&[10, 20, 30, 0]);
            }
        }
        let mut scaler = Scaler::default();
        let half = scaler.scale(&frame, 100, 50).expect("scaled").clone();
        assert_eq!((half.width, half.height, half.data.len()), (100, 50, 100 * 50 * 4));
        assert_eq!(half.pixel(10, 10), Some([200, 100, 50]), "padding bytes of 0 do not darken it");
        assert_eq!(half.pixel(90, 40), Some([10, 20, 30]));
        let again = scaler.scale(&frame, 50, 26).expect("scaled again");
        assert_eq!((again.width, again.height), (50, 26));
    }
}
