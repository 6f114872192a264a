//! The target's monitors and which part of its screen the technician sees:
//! every monitor, or one of them. The agent streams that part only, at its
//! own size, and input coordinates from the controller are relative to it;
//! [`Area::to_screen`] puts them back on the whole screen. Pure: the agent
//! lists the monitors, this decides what is shown.

use crate::input::{InputEvent, ScreenSize};
use serde::{Deserialize, Serialize};

/// The longest monitor name kept (RandR names are short: `DP-1`, `HDMI-2`).
pub const MAX_MONITOR_NAME_CHARS: usize = 64;
/// The most monitors reported.
pub const MAX_MONITORS: usize = 16;

/// One monitor, in screen pixels. Added in protocol version 11.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Monitor {
    pub name: String,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub primary: bool,
}

impl Monitor {
    /// The part of the screen it shows (it may reach past the screen).
    pub fn area(&self) -> Area {
        Area { x: self.x, y: self.y, width: self.width, height: self.height }
    }
}

/// A rectangle of the screen, in screen pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Area {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Area {
    /// The whole of a screen of `size`.
    pub fn whole(size: ScreenSize) -> Self {
        Self { x: 0, y: 0, width: size.width, height: size.height }
    }

    /// This area cut to a screen of `screen` (at least 1×1, at its corner).
    pub fn cut_to(self, screen: ScreenSize) -> Area {
        let x = self.x.min(screen.width.saturating_sub(1));
        let y = self.y.min(screen.height.saturating_sub(1));
        let width = self.width.min(screen.width.saturating_sub(x)).max(1);
        let height = self.height.min(screen.height.saturating_sub(y)).max(1);
        Area { x, y, width, height }
    }

    /// Its size.
    pub fn size(self) -> ScreenSize {
        ScreenSize { width: self.width, height: self.height }
    }

    /// A point within this area (relative to its corner) on the whole screen.
    pub fn to_screen(self, x: u32, y: u32) -> (u32, u32) {
        (self.x.saturating_add(x), self.y.saturating_add(y))
    }

    /// `event` (its coordinates relative to this area) with its
    /// coordinates on the whole screen.
    pub fn place(self, event: InputEvent) -> InputEvent {
        match event {
            InputEvent::MouseMove { x, y } => {
                let (x, y) = self.to_screen(x, y);
                InputEvent::MouseMove { x, y }
            }
            InputEvent::MouseButton { button, down, x, y } => {
                let (x, y) = self.to_screen(x, y);
                InputEvent::MouseButton { button, down, x, y }
            }
            other => other,
        }
    }

    /// A point of the whole screen relative to this area's corner, if it
    /// lies within it.
    pub fn from_screen(self, x: u32, y: u32) -> Option<(u32, u32)> {
        let (dx, dy) = (x.checked_sub(self.x)?, y.checked_sub(self.y)?);
        (dx < self.width && dy < self.height).then_some((dx, dy))
    }
}

/// What the technician asked to see. Added in protocol version 11.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "t", content = "name", rename_all = "snake_case", deny_unknown_fields)]
pub enum View {
    /// The whole screen: every monitor in one picture.
    #[default]
    All,
    /// The monitor with this name.
    Monitor(String),
}

/// What is shown for `view`: the monitor's area (cut to the screen), or the
/// whole screen when the view asks for all of them, or names a monitor
/// that is not there (unplugged) or lies off the screen. The second value
/// is the view in force (the monitor's name, or [`View::All`]).
pub fn shown(view: &View, monitors: &[Monitor], screen: ScreenSize) -> (Area, View) {
    let whole = (Area::whole(screen), View::All);
    let View::Monitor(name) = view else { return whole };
    let Some(monitor) = monitors.iter().find(|monitor| &monitor.name == name) else { return whole };
    let area = monitor.area().cut_to(screen);
    if area.width < 2 || area.height < 2 {
        return whole;
    }
    (area, view.clone())
}

