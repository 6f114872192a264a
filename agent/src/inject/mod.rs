//! Input injection: decoded [`InputEvent`]s become pointer moves, button,
//! wheel and key presses on this desktop through enigo. [`Held`] remembers
//! what the controller holds down, so `release_all` (and the end of a
//! session) leaves nothing pressed. The queue to the injecting thread is
//! bounded, and every event is checked against the session's [`InputGate`]
//! just before it is performed: nothing queued runs after the session ends.

mod gate;
pub mod keymap;

pub use gate::InputGate;

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
    events: std::sync::mpsc::SyncSender<InputEvent>,
    /// Resolves when the injecting thread has finished.
    finished: tokio::sync::oneshot::Receiver<()>,
}

/// Events queued for the injecting thread before more are dropped: a
/// controller cannot pile up input to be typed later.
pub const INPUT_QUEUE: usize = 256;

/// Why an event was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    #[error("too much input is waiting; dropping an event")]
    Full,
    #[error("the input thread has stopped")]
    Stopped,
}

impl Injector {
    /// Connects to the X `display` (or `$DISPLAY`); events pass while
    /// `gate` is open.
    pub async fn start(display: Option<String>, gate: InputGate) -> anyhow::Result<Self> {
        let (events, receiver) = std::sync::mpsc::sync_channel(INPUT_QUEUE);
        let (ready, started) = tokio::sync::oneshot::channel();
        let (finish, finished) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("tether-input".into())
            .spawn(move || {
                let settings = Settings { x11_display: display, ..Settings::default() };
                match Enigo::new(&settings) {
                    Ok(mut enigo) => {
                        if ready.send(Ok(())).is_ok() {
                            serve(&mut enigo, &receiver, &gate);
                        }
                        drop(enigo);
                        // Nobody may be waiting for the end.
                        let _ = finish.send(());
                    }
                    Err(err) => {
                        // The receiver only goes away if the caller gave up waiting.
                        let _ = ready.send(Err(anyhow::anyhow!("cannot open the input device: {err}")));
                    }
                }
            })
            .context("cannot start the input thread")?;
        started.await.context("the input thread stopped")??;
        Ok(Self { events, finished })
    }

    /// Stops taking input and waits until the injecting thread has gone
    /// through what was queued (performed only while the gate is open) and
    /// released whatever the controller still held.
    pub async fn stop(self) {
        drop(self.events);
        // An error means the thread is gone already.
        let _ = self.finished.await;
    }

    /// Queues `event` without waiting.
    pub fn inject(&self, event: InputEvent) -> Result<(), InjectError> {
        self.events.try_send(event).map_err(|err| match err {
            std::sync::mpsc::TrySendError::Full(_) => InjectError::Full,
            std::sync::mpsc::TrySendError::Disconnected(_) => InjectError::Stopped,
        })
    }
}

/// Somewhere input actions happen: the desktop (enigo), or a test's record.
pub trait Perform {
    fn perform(&mut self, action: &Action) -> anyhow::Result<()>;
}

impl Perform for Enigo {
    fn perform(&mut self, action: &Action) -> anyhow::Result<()> {
        perform(self, action)
    }
}

/// The injecting thread's loop: each event, if the gate is still open when
/// its turn comes, then whatever is still held is released.
pub fn serve(target: &mut impl Perform, events: &std::sync::mpsc::Receiver<InputEvent>, gate: &InputGate) {
    let mut held = Held::default();
    let mut dropped = 0_usize;
    for event in events {
        let performed = gate.pass(|| {
            for action in held.plan(event) {
                if let Err(err) = target.perform(&action) {
                    tracing::warn!(?action, error = %err, "cannot inject input");
                }
            }
        });
        if !performed {
            dropped += 1;
            if gate.is_open() && !gate.control_permitted() {
                // Control was withdrawn: what the controller held is let go.
                release(target, &mut held);
            }
        }
    }
    if dropped > 0 {
        tracing::info!(dropped, "dropped input that was still queued when the session stopped allowing it");
    }
    release(target, &mut held);
}

/// Releases whatever the controller still holds.
fn release(target: &mut impl Perform, held: &mut Held) {
    for action in held.release_all() {
        if let Err(err) = target.perform(&action) {
            tracing::warn!(?action, error = %err, "cannot release input");
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

    /// Records what would have been performed; the session ends (its gate
    /// closes) as soon as the first action has run.
    struct EndsAfterFirst {
        gate: InputGate,
        performed: Vec<Action>,
    }

    impl Perform for EndsAfterFirst {
        fn perform(&mut self, action: &Action) -> anyhow::Result<()> {
            self.performed.push(action.clone());
            self.gate.refuse_further();
            Ok(())
        }
    }

    #[test]
    fn nothing_queued_runs_once_the_gate_closes_but_held_keys_are_released() {
        let (events, receiver) = std::sync::mpsc::sync_channel(INPUT_QUEUE);
        let queue = |event| events.try_send(event).is_ok();
        assert!(queue(InputEvent::Key { key: Key::ShiftLeft, down: true }));
        for _ in 1..INPUT_QUEUE {
            assert!(queue(InputEvent::Text { text: "a".into() }));
        }
        assert!(!queue(InputEvent::Text { text: "a".into() }), "the queue is bounded");
        drop(events);
        let gate = InputGate::open();
        let mut desktop = EndsAfterFirst { gate: gate.clone(), performed: Vec::new() };
        serve(&mut desktop, &receiver, &gate);
        assert_eq!(desktop.performed, vec![key(Key::ShiftLeft, true), key(Key::ShiftLeft, false)]);
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
