//! The `guide` tool: the technician points and draws over the picture —
//! freehand, arrows, rectangles — and the drawing shows on the person's
//! screen, without any control of it. Coordinates are in pixels of the
//! part of the screen shown (as input's are); the agent places them on the
//! screen ([`Shape::placed`]). [`Drawing`] is what the agent's overlay
//! shows: shapes that fade after [`FADE_AFTER_MS`] unless kept, all gone
//! on `clear`. Pure: time is passed in.

use crate::control::MAX_SCREEN_SIDE;
use crate::monitor::Area;
use crate::tool_message::{ToolRejected, at_most, decode};
use serde::{Deserialize, Serialize};

/// The most points in one freehand stroke.
pub const MAX_STROKE_POINTS: usize = 1_000;
/// The most shapes shown at once; a new one beyond them drops the oldest.
pub const MAX_SHAPES: usize = 64;
/// How long a fading shape stays, in milliseconds.
pub const FADE_AFTER_MS: f64 = 8_000.0;
/// The largest `guide` message.
pub const MAX_GUIDE_MESSAGE_BYTES: usize = 32 * 1024;

/// A point, `[x, y]` in pixels.
pub type Point = [u32; 2];

/// One shape drawn. (v11)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// A stroke through these points.
    Freehand { points: Vec<Point> },
    /// An arrow from `from`, its head at `to`.
    Arrow { from: Point, to: Point },
    /// The outline of the rectangle with these opposite corners.
    Rectangle { from: Point, to: Point },
}

impl Shape {
    /// Its kind, for people and the audit log.
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Freehand { .. } => "freehand",
            Shape::Arrow { .. } => "arrow",
            Shape::Rectangle { .. } => "rectangle",
        }
    }

    /// Its points.
    pub fn points(&self) -> Vec<Point> {
        match self {
            Shape::Freehand { points } => points.clone(),
            Shape::Arrow { from, to } | Shape::Rectangle { from, to } => vec![*from, *to],
        }
    }

    /// Whether it is well formed and lies within a picture of `width` ×
    /// `height` (a stroke has 1 to [`MAX_STROKE_POINTS`] points).
    pub fn check(&self, width: u32, height: u32) -> Result<(), ToolRejected> {
        if let Shape::Freehand { points } = self {
            at_most("points", points.len(), MAX_STROKE_POINTS)?;
            if points.is_empty() {
                return Err(ToolRejected::OverLimit { field: "points (none)" });
            }
        }
        if self.points().iter().all(|[x, y]| *x < width && *y < height) {
            Ok(())
        } else {
            Err(ToolRejected::OverLimit { field: "coordinates" })
        }
    }

    /// The straight lines that draw it, from point to point: a stroke's
    /// pieces (a single point is a dot), an arrow's shaft and the two
    /// sides of its head, a rectangle's four sides.
    pub fn segments(&self) -> Vec<(Point, Point)> {
        match self {
            Shape::Freehand { points } if points.len() == 1 => vec![(points[0], points[0])],
            Shape::Freehand { points } => points.windows(2).map(|pair| (pair[0], pair[1])).collect(),
            Shape::Arrow { from, to } => {
                let mut lines = vec![(*from, *to)];
                lines.extend(arrow_head(*from, *to).into_iter().map(|side| (*to, side)));
                lines
            }
            Shape::Rectangle { from, to } => {
                let ([left, top], [right, bottom]) =
                    ([from[0].min(to[0]), from[1].min(to[1])], [from[0].max(to[0]), from[1].max(to[1])]);
                vec![
                    ([left, top], [right, top]),
                    ([right, top], [right, bottom]),
                    ([right, bottom], [left, bottom]),
                    ([left, bottom], [left, top]),
                ]
            }
        }
    }

    /// The shape with its points placed on the whole screen, given as
    /// relative to `area`.
    pub fn placed(&self, area: Area) -> Shape {
        let place = |[x, y]: Point| {
            let (x, y) = area.to_screen(x, y);
            [x, y]
        };
        match self {
            Shape::Freehand { points } => Shape::Freehand { points: points.iter().copied().map(place).collect() },
            Shape::Arrow { from, to } => Shape::Arrow { from: place(*from), to: place(*to) },
            Shape::Rectangle { from, to } => Shape::Rectangle { from: place(*from), to: place(*to) },
        }
    }
}

/// The length of an arrow head's sides, in pixels.
const HEAD_LENGTH: f64 = 18.0;

