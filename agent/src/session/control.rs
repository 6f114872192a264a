//! The `control` data channel, agent side: the controller's quality and
//! monitor choices (decoded strictly) go to the capture thread; what
//! capture applied, the monitors and what is shown, and where the pointer
//! is on the shown part (and what it looks like) go back; the lock and the
//! privacy screen are asked for here and their states go back.

use super::Reporter;
use super::assent::ToolAssent;
use super::cursor;
use super::local_use::LocalUseCell;
use super::media::{Applied, Showing, StreamControls};
use super::path_probe::PathProbe;
use std::sync::Arc;
use tether_shared::access::Access;
use tether_shared::consent::ToolUse;
use tether_shared::control::{AgentToController, ControllerToAgent, decode_from_controller, encode};
use tether_shared::grant::Grant;
use tether_shared::local_input::LockState;
use tether_shared::privacy::{PrivacyState, screen_lines};
use tokio::sync::{mpsc, watch};
use webrtc::data_channel::{DataChannel, DataChannelEvent};

/// What the control channel works with.
pub(crate) struct ControlContext {
    pub controls: StreamControls,
    pub display: Option<String>,
    pub local_use: LocalUseCell,
    /// The grant in force when the channel opened (whether the lock is allowed).
    pub grant: Option<Grant>,
    pub assent: ToolAssent,
    pub reporter: Reporter,
    /// The agent's end of the media path, said when it changes.
    pub path: PathProbe,
}

/// How often the agent's end of the media path is looked at.
const PATH_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves the control channel until it closes.
pub(crate) async fn serve(channel: Arc<dyn DataChannel>, context: ControlContext) {
    let ControlContext { controls, display, local_use, grant, assent, reporter, path } = context;
    let mut path_check = tokio::time::interval(PATH_CHECK);
    let mut path_said = None;
    let lock = LockAsker { local_use: local_use.clone(), grant, assent, reporter };
    let (cursor_messages, mut from_cursor) = mpsc::channel(16);
    if let Err(err) = cursor::watch(display, cursor_messages) {
        tracing::error!(error = format!("{err:#}"), "the controller will not see the remote pointer");
    }
    let mut applied = controls.applied();
    let mut showing = controls.showing();
    let mut local = local_use.watch();
    let mut lock_state = local_use.lock_state();
    let mut privacy_state = local_use.privacy_state();
    // What is in force already (if streaming started first) goes out now.
    applied.mark_changed();
    showing.mark_changed();
    // The pointer as last seen on the whole screen, placed again on the
    // shown part when that changes.
    let mut pointer: Option<AgentToController> = None;
    loop {
        let outgoing = tokio::select! {
            event = channel.poll() => match event {
                Some(DataChannelEvent::OnMessage(message)) => on_message(&message.data, &controls, &applied, &lock),
                Some(DataChannelEvent::OnClose) | None => break,
                Some(_) => None,
            },
            changed = applied.changed() => match changed {
                Ok(()) => applied_message(&mut applied),
                Err(_) => break,
            },
            changed = showing.changed() => match changed {
                Ok(()) => {
                    let current = showing.borrow_and_update().clone();
                    let mut messages: Vec<AgentToController> = current
                        .map(|Showing { monitors, view }| AgentToController::Monitors { monitors, showing: view })
                        .into_iter()
                        .collect();
                    messages.extend(pointer.clone().map(|cursor| on_shown_area(cursor, &controls)));
                    if send_all(channel.as_ref(), &messages).await.is_err() {
                        break;
                    }
                    None
                }
                Err(_) => break,
            },
            changed = lock_state.changed() => match changed {
                Ok(()) => Some(AgentToController::Lock { state: lock_state.borrow_and_update().clone() }),
                Err(_) => break,
            },
            changed = privacy_state.changed() => match changed {
                Ok(()) => Some(AgentToController::Privacy { state: privacy_state.borrow_and_update().clone() }),
                Err(_) => break,
            },
            changed = local.changed() => match changed {
                Ok(()) => Some(AgentToController::LocalUse { state: *local.borrow_and_update() }),
                Err(_) => break,
            },
            _ = path_check.tick() => {
                let end = path.end().await;
                if end.is_some() && end != path_said {
                    path_said = end;
                    end.map(|end| AgentToController::Path { end })
                } else {
                    None
                }
            }
            Some(message) = from_cursor.recv() => {
                if matches!(message, AgentToController::Cursor { .. }) {
                    pointer = Some(message.clone());
                }
                Some(on_shown_area(message, &controls))
            }
        };
        if let Some(message) = outgoing
            && send_all(channel.as_ref(), std::slice::from_ref(&message)).await.is_err()
        {
            break;
        }
    }
    // Dropping `from_cursor` stops the cursor thread within a poll.
}

/// Sends `messages` in order; `Err` once the channel is closing.
async fn send_all(channel: &dyn DataChannel, messages: &[AgentToController]) -> Result<(), ()> {
    for message in messages {
        if let Err(err) = channel.send_text(&encode(message)).await {
            tracing::debug!(error = %err, "the control channel is closing");
            return Err(());
        }
    }
    Ok(())
}

