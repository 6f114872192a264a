//! The person's own mouse and keyboard, agent side (`platform::
//! x11_physical` watches them): local input first — they hold the
//! technician's input back until a second after their last movement
//! (`tether_shared::local_input::LocalFirst` decides) and the controller
//! hears when the person starts and stops — and the local-input lock
//! (`InputLock` decides: unlocked by the technician, the escape
//! combination, the session's end or a lost heartbeat), with the privacy
//! screen over it where the technician asks (`InputLock` covers it too:
//! whatever ends the lock takes the screen away). One record per
//! session, shared by the X thread (what happened), the input task
//! (whether to hold) and the control channel (what to do and say).

use super::Reporter;
use super::activity::ActivityCell;
use crate::platform::x11_physical::{PhysicalInput, Report};
use crate::platform::x11_privacy::Cover;
use std::sync::{Arc, Mutex, PoisonError};
use tether_shared::activity::Happening;
use tether_shared::local_input::{InputLock, LocalFirst, LocalUse, LockEffect, LockState, Unlocked};
use tether_shared::privacy::PrivacyState;
use tether_shared::signal::ToolEvent;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What the devices' watcher is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DeviceCommand {
    Lock,
    Unlock,
    /// Put the privacy screen up with these lines, or take it away.
    Cover(Option<Vec<String>>),
}

/// The session's record of the person's own input. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LocalUseCell {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    first: Mutex<LocalFirst>,
    state: watch::Sender<LocalUse>,
    /// Woken when the person starts using the computer or a lock starts.
    started: Notify,
    since: Instant,
    lock: Mutex<InputLock>,
    lock_state: watch::Sender<LockState>,
    privacy_state: watch::Sender<PrivacyState>,
    /// What the privacy screen says (who is connected, how to remove it).
    screen_lines: Mutex<Vec<String>>,
    /// Which window covers the display, for capture to look beneath.
    cover: Cover,
    /// To the task that holds the devices' watcher.
    devices: Mutex<Option<mpsc::UnboundedSender<DeviceCommand>>>,
    /// Audits what the lock does, before it takes effect.
    audit: Mutex<Option<Reporter>>,
    /// What is in use (the bar says the lock and how to undo it).
    activity: Mutex<Option<ActivityCell>>,
}

impl Default for LocalUseCell {
    fn default() -> Self {
        let inner = Inner {
            first: Mutex::default(),
            state: watch::Sender::new(LocalUse::Idle),
            started: Notify::new(),
            since: Instant::now(),
            lock: Mutex::default(),
            lock_state: watch::Sender::new(LockState::Unlocked { why: None }),
            privacy_state: watch::Sender::new(PrivacyState::Off { why: None }),
            screen_lines: Mutex::default(),
            cover: Cover::default(),
            devices: Mutex::default(),
            audit: Mutex::default(),
            activity: Mutex::default(),
        };
        Self { inner: Arc::new(inner) }
    }
}

impl LocalUseCell {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.inner.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn first(&self) -> std::sync::MutexGuard<'_, LocalFirst> {
        self.inner.first.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The person moved or typed just now.
    pub fn activity(&self) {
        let now = self.now_ms();
        if let Some(state) = self.first().local_activity(now) {
            self.inner.state.send_replace(state);
            self.inner.started.notify_one();
        }
    }

    /// Whether the technician's input waits now.
    pub fn holds(&self) -> bool {
        self.first().holds(self.now_ms())
    }

    /// Whether the person is using the computer, as it changes.
    pub fn watch(&self) -> watch::Receiver<LocalUse> {
        self.inner.state.subscribe()
    }

