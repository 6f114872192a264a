//! The `control` channel, controller side: what the agent says it streams
//! with (preset, the real screen size behind a scaled video), its monitors
//! and which is shown, where its pointer is and what it looks like. Every message is decoded strictly
//! first; cursor shapes are kept by id in the same [`ShapeCache`] the agent
//! mirrors, so a `cursor` message may name a shape sent long before.

use tether_shared::control::{
    AgentToController, ControlRejected, NO_SHAPE, QualityPreset, QualitySettings, ShapeCache, decode_from_agent,
};
use tether_shared::input::ScreenSize;
use tether_shared::local_input::{LocalUse, LockState};
use tether_shared::media_path::AgentEnd;
use tether_shared::monitor::{Monitor, View};
use tether_shared::privacy::PrivacyState;

/// A plain arrow for a pointer whose image the agent could not send.
pub const PLAIN_POINTER_URL: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='12' \
     height='19'%3E%3Cpath d='M.5.5v16l4-4 3 6 2-1-3-6h5.5z' fill='%23fff' stroke='%23000'/%3E%3C/svg%3E";

/// The stream settings the agent applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedView {
    pub preset: QualityPreset,
    pub settings: QualitySettings,
    /// The real screen, in whose pixels input and the cursor are given.
    pub screen: ScreenSize,
}

impl AppliedView {
    /// "1.0 Mbps · 20 fps · 50 %", for titles and the stats.
    pub fn summary(&self) -> String {
        summary(self.settings)
    }
}

/// A preset's numbers for people: "1.0 Mbps · 20 fps · 50 %".
pub fn summary(settings: QualitySettings) -> String {
    format!(
        "{:.1} Mbps · {} fps · {} %",
        f64::from(settings.max_bitrate_kbps) / 1000.0,
        settings.max_fps,
        settings.scale_percent
    )
}

/// A cursor image, ready for an `<img>` or a CSS `cursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeView {
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub hot_x: u32,
    pub hot_y: u32,
}

impl ShapeView {
    /// The plain arrow.
    pub fn plain() -> Self {
        Self { url: PLAIN_POINTER_URL.to_owned(), width: 12, height: 19, hot_x: 0, hot_y: 0 }
    }

    /// The CSS `cursor` value that shows this shape at the local pointer.
    pub fn css_cursor(&self) -> String {
        format!("url(\"{}\") {} {}, default", self.url, self.hot_x, self.hot_y)
    }
}

/// The remote pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorView {
    /// Position in screen pixels.
    pub x: u32,
    pub y: u32,
    pub visible: bool,
    pub shape: ShapeView,
}

/// The computer's monitors and which part of the screen is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorsView {
    pub monitors: Vec<Monitor>,
    pub showing: View,
}

/// What a message changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Applied(AppliedView),
    Cursor(CursorView),
    Monitors(MonitorsView),
    /// The person started or stopped using their own mouse or keyboard.
    LocalUse(LocalUse),
    /// Where the local-input lock stands.
    Lock(LockState),
    /// Where the privacy screen stands.
    Privacy(PrivacyState),
    /// How the agent's end of the media path is reached.
    Path(AgentEnd),
    /// A shape to remember; nothing to show yet.
    Nothing,
}

/// The controller's side of one control channel. A new peer connection
/// means a new channel (and a new agent-side cache): start a new one.
#[derive(Debug, Default)]
pub struct RemoteControl {
    shapes: ShapeCache<ShapeView>,
}