/// A pointer position (in screen pixels) placed on the shown part of the
/// screen: relative to its corner, hidden when it is elsewhere. Other
/// messages go as they are.
fn on_shown_area(message: AgentToController, controls: &StreamControls) -> AgentToController {
    let AgentToController::Cursor { x, y, visible, shape } = message else { return message };
    let Some(area) = controls.area().get() else { return AgentToController::Cursor { x, y, visible, shape } };
    match area.from_screen(x, y) {
        Some((x, y)) => AgentToController::Cursor { x, y, visible, shape },
        None => AgentToController::Cursor { x: 0, y: 0, visible: false, shape },
    }
}

fn applied_message(applied: &mut watch::Receiver<Option<Applied>>) -> Option<AgentToController> {
    let current = *applied.borrow_and_update();
    current.map(|Applied { preset, screen }| AgentToController::applied(preset, screen))
}

/// Acts on one message; what to answer, if anything.
fn on_message(
    bytes: &[u8],
    controls: &StreamControls,
    applied: &watch::Receiver<Option<Applied>>,
    lock: &LockAsker,
) -> Option<AgentToController> {
    match decode_from_controller(bytes) {
        Ok(ControllerToAgent::SetQuality { preset }) => {
            tracing::info!(?preset, "the controller asks for another quality");
            if controls.request(preset) {
                // Capture answers through `applied` once the change is in force.
                return None;
            }
            // Nothing to change: say again what is in force.
            let current = *applied.borrow();
            current.map(|Applied { preset, screen }| AgentToController::applied(preset, screen))
        }
        Ok(ControllerToAgent::Show { view }) => {
            tracing::info!(?view, "the controller asks to see another part of the screen");
            // Capture answers through `showing` once the change is in force.
            controls.show(view);
            None
        }
        Ok(ControllerToAgent::Lock { on }) => lock.request(on),
        Ok(ControllerToAgent::Privacy { on }) => lock.request_privacy(on),
        Ok(ControllerToAgent::Heartbeat {}) => {
            lock.local_use.heartbeat();
            None
        }
        Err(reason) => {
            tracing::warn!(%reason, "dropping a control message");
            None
        }
    }
}

/// Turns the technician's lock and privacy screen requests into locks and
/// screens: only under a grant that includes them, and with the person's
/// say where the policy wants it.
struct LockAsker {
    local_use: LocalUseCell,
    grant: Option<Grant>,
    assent: ToolAssent,
    reporter: Reporter,
}

impl LockAsker {
    /// Acts on a request; the answer now, if any (the lock's state goes
    /// out as it changes).
    fn request(&self, on: bool) -> Option<AgentToController> {
        if !on {
            self.local_use.request_lock(false);
            return None;
        }
        let refused =
            |reason: &str| Some(AgentToController::Lock { state: LockState::Failed { reason: reason.into() } });
        let Some(grant) = self.grant.clone().filter(|grant| grant.access.contains(Access::LocalInputLock)) else {
            return refused("the session's mode or policy does not allow locking the keyboard and mouse");
        };
        let (local_use, assent, reporter) = (self.local_use.clone(), self.assent.clone(), self.reporter.clone());
        // The person may be asked: the channel goes on meanwhile.
        tokio::spawn(async move {
            let use_ = ToolUse { access: Access::LocalInputLock, detail: None };
            match assent.allow_use(use_, true, &grant, &reporter).await {
                Ok(()) => local_use.request_lock(true),
                Err(reason) => local_use.refuse_lock(reason),
            }
        });
        Some(AgentToController::Lock { state: LockState::Locking {} })
    }

    /// Acts on a privacy screen request. The screen comes with the lock,
    /// so the grant must include both; the person's say on the screen
    /// covers the lock (its question says so).
    fn request_privacy(&self, on: bool) -> Option<AgentToController> {
        if !on {
            self.local_use.request_privacy(false, Vec::new());
            return None;
        }
        let refused =
            |reason: &str| Some(AgentToController::Privacy { state: PrivacyState::Failed { reason: reason.into() } });
        let both = |grant: &Grant| {
            grant.access.contains(Access::PrivacyScreen) && grant.access.contains(Access::LocalInputLock)
        };
        let Some(grant) = self.grant.clone().filter(both) else {
            return refused("the session's mode or policy does not allow the privacy screen and the lock it needs");
        };
        let (local_use, assent, reporter) = (self.local_use.clone(), self.assent.clone(), self.reporter.clone());
        tokio::spawn(async move {
            let use_ = ToolUse { access: Access::PrivacyScreen, detail: None };
            match assent.allow_use(use_, true, &grant, &reporter).await {
                Ok(()) => local_use.request_privacy(true, screen_lines(&grant.technician_name)),
                Err(reason) => local_use.refuse_privacy(reason),
            }
        });
        Some(AgentToController::Privacy { state: PrivacyState::Covering {} })
    }
}