    /// Says `Idle` once the hold ends and lets a lock lapse without
    /// heartbeats; runs until dropped.
    async fn expire(self) {
        loop {
            self.inner.started.notified().await;
            loop {
                let next = [self.first().next_change(), self.locked().next_change()].into_iter().flatten().min();
                let Some(at) = next else { break };
                let wait = at.saturating_sub(self.now_ms());
                tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                let now = self.now_ms();
                let polled = self.first().poll(now);
                if let Some(state) = polled {
                    self.inner.state.send_replace(state);
                }
                let lapsed = self.locked().poll(now);
                self.apply(lapsed);
            }
        }
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, InputLock> {
        self.inner.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn audit(&self, event: ToolEvent) {
        if let Some(reporter) = self.inner.audit.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            reporter.tool(event);
        }
    }

    /// Where audit events go (the session's reporter) and what is in use
    /// is noted (the session's activity).
    pub(crate) fn report_to(&self, reporter: Reporter, activity: ActivityCell) {
        *self.inner.audit.lock().unwrap_or_else(PoisonError::into_inner) = Some(reporter);
        *self.inner.activity.lock().unwrap_or_else(PoisonError::into_inner) = Some(activity);
    }

    /// Sets the lock's state for the controller, and for the bar whether
    /// the devices are taken.
    fn set_state(&self, state: LockState) {
        let taken = matches!(state, LockState::Locked { .. });
        if let Some(activity) = self.inner.activity.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            activity.note(Happening::Locked(taken));
        }
        self.inner.lock_state.send_replace(state);
    }

    /// Carries out what the lock decided: audited first, then done.
    fn apply(&self, effect: Option<LockEffect>) {
        let Some(effect) = effect else { return };
        let devices = self.inner.devices.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let send = |command: DeviceCommand| devices.as_ref().is_some_and(|devices| devices.send(command).is_ok());
        match effect {
            LockEffect::Lock { covered } => {
                self.audit(ToolEvent::InputLocked);
                if covered {
                    self.audit(ToolEvent::PrivacyShown);
                    self.inner.privacy_state.send_replace(PrivacyState::Covering {});
                }
                self.set_state(LockState::Locking {});
                self.inner.started.notify_one();
                if !send(DeviceCommand::Lock) {
                    self.lock_failed("this computer's keyboard and mouse cannot be watched (no XInput 2)".to_owned());
                } else if covered {
                    send(DeviceCommand::Cover(Some(self.screen_lines())));
                }
            }
            LockEffect::Cover(true) => {
                self.audit(ToolEvent::PrivacyShown);
                self.inner.privacy_state.send_replace(PrivacyState::Covering {});
                send(DeviceCommand::Cover(Some(self.screen_lines())));
            }
            LockEffect::Cover(false) => {
                self.audit(ToolEvent::PrivacyRemoved { why: Unlocked::ByTechnician });
                send(DeviceCommand::Cover(None));
                self.inner.privacy_state.send_replace(PrivacyState::Off { why: Some(Unlocked::ByTechnician) });
            }
            LockEffect::Unlock { why, uncover } => {
                self.audit(ToolEvent::InputUnlocked { why });
                if uncover {
                    self.audit(ToolEvent::PrivacyRemoved { why });
                }
                send(DeviceCommand::Unlock);
                self.unlocked(why, uncover);
            }
        }
    }

    /// Says the lock ended (and the screen with it, when it was up).
    fn unlocked(&self, why: Unlocked, uncovered: bool) {
        if uncovered {
            self.inner.privacy_state.send_replace(PrivacyState::Off { why: Some(why) });
        }
        self.set_state(LockState::Unlocked { why: Some(why) });
    }

