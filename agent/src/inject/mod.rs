//! Input injection: decoded [`InputEvent`]s become pointer moves, button,
//! wheel and key presses on this desktop through enigo. [`Held`] remembers
//! what the controller holds down, so `release_all` (and the end of a
//! session) leaves nothing pressed.

pub mod keymap;

use anyhow::Context;
use enigo::{Axis, Coordinate, Direction, Enigo, Keyboard, Mouse, Settings};
use tether_shared::input::{InputEvent, Key, MouseButton};

/// One step for the operating system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    MoveTo { x: u32, y: u32 },
    Button { button: MouseButton, down: bool },
    Key { key: Key, down: bool },
    Scroll { dx: i32, dy: i32 },
    Text(String),
}

/// The keys and buttons the controller holds down, in the order pressed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Held {
    keys: Vec<Key>,
    buttons: Vec<MouseButton>,
}

/// The keys of the secure attention sequence, in press order.
const SECURE_ATTENTION: [Key; 3] = [Key::ControlLeft, Key::AltLeft, Key::Delete];

impl Held {
    /// The actions that carry out `event`, updating what is held.
    pub fn plan(&mut self, event: InputEvent) -> Vec<Action> {
        match event {
            InputEvent::MouseMove { x, y } => vec![Action::MoveTo { x, y }],
            InputEvent::MouseButton { button, down, x, y } => {
                self.buttons.retain(|&b| b != button);
                if down {
                    self.buttons.push(button);
                }
                vec![Action::MoveTo { x, y }, Action::Button { button, down }]
            }
            InputEvent::Wheel { dx, dy } => vec![Action::Scroll { dx, dy }],
            InputEvent::Key { key, down } => {
                self.keys.retain(|&k| k != key);
                if down {
                    self.keys.push(key);
                }
                vec![Action::Key { key, down }]
            }
            InputEvent::Text { text } => vec![Action::Text(text)],
            InputEvent::SecureAttention => self.secure_attention(),
            InputEvent::ReleaseAll => self.release_all(),
        }
    }

    /// Ctrl+Alt+Delete. Modifiers the controller already holds stay held.
    fn secure_attention(&mut self) -> Vec<Action> {
        let pressed: Vec<Key> =
            SECURE_ATTENTION.into_iter().filter(|key| *key == Key::Delete || !self.keys.contains(key)).collect();
        self.keys.retain(|&k| k != Key::Delete);
        let downs = pressed.iter().map(|&key| Action::Key { key, down: true });
        let ups = pressed.iter().rev().map(|&key| Action::Key { key, down: false });
        downs.chain(ups).collect()
    }

    /// Releases everything held, most recent first.
    pub fn release_all(&mut self) -> Vec<Action> {
        let buttons = self.buttons.drain(..).rev().map(|button| Action::Button { button, down: false });
        let keys = self.keys.drain(..).rev().map(|key| Action::Key { key, down: false });
        buttons.chain(keys).collect()
    }
}

/// Injects events on a thread of its own (enigo blocks on X round trips).
/// Dropping it releases whatever is still held and ends the thread.
#[derive(Debug)]
pub struct Injector {
    events: std::sync::mpsc::Sender<InputEvent>,
}

impl Injector {
    /// Connects to the X `display` (or `$DISPLAY`).
    pub async fn start(display: Option<String>) -> anyhow::Result<Self> {
        let (events, receiver) = std::sync::mpsc::channel();
        let (ready, started) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("tether-input".into())
            .spawn(move || {
                let settings = Settings { x11_display: display, ..Settings::default() };
                match Enigo::new(&settings) {
                    Ok(enigo) => {
                        if ready.send(Ok(())).is_ok() {
                            serve(enigo, &receiver);
                        }
                    }
                    Err(err) => {
                        // The receiver only goes away if the caller gave up waiting.
                        let _ = ready.send(Err(anyhow::anyhow!("cannot open the input device: {err}")));
                    }
                }
            })
            .context("cannot start the input thread")?;
        started.await.context("the input thread stopped")??;
        Ok(Self { events })
    }

    /// Queues `event`; fails only when the input thread has stopped.
    pub fn inject(&self, event: InputEvent) -> anyhow::Result<()> {
        self.events.send(event).map_err(|_| anyhow::anyhow!("the input thread has stopped"))
    }
}

