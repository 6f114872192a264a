//! Large text with no font on the X server: each character an 8×8 glyph
//! (`font8x8`), each row of lit pixels one rectangle, scaled up and
//! centred in an area — for the privacy screen, read from across a room.

use font8x8::UnicodeFonts;
use tether_shared::monitor::Area;

/// Glyph pixels per character side.
const GLYPH: u32 = 8;
/// A line's height in glyph pixels (the glyph and a gap).
const LINE: u32 = 12;
/// The largest glyph pixel, in screen pixels.
const MAX_SCALE: u32 = 5;

/// A filled rectangle, in screen pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The glyph of `c` (rows top down, bit 0 the leftmost pixel); `?` for
/// characters the font lacks.
fn glyph(c: char) -> [u8; 8] {
    font8x8::BASIC_FONTS
        .get(c)
        .or_else(|| font8x8::LATIN_FONTS.get(c))
        .or_else(|| font8x8::GREEK_FONTS.get(c))
        .or_else(|| font8x8::BASIC_FONTS.get('?'))
        .unwrap_or_default()
}

/// The rectangles that write `lines` centred in `area`, each line centred
/// on its own, as large as fits (nothing when not even the smallest does).
pub fn layout(lines: &[String], area: Area) -> Vec<Block> {
    let columns = lines.iter().map(|line| line.chars().count()).max().unwrap_or(0);
    let (Ok(columns), Ok(rows)) = (u32::try_from(columns), u32::try_from(lines.len())) else { return Vec::new() };
    if columns == 0 {
        return Vec::new();
    }
    // A tenth of the area stays free around the text.
    let fits_across = (area.width / 10 * 9) / columns.saturating_mul(GLYPH);
    let fits_down = (area.height / 10 * 9) / rows.saturating_mul(LINE);
    let scale = fits_across.min(fits_down).min(MAX_SCALE);
    if scale == 0 {
        return Vec::new();
    }
    let top = area.y + (area.height - rows * LINE * scale) / 2;
    let mut blocks = Vec::new();
    for (row, line) in (0..).zip(lines) {
        let chars = u32::try_from(line.chars().count()).unwrap_or(columns);
        let left = area.x + (area.width - chars * GLYPH * scale) / 2;
        let line_top = top + row * LINE * scale;
        for (column, c) in (0..).zip(line.chars()) {
            let glyph_left = left + column * GLYPH * scale;
            for (pixel_row, bits) in (0..).zip(glyph(c)) {
                let y = line_top + pixel_row * scale;
                blocks.extend(runs(bits).map(|(start, length)| Block {
                    x: glyph_left + start * scale,
                    y,
                    width: length * scale,
                    height: scale,
                }));
            }
        }
    }
    blocks
}

/// The runs of lit pixels in one glyph row: (first pixel, length).
fn runs(bits: u8) -> impl Iterator<Item = (u32, u32)> {
    let mut pixel = 0;
    std::iter::from_fn(move || {
        while pixel < GLYPH && bits & (1 << pixel) == 0 {
            pixel += 1;
        }
        if pixel == GLYPH {
            return None;
        }
        let start = pixel;
        while pixel < GLYPH && bits & (1 << pixel) != 0 {
            pixel += 1;
        }
        Some((start, pixel - start))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_the_lit_stretches_of_a_row() {
        assert_eq!(runs(0b0000_0000).collect::<Vec<_>>(), []);
        assert_eq!(runs(0b1111_1111).collect::<Vec<_>>(), [(0, 8)]);
        assert_eq!(runs(0b1001_0110).collect::<Vec<_>>(), [(1, 2), (4, 1), (7, 1)]);
    }

    #[test]
    fn text_is_centred_in_its_area_and_stays_inside() {
        let area = Area { x: 1920, y: 0, width: 1280, height: 1024 };
        let lines = vec!["Hello".to_owned(), "a longer second line".to_owned()];
        let blocks = layout(&lines, area);
        assert!(!blocks.is_empty());
        let inside = |block: &Block| {
            block.x >= area.x
                && block.y >= area.y
                && block.x + block.width <= area.x + area.width
                && block.y + block.height <= area.y + area.height
        };
        assert!(blocks.iter().all(inside));
        let (left, right) = (blocks.iter().map(|b| b.x).min(), blocks.iter().map(|b| b.x + b.width).max());
        let (left, right) = (left.expect("blocks"), right.expect("blocks"));
        // Centred: as much room on the left as on the right, give or take a glyph pixel.
        assert!((left - area.x).abs_diff(area.x + area.width - right) <= 2 * MAX_SCALE);
    }

    #[test]
    fn a_tiny_area_gets_no_text_and_unknown_characters_a_question_mark() {
        assert!(layout(&["far too long for this".to_owned()], Area { x: 0, y: 0, width: 40, height: 40 }).is_empty());
        assert_eq!(glyph('\u{1F600}'), glyph('?'));
        assert_ne!(glyph('é'), glyph('?'));
    }
}