    fn screen_lines(&self) -> Vec<String> {
        self.inner.screen_lines.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The technician asks to lock (already allowed by the grant and the
    /// person) or unlock.
    pub fn request_lock(&self, on: bool) {
        let now = self.now_ms();
        let effect = if on { self.locked().lock(now) } else { self.locked().unlock(Unlocked::ByTechnician) };
        self.apply(effect);
    }

    /// The technician asks for the privacy screen saying `lines` (already
    /// allowed by the grant and the person), or to take it away.
    pub fn request_privacy(&self, on: bool, lines: Vec<String>) {
        if on {
            *self.inner.screen_lines.lock().unwrap_or_else(PoisonError::into_inner) = lines;
        }
        let now = self.now_ms();
        let effect = self.locked().cover(on, now);
        self.apply(effect);
    }

    /// The devices could not be taken: nothing is locked, nothing covered.
    fn lock_failed(&self, reason: String) {
        if let Some(LockEffect::Unlock { uncover, .. }) = self.locked().unlock(Unlocked::SessionEnded) {
            self.audit(ToolEvent::InputLockFailed { reason: reason.clone() });
            if uncover {
                self.cover_failed(format!("the keyboard and mouse could not be locked: {reason}"));
            }
            self.set_state(LockState::Failed { reason });
        }
    }

    /// The privacy screen could not be put up or kept: nothing covers the
    /// display (the lock stays).
    fn cover_failed(&self, reason: String) {
        self.locked().uncovered();
        self.audit(ToolEvent::PrivacyFailed { reason: reason.clone() });
        self.inner.privacy_state.send_replace(PrivacyState::Failed { reason });
    }

    /// The session's mode no longer allows the lock: it ends.
    pub fn end_lock(&self) {
        let effect = self.locked().unlock(Unlocked::SessionEnded);
        self.apply(effect);
    }

    /// The session's mode no longer allows the privacy screen: it goes.
    pub fn end_privacy(&self) {
        let effect = self.locked().cover(false, self.now_ms());
        self.apply(effect);
    }

    /// The lock was not allowed (the person said no, or was not there).
    pub fn refuse_lock(&self, reason: String) {
        self.set_state(LockState::Failed { reason });
    }

    /// The privacy screen was not allowed.
    pub fn refuse_privacy(&self, reason: String) {
        self.inner.privacy_state.send_replace(PrivacyState::Failed { reason });
    }

    /// The controller's heartbeat.
    pub fn heartbeat(&self) {
        let now = self.now_ms();
        self.locked().heartbeat(now);
    }

    /// Where the lock stands, as it changes.
    pub fn lock_state(&self) -> watch::Receiver<LockState> {
        self.inner.lock_state.subscribe()
    }

    /// Where the privacy screen stands, as it changes.
    pub fn privacy_state(&self) -> watch::Receiver<PrivacyState> {
        self.inner.privacy_state.subscribe()
    }

    /// Which window covers the display while the privacy screen is up.
    pub fn cover(&self) -> Cover {
        self.inner.cover.clone()
    }

    /// What the devices' watcher reported about the lock.
    fn on_report(&self, report: Report) {
        match report {
            Report::Activity => self.activity(),
            Report::Locked { devices } => {
                let devices = u32::try_from(devices).unwrap_or(u32::MAX);
                if self.locked().is_locked() {
                    self.set_state(LockState::Locked { devices });
                }
            }
            Report::LockFailed(reason) => self.lock_failed(reason),
            // The devices are the person's again already, the screen gone;
            // this only records it.
            Report::Escaped => {
                if let Some(LockEffect::Unlock { why, uncover }) = self.locked().unlock(Unlocked::Escape) {
                    self.audit(ToolEvent::InputUnlocked { why });
                    if uncover {
                        self.audit(ToolEvent::PrivacyRemoved { why });
                    }
                    self.unlocked(why, uncover);
                }
            }
            Report::Covered { monitors } => {
                if self.locked().is_covered() {
                    let monitors = u32::try_from(monitors).unwrap_or(u32::MAX);
                    self.inner.privacy_state.send_replace(PrivacyState::On { monitors });
                }
            }
            Report::CoverFailed(reason) => self.cover_failed(reason),
        }
    }
}

/// Watching the person's own devices for one session; dropping it stops,
/// and gives back whatever was locked.
#[derive(Debug)]
pub struct LocalWatch {
    expiry: JoinHandle<()>,
    devices: Option<JoinHandle<()>>,
}

impl Drop for LocalWatch {
    fn drop(&mut self) {
        self.expiry.abort();
        if let Some(devices) = &self.devices {
            devices.abort();
        }
    }
}

/// Starts watching `display` (or `$DISPLAY`) into `cell`. Where the X
/// server has no XInput 2, the technician's input is never held (and a
/// warning says so).
pub async fn watch(display: Option<String>, cell: LocalUseCell) -> LocalWatch {
    let reporting = cell.clone();
    let report = move |report: Report| reporting.on_report(report);
    let cover = cell.cover();
    let opened = tokio::task::spawn_blocking(move || PhysicalInput::open(display.as_deref(), report, cover)).await;
    let physical = match opened {
        Ok(Ok(physical)) => Some(physical),
        Ok(Err(err)) => {
            tracing::warn!(
                error = format!("{err:#}"),
                "the person's own input cannot be watched: it will not hold the technician's"
            );
            None
        }
        Err(err) => {
            tracing::warn!(error = %err, "the person's own input cannot be watched");
            None
        }
    };
    let devices = physical.map(|physical| {
        let (commands, mut received) = mpsc::unbounded_channel();
        *cell.inner.devices.lock().unwrap_or_else(PoisonError::into_inner) = Some(commands);
        // Owns the watcher: aborting this task drops it, which gives the devices back.
        tokio::spawn(async move {
            while let Some(command) = received.recv().await {
                match command {
                    DeviceCommand::Lock => physical.lock(),
                    DeviceCommand::Unlock => physical.unlock(),
                    DeviceCommand::Cover(lines) => physical.cover(lines),
                }
            }
        })
    });
    LocalWatch { expiry: tokio::spawn(cell.expire()), devices }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_lock_without_devices_fails_and_one_without_heartbeats_lapses() {
        let cell = LocalUseCell::default();
        let (events, mut audited) = mpsc::unbounded_channel();
        cell.report_to(Reporter { session_id: "s".into(), events }, ActivityCell::default());
        let expiry = tokio::spawn(cell.clone().expire());
        // No watcher: nothing can be locked, and the page is told why.
        cell.request_lock(true);
        assert!(matches!(*cell.lock_state().borrow(), LockState::Failed { .. }));
        // With a watcher (a channel standing in for it), the lock lapses 5 s after the last heartbeat.
        let (commands, mut devices) = mpsc::unbounded_channel();
        *cell.inner.devices.lock().expect("devices") = Some(commands);
        cell.request_lock(true);
        assert_eq!(devices.recv().await, Some(DeviceCommand::Lock));
        cell.on_report(Report::Locked { devices: 2 });
        assert_eq!(*cell.lock_state().borrow(), LockState::Locked { devices: 2 });
        let mut state = cell.lock_state();
        state.changed().await.expect("a change");
        assert_eq!(*state.borrow(), LockState::Unlocked { why: Some(Unlocked::HeartbeatLost) });
        assert_eq!(devices.recv().await, Some(DeviceCommand::Unlock));
        let mut events = Vec::new();
        while let Ok(super::super::SessionEvent::Tool { event, .. }) = audited.try_recv() {
            events.push(event);
        }
        let failed = ToolEvent::InputLockFailed {
            reason: "this computer's keyboard and mouse cannot be watched (no XInput 2)".into(),
        };
        assert_eq!(
            events,
            [
                ToolEvent::InputLocked,
                failed,
                ToolEvent::InputLocked,
                ToolEvent::InputUnlocked { why: Unlocked::HeartbeatLost }
            ],
            "audited before each try, when it failed and when it lapsed"
        );
        expiry.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn activity_holds_then_idles_after_a_second() {
        let cell = LocalUseCell::default();
        let expiry = tokio::spawn(cell.clone().expire());
        let mut state = cell.watch();
        assert!(!cell.holds());
        cell.activity();
        assert!(cell.holds());
        assert_eq!(*state.borrow_and_update(), LocalUse::InUse);
        state.changed().await.expect("a change");
        assert_eq!(*state.borrow_and_update(), LocalUse::Idle);
        assert!(!cell.holds());
        expiry.abort();
    }
}
