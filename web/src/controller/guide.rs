//! Guidance drawing, controller side: the tool picked ([`DrawTool`]) and
//! the shape a drag over the picture makes ([`Stroke`]), in the screen
//! pixels input uses; and what the agent's answers mean. Pure.

use super::tools::ToolStatus;
use tether_shared::guidance::{AgentToController, MAX_STROKE_POINTS, Point, Shape, decode_from_agent};

/// What a drag over the picture draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrawTool {
    Freehand,
    Arrow,
    Rectangle,
}

impl DrawTool {
    /// Every tool, in the order the panel shows them.
    pub const ALL: [DrawTool; 3] = [DrawTool::Freehand, DrawTool::Arrow, DrawTool::Rectangle];

    /// Its button's words.
    pub fn label(self) -> &'static str {
        match self {
            DrawTool::Freehand => "Pen",
            DrawTool::Arrow => "Arrow",
            DrawTool::Rectangle => "Box",
        }
    }

    /// Its key, for test ids.
    pub fn key(self) -> &'static str {
        match self {
            DrawTool::Freehand => "freehand",
            DrawTool::Arrow => "arrow",
            DrawTool::Rectangle => "rectangle",
        }
    }
}

/// A drag in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stroke {
    tool: DrawTool,
    points: Vec<Point>,
}

impl Stroke {
    /// A drag with `tool` that started at `at`.
    pub fn start(tool: DrawTool, at: Point) -> Self {
        Self { tool, points: vec![at] }
    }

    /// The pointer moved to `at`: a pen stroke goes through it (up to its
    /// most points; a repeat is not kept), an arrow or box ends there.
    pub fn extend(&mut self, at: Point) {
        match self.tool {
            DrawTool::Freehand => {
                if self.points.last() != Some(&at) && self.points.len() < MAX_STROKE_POINTS {
                    self.points.push(at);
                }
            }
            DrawTool::Arrow | DrawTool::Rectangle => {
                self.points.truncate(1);
                self.points.push(at);
            }
        }
    }

    /// The shape drawn (a click with the pen is a dot; an arrow or a box
    /// of no size is nothing).
    pub fn finish(self) -> Option<Shape> {
        let first = *self.points.first()?;
        let last = *self.points.last()?;
        match self.tool {
            DrawTool::Freehand => Some(Shape::Freehand { points: self.points }),
            _ if first == last => None,
            DrawTool::Arrow => Some(Shape::Arrow { from: first, to: last }),
            DrawTool::Rectangle => Some(Shape::Rectangle { from: first, to: last }),
        }
    }
}

/// What an answer on the `guide` channel means for the panel.
pub fn answer(bytes: &[u8]) -> ToolStatus {
    match decode_from_agent(bytes) {
        Ok(AgentToController::Showing { shown: 0 }) => ToolStatus::Done("Their screen shows no drawing.".into()),
        Ok(AgentToController::Showing { shown }) => {
            ToolStatus::Done(format!("Their screen shows {shown} drawing{}.", if shown == 1 { "" } else { "s" }))
        }
        Ok(AgentToController::Failed { reason }) => ToolStatus::Failed(reason),
        Err(bad) => ToolStatus::Failed(format!("The computer's answer was not understood: {bad}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pen_drag_is_a_stroke_through_its_points() {
        let mut stroke = Stroke::start(DrawTool::Freehand, [1, 1]);
        stroke.extend([2, 2]);
        stroke.extend([2, 2]);
        stroke.extend([3, 1]);
        assert_eq!(stroke.finish(), Some(Shape::Freehand { points: vec![[1, 1], [2, 2], [3, 1]] }));
        assert_eq!(Stroke::start(DrawTool::Freehand, [5, 5]).finish(), Some(Shape::Freehand { points: vec![[5, 5]] }));
    }

    #[test]
    fn arrows_and_boxes_go_from_where_the_drag_started_to_where_it_ended() {
        let mut arrow = Stroke::start(DrawTool::Arrow, [1, 1]);
        arrow.extend([5, 5]);
        arrow.extend([9, 2]);
        assert_eq!(arrow.finish(), Some(Shape::Arrow { from: [1, 1], to: [9, 2] }));
        let mut nothing = Stroke::start(DrawTool::Rectangle, [4, 4]);
        nothing.extend([6, 6]);
        nothing.extend([4, 4]);
        assert_eq!(nothing.finish(), None);
    }

    #[test]
    fn a_long_stroke_keeps_its_most_points() {
        let mut stroke = Stroke::start(DrawTool::Freehand, [0, 0]);
        for x in 1..2 * MAX_STROKE_POINTS as u32 {
            stroke.extend([x, 0]);
        }
        let Some(Shape::Freehand { points }) = stroke.finish() else { panic!("a stroke") };
        assert_eq!(points.len(), MAX_STROKE_POINTS);
    }

    #[test]
    fn answers_say_what_shows() {
        let encode = tether_shared::tool_message::encode::<AgentToController>;
        assert_eq!(
            answer(encode(&AgentToController::Showing { shown: 2 }).as_bytes()),
            ToolStatus::Done("Their screen shows 2 drawings.".into())
        );
        assert!(matches!(answer(b"nope"), ToolStatus::Failed(_)));
    }
}
