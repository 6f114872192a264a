//! Captured frames and change detection: a frame is tightly packed BGRA;
//! comparing 64×64 tiles with the previous frame tells whether anything
//! changed, so an unchanged screen costs no encoding and no bandwidth.

/// Side of a comparison tile, in pixels.
pub const TILE: usize = 64;

/// One captured picture: `width × height` pixels, 4 bytes each (B, G, R, X).
#[derive(Debug, Clone, PartialEq, Eq)]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_frames_have_no_changes() {
        let frame = Frame::solid(200, 100, [1, 2, 3, 255]);
        assert!(changed_tiles(Some(&frame), &frame).is_empty());
    }

    #[test]
    fn first_or_resized_frames_change_everywhere() {
        let frame = Frame::solid(130, 65, [0; 4]);
        let all = changed_tiles(None, &frame);
        assert_eq!(all.len(), 3 * 2);
        assert_eq!(all.last(), Some(&Rect { x: 128, y: 64, width: 2, height: 1 }));
        let bigger = Frame::solid(140, 65, [0; 4]);
        assert_eq!(changed_tiles(Some(&frame), &bigger).len(), 3 * 2);
    }

    #[test]
    fn one_changed_pixel_marks_its_tile() {
        let before = Frame::solid(256, 128, [9; 4]);
        let mut after = before.clone();
        let (x, y) = (130, 70);
        after.data[(y * 256 + x) * 4] = 0;
        assert_eq!(changed_tiles(Some(&before), &after), vec![Rect { x: 128, y: 64, width: 64, height: 64 }]);
        assert_eq!(after.pixel(x, y), Some([0, 9, 9]));
        assert_eq!(after.pixel(256, 0), None);
    }
}