/// The far ends of an arrow head's two sides at `to`, 30° either side of
/// the shaft from `from` (none for an arrow of no length).
fn arrow_head(from: Point, to: Point) -> Vec<Point> {
    let (dx, dy) = (f64::from(from[0]) - f64::from(to[0]), f64::from(from[1]) - f64::from(to[1]));
    let length = dx.hypot(dy);
    if length < 1.0 {
        return Vec::new();
    }
    let (ux, uy) = (dx / length, dy / length);
    let (sin, cos) = std::f64::consts::FRAC_PI_6.sin_cos();
    [(ux * cos - uy * sin, ux * sin + uy * cos), (ux * cos + uy * sin, -ux * sin + uy * cos)]
        .into_iter()
        .map(|(x, y)| {
            let end = |at: u32, by: f64| {
                // Clamped to the pixel range: the cast cannot overflow.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let end = (f64::from(at) + by * HEAD_LENGTH).round().clamp(0.0, f64::from(MAX_SCREEN_SIDE)) as u32;
                end
            };
            [end(to[0], x), end(to[1], y)]
        })
        .collect()
}

/// The controller's requests. (v11)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControllerToAgent {
    /// Show `shape`; it fades after a while unless `keep`.
    Draw { shape: Shape, keep: bool },
    /// Take every shape away. (A struct variant, so that extra fields are
    /// refused as on the others.)
    Clear {},
}

/// The agent's answers. (v11)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentToController {
    /// The person's screen shows `shown` shapes now.
    Showing { shown: u32 },
    /// The request could not be done, and why.
    Failed { reason: String },
}

/// Decodes a request from the controller (run by the agent); the shape's
/// coordinates are checked against the picture by [`Shape::check`].
pub fn decode_from_controller(bytes: &[u8]) -> Result<ControllerToAgent, ToolRejected> {
    let message: ControllerToAgent = decode(bytes, MAX_GUIDE_MESSAGE_BYTES)?;
    if let ControllerToAgent::Draw { shape, .. } = &message {
        shape.check(MAX_SCREEN_SIDE + 1, MAX_SCREEN_SIDE + 1)?;
    }
    Ok(message)
}

/// Decodes an answer from the agent (run by the controller).
pub fn decode_from_agent(bytes: &[u8]) -> Result<AgentToController, ToolRejected> {
    let message: AgentToController = decode(bytes, MAX_GUIDE_MESSAGE_BYTES)?;
    match &message {
        AgentToController::Showing { shown } => at_most("shown", *shown as usize, MAX_SHAPES)?,
        AgentToController::Failed { reason } => at_most("reason", reason.len(), 1_000)?,
    }
    Ok(message)
}

/// One shape on the person's screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// On the whole screen.
    pub shape: Shape,
    /// When it goes (milliseconds on the caller's clock), unless kept.
    fades_at: Option<u64>,
}

/// What the overlay shows: the shapes drawn, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drawing {
    shapes: Vec<Shown>,
}

impl Drawing {
    /// Adds `shape` (on the whole screen) at `now_ms`; the oldest goes
    /// when there are already [`MAX_SHAPES`].
    pub fn add(&mut self, shape: Shape, keep: bool, now_ms: u64) {
        if self.shapes.len() == MAX_SHAPES {
            self.shapes.remove(0);
        }
        // FADE_AFTER_MS is a whole number of milliseconds.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let fades_at = (!keep).then(|| now_ms + FADE_AFTER_MS as u64);
        self.shapes.push(Shown { shape, fades_at });
    }

    /// Takes every shape away.
    pub fn clear(&mut self) {
        self.shapes.clear();
    }

    /// Drops the shapes whose time is up at `now_ms`; whether any went.
    pub fn expire(&mut self, now_ms: u64) -> bool {
        let before = self.shapes.len();
        self.shapes.retain(|shown| shown.fades_at.is_none_or(|at| at > now_ms));
        self.shapes.len() != before
    }

    /// When the next shape fades, if one does.
    pub fn next_fade(&self) -> Option<u64> {
        self.shapes.iter().filter_map(|shown| shown.fades_at).min()
    }

    /// The shapes shown now, oldest first.
    pub fn shapes(&self) -> impl Iterator<Item = &Shape> {
        self.shapes.iter().map(|shown| &shown.shape)
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// Whether nothing is shown.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arrow() -> Shape {
        Shape::Arrow { from: [10, 10], to: [100, 50] }
    }

