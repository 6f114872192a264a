//! Where things are on the session bar, and what a press on it means:
//! the line, the **Chat** button and the red **X** on the top row; when
//! chat is open, a row with the technician's last line and a row with the
//! person's. Pure: the bar's thread draws and acts on it.

/// Width of one character of the core `fixed` font, and its baseline.
pub const CHAR_WIDTH: u16 = 6;
pub const BASELINE: i16 = 21;
pub const PADDING: u16 = 12;
/// One row's height.
pub const ROW: u16 = 32;
pub const CHAT_WIDTH: u16 = 56;
pub const END_WIDTH: u16 = 44;
/// The narrowest bar with chat open.
const CHAT_OPEN_WIDTH: u16 = 420;
/// How far the pointer may move before a press on the text is a drag.
const DRAG_SLOP: i16 = 3;

/// Where things are on a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub width: u16,
    pub height: u16,
    /// The Chat button's left edge (it runs to `end_x`).
    pub chat_x: u16,
    /// The red X: its left edge (it runs to the right edge).
    pub end_x: u16,
}

/// What a press at a point of the bar is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spot {
    /// The line: drag to move, click to fold.
    Text,
    Chat,
    End,
    /// The chat rows.
    ChatRows,
    Outside,
}

impl Layout {
    /// The bar for `line`, with the chat rows when `chat_open`.
    pub fn new(line: &str, chat_open: bool) -> Self {
        let text = u16::try_from(line.chars().count()).unwrap_or(u16::MAX).saturating_mul(CHAR_WIDTH);
        let top =
            PADDING.saturating_add(text).saturating_add(PADDING).saturating_add(CHAT_WIDTH).saturating_add(END_WIDTH);
        let width = if chat_open { top.max(CHAT_OPEN_WIDTH) } else { top };
        let end_x = width - END_WIDTH;
        let height = if chat_open { ROW * 3 } else { ROW };
        Layout { width, height, chat_x: end_x - CHAT_WIDTH, end_x }
    }

    /// What (`x`, `y`) in the bar is on.
    pub fn spot(&self, x: i16, y: i16) -> Spot {
        let (Ok(x), Ok(y)) = (u16::try_from(x), u16::try_from(y)) else { return Spot::Outside };
        match (x, y) {
            (x, y) if x >= self.width || y >= self.height => Spot::Outside,
            (_, y) if y >= ROW => Spot::ChatRows,
            (x, _) if x >= self.end_x => Spot::End,
            (x, _) if x >= self.chat_x => Spot::Chat,
            _ => Spot::Text,
        }
    }

    /// How many characters a chat row holds.
    pub fn columns(&self) -> usize {
        usize::from(self.width.saturating_sub(2 * PADDING) / CHAR_WIDTH)
    }
}

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

/// The last `columns` characters of `text`.
pub fn tail(text: &str, columns: usize) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(columns)).collect()
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
    fn the_x_is_the_right_end_chat_beside_it_and_the_chat_rows_below() {
        let closed = Layout::new("Tess is connected - Monitor mode", false);
        assert_eq!((closed.width - closed.end_x, closed.end_x - closed.chat_x), (END_WIDTH, CHAT_WIDTH));
        assert_eq!(closed.height, ROW);
        let at = |x: u16, y: u16| closed.spot(i16::try_from(x).unwrap_or(0), i16::try_from(y).unwrap_or(0));
        assert_eq!(at(closed.end_x + 5, 10), Spot::End);
        assert_eq!(at(closed.end_x - 1, 10), Spot::Chat);
        assert_eq!(at(closed.chat_x - 1, 10), Spot::Text);
        assert_eq!(at(closed.width, 10), Spot::Outside);
        assert_eq!(closed.spot(-3, 10), Spot::Outside);
        let open = Layout::new("Tether", true);
        assert_eq!((open.height, open.width), (3 * ROW, CHAT_OPEN_WIDTH), "a folded bar opens its chat wide enough");
        assert_eq!(open.spot(20, 40), Spot::ChatRows);
        assert_eq!(open.columns(), 66);
        assert_eq!(tail("hello world", 5), "world");
    }
}