/// `monitors` as reported: at most [`MAX_MONITORS`], names cut to
/// [`MAX_MONITOR_NAME_CHARS`] characters without control characters, the
/// empty and the repeated dropped, left to right, then top to bottom.
pub fn tidy(monitors: Vec<Monitor>) -> Vec<Monitor> {
    let mut kept: Vec<Monitor> = Vec::new();
    for mut monitor in monitors {
        monitor.name = monitor.name.chars().filter(|c| !c.is_control()).take(MAX_MONITOR_NAME_CHARS).collect();
        if monitor.name.is_empty() || monitor.width == 0 || monitor.height == 0 {
            continue;
        }
        if kept.iter().any(|other| other.name == monitor.name) {
            continue;
        }
        kept.push(monitor);
    }
    kept.sort_by_key(|monitor| (monitor.x, monitor.y));
    kept.truncate(MAX_MONITORS);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitor(name: &str, x: u32, width: u32) -> Monitor {
        Monitor { name: name.into(), x, y: 0, width, height: 720, primary: x == 0 }
    }

    const SCREEN: ScreenSize = ScreenSize { width: 2560, height: 720 };

    #[test]
    fn all_is_the_whole_screen() {
        let monitors = [monitor("LEFT", 0, 1280), monitor("RIGHT", 1280, 1280)];
        assert_eq!(shown(&View::All, &monitors, SCREEN), (Area { x: 0, y: 0, width: 2560, height: 720 }, View::All));
    }

    #[test]
    fn one_monitor_is_its_area_and_points_map_back() {
        let monitors = [monitor("LEFT", 0, 1280), monitor("RIGHT", 1280, 1280)];
        let right = View::Monitor("RIGHT".into());
        let (area, view) = shown(&right, &monitors, SCREEN);
        assert_eq!(area, Area { x: 1280, y: 0, width: 1280, height: 720 });
        assert_eq!(view, right);
        assert_eq!(area.to_screen(100, 50), (1380, 50));
        assert_eq!(area.from_screen(1380, 50), Some((100, 50)));
        assert_eq!(area.from_screen(1279, 50), None, "on the other monitor");
        assert_eq!(area.from_screen(2560, 50), None, "past the right edge");
        let click = InputEvent::MouseButton { button: crate::input::MouseButton::Left, down: true, x: 10, y: 20 };
        assert_eq!(
            area.place(click),
            InputEvent::MouseButton { button: crate::input::MouseButton::Left, down: true, x: 1290, y: 20 }
        );
        assert_eq!(area.place(InputEvent::Wheel { dx: 0, dy: 1 }), InputEvent::Wheel { dx: 0, dy: 1 });
    }

    #[test]
    fn an_area_is_cut_to_the_screen() {
        let area = Area { x: 2000, y: 700, width: 1280, height: 720 };
        assert_eq!(area.cut_to(SCREEN), Area { x: 2000, y: 700, width: 560, height: 20 });
        let past = Area { x: 9000, y: 9000, width: 10, height: 10 };
        assert_eq!(past.cut_to(SCREEN), Area { x: 2559, y: 719, width: 1, height: 1 });
        let empty = ScreenSize { width: 0, height: 0 };
        assert_eq!(area.cut_to(empty), Area { x: 0, y: 0, width: 1, height: 1 });
    }

    #[test]
    fn a_monitor_that_went_away_shows_everything() {
        let monitors = [monitor("LEFT", 0, 1280)];
        let (area, view) = shown(&View::Monitor("RIGHT".into()), &monitors, SCREEN);
        assert_eq!((area, view), (Area::whole(SCREEN), View::All));
    }

    #[test]
    fn a_monitor_past_the_screen_is_cut_to_it_or_dropped() {
        let monitors = [monitor("WIDE", 2000, 1280), monitor("OFF", 2559, 1280)];
        let (area, _) = shown(&View::Monitor("WIDE".into()), &monitors, SCREEN);
        assert_eq!(area, Area { x: 2000, y: 0, width: 560, height: 720 });
        assert_eq!(shown(&View::Monitor("OFF".into()), &monitors, SCREEN).1, View::All);
    }

    #[test]
    fn reports_are_tidied() {
        let mut many: Vec<Monitor> = (0..20).map(|i| monitor(&format!("M{i}"), i * 10, 10)).collect();
        many.insert(0, monitor("M3", 1, 10));
        many.push(monitor("", 0, 10));
        many.push(monitor("bad\nname", 7, 0));
        let tidy = tidy(many);
        assert_eq!(tidy.len(), MAX_MONITORS);
        let threes: Vec<u32> = tidy.iter().filter(|m| m.name == "M3").map(|m| m.x).collect();
        assert_eq!(threes, vec![1], "the first of a repeated name is kept");
        assert!(tidy.windows(2).all(|pair| pair[0].x <= pair[1].x), "left to right");
        let long = super::tidy(vec![monitor(&"x".repeat(100), 0, 10)]);
        assert_eq!(long[0].name.chars().count(), MAX_MONITOR_NAME_CHARS);
    }

    #[test]
    fn views_read_back() {
        for view in [View::All, View::Monitor("DP-1".into())] {
            let wire = serde_json::to_string(&view).expect("serialise");
            assert_eq!(serde_json::from_str::<View>(&wire).expect("parse"), view);
        }
        assert_eq!(
            serde_json::to_string(&View::Monitor("A".into())).expect("serialise"),
            r#"{"t":"monitor","name":"A"}"#
        );
    }
}