    #[test]
    fn requests_read_back_and_bad_ones_are_refused() {
        let draw = ControllerToAgent::Draw { shape: Shape::Freehand { points: vec![[1, 2], [3, 4]] }, keep: false };
        let wire = crate::tool_message::encode(&draw);
        assert_eq!(wire, r#"{"t":"draw","shape":{"kind":"freehand","points":[[1,2],[3,4]]},"keep":false}"#);
        assert_eq!(decode_from_controller(wire.as_bytes()), Ok(draw));
        assert_eq!(decode_from_controller(br#"{"t":"clear"}"#), Ok(ControllerToAgent::Clear {}));
        for bad in [
            r#"{"t":"draw","shape":{"kind":"freehand","points":[]},"keep":false}"#,
            r#"{"t":"draw","shape":{"kind":"circle","at":[1,2]},"keep":false}"#,
            r#"{"t":"draw","shape":{"kind":"arrow","from":[1,2],"to":[99999,2]},"keep":false}"#,
            r#"{"t":"draw","shape":{"kind":"arrow","from":[1,2],"to":[-1,2]},"keep":false}"#,
            r#"{"t":"clear","all":true}"#,
        ] {
            assert!(decode_from_controller(bad.as_bytes()).is_err(), "{bad}");
        }
        let long = Shape::Freehand { points: vec![[1, 1]; MAX_STROKE_POINTS + 1] };
        assert!(long.check(10, 10).is_err());
    }

    #[test]
    fn shapes_are_checked_against_the_picture_and_placed_on_the_screen() {
        assert!(arrow().check(101, 51).is_ok());
        assert!(arrow().check(100, 51).is_err(), "x 100 is past a 100-wide picture");
        let area = Area { x: 640, y: 0, width: 1280, height: 720 };
        assert_eq!(arrow().placed(area), Shape::Arrow { from: [650, 10], to: [740, 50] });
        assert_eq!(arrow().kind(), "arrow");
    }

    #[test]
    fn shapes_are_drawn_as_lines() {
        let stroke = Shape::Freehand { points: vec![[0, 0], [5, 0], [5, 5]] };
        assert_eq!(stroke.segments(), vec![([0, 0], [5, 0]), ([5, 0], [5, 5])]);
        assert_eq!(Shape::Freehand { points: vec![[3, 3]] }.segments(), vec![([3, 3], [3, 3])]);
        let rectangle = Shape::Rectangle { from: [10, 20], to: [0, 0] };
        assert_eq!(rectangle.segments().len(), 4);
        assert!(rectangle.segments().contains(&([0, 0], [10, 0])));
        // An arrow pointing right: the head's sides go back left, above and below.
        let lines = Shape::Arrow { from: [0, 100], to: [100, 100] }.segments();
        assert_eq!(lines[0], ([0, 100], [100, 100]));
        let ends: Vec<Point> = lines[1..].iter().map(|(_, end)| *end).collect();
        assert_eq!(ends.len(), 2);
        assert!(ends.iter().all(|[x, _]| *x < 100 && *x > 80), "{ends:?}");
        assert!(ends.iter().any(|[_, y]| *y < 100) && ends.iter().any(|[_, y]| *y > 100), "{ends:?}");
        assert_eq!(Shape::Arrow { from: [5, 5], to: [5, 5] }.segments().len(), 1, "no head on a dot");
    }

    #[test]
    fn shapes_fade_unless_kept_and_clear_takes_all() {
        let mut drawing = Drawing::default();
        drawing.add(arrow(), false, 1_000);
        drawing.add(Shape::Rectangle { from: [0, 0], to: [5, 5] }, true, 2_000);
        assert_eq!(drawing.next_fade(), Some(9_000));
        assert!(!drawing.expire(8_999));
        assert!(drawing.expire(9_000));
        assert_eq!(drawing.len(), 1);
        assert_eq!(drawing.next_fade(), None, "the kept one never fades");
        drawing.clear();
        assert!(drawing.is_empty());
    }

    #[test]
    fn the_oldest_goes_beyond_the_most_shown() {
        let mut drawing = Drawing::default();
        for i in 0..=MAX_SHAPES as u32 {
            drawing.add(Shape::Arrow { from: [i, 0], to: [i, 1] }, true, 0);
        }
        assert_eq!(drawing.len(), MAX_SHAPES);
        assert_eq!(drawing.shapes().next(), Some(&Shape::Arrow { from: [1, 0], to: [1, 1] }));
    }
}