fn serve(mut enigo: Enigo, events: &std::sync::mpsc::Receiver<InputEvent>) {
    let mut held = Held::default();
    for event in events {
        for action in held.plan(event) {
            if let Err(err) = perform(&mut enigo, &action) {
                tracing::warn!(?action, error = %err, "cannot inject input");
            }
        }
    }
    for action in held.release_all() {
        if let Err(err) = perform(&mut enigo, &action) {
            tracing::warn!(?action, error = %err, "cannot release input at the end of the session");
        }
    }
}

fn perform(enigo: &mut Enigo, action: &Action) -> anyhow::Result<()> {
    let direction = |down: bool| if down { Direction::Press } else { Direction::Release };
    match action {
        Action::MoveTo { x, y } => enigo.move_mouse(i32::try_from(*x)?, i32::try_from(*y)?, Coordinate::Abs)?,
        Action::Button { button, down } => enigo.button(enigo_button(*button), direction(*down))?,
        Action::Key { key, down } => enigo.raw(keymap::x11_keycode(*key), direction(*down))?,
        Action::Scroll { dx, dy } => {
            if *dy != 0 {
                enigo.scroll(*dy, Axis::Vertical)?;
            }
            if *dx != 0 {
                enigo.scroll(*dx, Axis::Horizontal)?;
            }
        }
        Action::Text(text) => enigo.text(text)?,
    }
    Ok(())
}

fn enigo_button(button: MouseButton) -> enigo::Button {
    match button {
        MouseButton::Left => enigo::Button::Left,
        MouseButton::Middle => enigo::Button::Middle,
        MouseButton::Right => enigo::Button::Right,
        MouseButton::Back => enigo::Button::Back,
        MouseButton::Forward => enigo::Button::Forward,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(key: Key, down: bool) -> Action {
        Action::Key { key, down }
    }

    #[test]
    fn buttons_move_first_then_press() {
        let mut held = Held::default();
        let actions = held.plan(InputEvent::MouseButton { button: MouseButton::Left, down: true, x: 3, y: 4 });
        assert_eq!(
            actions,
            vec![Action::MoveTo { x: 3, y: 4 }, Action::Button { button: MouseButton::Left, down: true }]
        );
    }

    #[test]
    fn release_all_releases_what_is_held_most_recent_first() {
        let mut held = Held::default();
        held.plan(InputEvent::Key { key: Key::ShiftLeft, down: true });
        held.plan(InputEvent::Key { key: Key::KeyA, down: true });
        held.plan(InputEvent::Key { key: Key::KeyB, down: true });
        held.plan(InputEvent::Key { key: Key::KeyB, down: false });
        held.plan(InputEvent::MouseButton { button: MouseButton::Right, down: true, x: 0, y: 0 });
        assert_eq!(
            held.plan(InputEvent::ReleaseAll),
            vec![
                Action::Button { button: MouseButton::Right, down: false },
                key(Key::KeyA, false),
                key(Key::ShiftLeft, false),
            ]
        );
        assert_eq!(held, Held::default());
        assert!(held.plan(InputEvent::ReleaseAll).is_empty());
    }

    #[test]
    fn repeated_key_downs_are_held_once() {
        let mut held = Held::default();
        held.plan(InputEvent::Key { key: Key::KeyA, down: true });
        held.plan(InputEvent::Key { key: Key::KeyA, down: true });
        assert_eq!(held.release_all(), vec![key(Key::KeyA, false)]);
    }

    #[test]
    fn secure_attention_is_ctrl_alt_delete() {
        let mut held = Held::default();
        assert_eq!(
            held.plan(InputEvent::SecureAttention),
            vec![
                key(Key::ControlLeft, true),
                key(Key::AltLeft, true),
                key(Key::Delete, true),
                key(Key::Delete, false),
                key(Key::AltLeft, false),
                key(Key::ControlLeft, false),
            ]
        );
        assert_eq!(held, Held::default());
    }

    #[test]
    fn secure_attention_keeps_modifiers_the_controller_holds() {
        let mut held = Held::default();
        held.plan(InputEvent::Key { key: Key::ControlLeft, down: true });
        assert_eq!(
            held.plan(InputEvent::SecureAttention),
            vec![key(Key::AltLeft, true), key(Key::Delete, true), key(Key::Delete, false), key(Key::AltLeft, false)]
        );
        assert_eq!(held.release_all(), vec![key(Key::ControlLeft, false)]);
    }
}