impl RemoteControl {
    /// Decodes one message from the agent and says what it changed.
    pub fn handle(&mut self, text: &str) -> Result<Update, ControlRejected> {
        Ok(match decode_from_agent(text.as_bytes())? {
            AgentToController::Applied {
                preset,
                max_bitrate_kbps,
                max_fps,
                scale_percent,
                screen_width,
                screen_height,
            } => Update::Applied(AppliedView {
                preset,
                settings: QualitySettings { max_bitrate_kbps, max_fps, scale_percent },
                screen: ScreenSize { width: screen_width, height: screen_height },
            }),
            AgentToController::Cursor { x, y, visible, shape } => {
                let shape = match shape {
                    NO_SHAPE => None,
                    id => self.shapes.get(id).cloned(),
                };
                Update::Cursor(CursorView { x, y, visible, shape: shape.unwrap_or_else(ShapeView::plain) })
            }
            AgentToController::CursorShape(shape) => {
                let view = ShapeView {
                    url: shape.data_url(),
                    width: shape.width,
                    height: shape.height,
                    hot_x: shape.hot_x,
                    hot_y: shape.hot_y,
                };
                self.shapes.insert(shape.id, view);
                Update::Nothing
            }
            AgentToController::Monitors { monitors, showing } => Update::Monitors(MonitorsView { monitors, showing }),
            AgentToController::LocalUse { state } => Update::LocalUse(state),
            AgentToController::Lock { state } => Update::Lock(state),
            AgentToController::Privacy { state } => Update::Privacy(state),
            AgentToController::Path { end } => Update::Path(end),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: &str =
        r#"{"t":"cursor_shape","id":7,"width":24,"height":24,"hot_x":3,"hot_y":2,"png":"iVBORw0KGgoAAAANSUhEUg=="}"#;

    #[test]
    fn applied_settings_carry_the_real_screen() {
        let mut control = RemoteControl::default();
        let text = r#"{"t":"applied","preset":"speed","max_bitrate_kbps":1000,"max_fps":20,"scale_percent":50,"screen_width":1280,"screen_height":720}"#;
        let Ok(Update::Applied(applied)) = control.handle(text) else { panic!("applied") };
        assert_eq!(applied.preset, QualityPreset::Speed);
        assert_eq!(applied.screen, ScreenSize { width: 1280, height: 720 });
        assert_eq!(applied.summary(), "1.0 Mbps · 20 fps · 50 %");
    }

    #[test]
    fn cursors_use_shapes_sent_before() {
        let mut control = RemoteControl::default();
        assert_eq!(control.handle(SHAPE), Ok(Update::Nothing));
        let Ok(Update::Cursor(cursor)) = control.handle(r#"{"t":"cursor","x":5,"y":6,"visible":true,"shape":7}"#)
        else {
            panic!("cursor")
        };
        assert_eq!((cursor.x, cursor.y, cursor.visible), (5, 6, true));
        assert_eq!(cursor.shape.url, "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==");
        assert_eq!(cursor.shape.css_cursor(), "url(\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==\") 3 2, default");
    }

    #[test]
    fn unknown_or_missing_shapes_draw_a_plain_pointer() {
        let mut control = RemoteControl::default();
        for text in [
            r#"{"t":"cursor","x":5,"y":6,"visible":true,"shape":0}"#,
            r#"{"t":"cursor","x":5,"y":6,"visible":true,"shape":99}"#,
        ] {
            let Ok(Update::Cursor(cursor)) = control.handle(text) else { panic!("cursor") };
            assert_eq!(cursor.shape, ShapeView::plain());
        }
    }

    #[test]
    fn monitors_say_which_is_shown() {
        let mut control = RemoteControl::default();
        let text = r#"{"t":"monitors","monitors":[{"name":"LEFT","x":0,"y":0,"width":1280,"height":720,"primary":true}],"showing":{"t":"monitor","name":"LEFT"}}"#;
        let Ok(Update::Monitors(monitors)) = control.handle(text) else { panic!("monitors") };
        assert_eq!(monitors.showing, View::Monitor("LEFT".into()));
        assert_eq!(monitors.monitors[0].width, 1280);
        assert!(control.handle(&text.replace(r#""width":1280"#, r#""width":0"#)).is_err());
    }

    #[test]
    fn bad_messages_are_refused() {
        let mut control = RemoteControl::default();
        assert!(control.handle("nope").is_err());
        assert!(control.handle(r#"{"t":"cursor","x":5,"y":6,"visible":true,"shape":1,"extra":1}"#).is_err());
        assert!(control.handle(&SHAPE.replace(r#""hot_x":3"#, r#""hot_x":30"#)).is_err());
    }
}
