//! The person's own mouse and keyboard on X11, through XInput 2: which
//! slave devices are physical (every one but the XTEST devices the
//! technician's input comes through), their raw events as local activity
//! (for local input first), and the local-input lock.
//!
//! The lock is an active XI2 grab of every physical slave device by this
//! connection: while a slave is grabbed the X server floats it, so its
//! events reach this thread only, never the desktop; the XTEST devices are
//! not grabbed, so the technician's input still arrives. The escape
//! combination is read from the grabbed keyboards and ends the grab here,
//! before anything is reported. A grab dies with the connection that holds
//! it: when the agent exits or is killed, the X server gives the devices
//! back by itself — no state is left behind to undo.
//!
//! The privacy screen (`x11_privacy`) is held by the same connection and
//! thread: it goes up only over a lock, and whatever ends the lock — the
//! technician, the escape combination, the agent's end — takes it away
//! with the same stroke.

use super::x11_privacy::{Cover, PrivacyScreen};
use anyhow::Context;
use std::collections::HashSet;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tether_shared::local_input::{ComboKey, EscapeCombo};
use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xinput::{self, ConnectionExt as _, DeviceType, XIEventMask};
use x11rb::protocol::xproto::{self, ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

/// How often the thread looks for commands between X events.
const COMMAND_POLL: Duration = Duration::from_millis(20);
/// How often the privacy screen is checked to be still in force.
const COVER_CHECK: Duration = Duration::from_secs(1);

/// What the thread tells the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The person moved or typed on a physical device (not while locked).
    Activity,
    /// The devices are taken: `devices` of them.
    Locked { devices: usize },
    /// The lock could not be taken, and why (nothing is locked).
    LockFailed(String),
    /// The person pressed the escape combination: the devices are theirs
    /// again already, and any privacy screen is gone.
    Escaped,
    /// The privacy screen is up, over `monitors` monitors.
    Covered { monitors: usize },
    /// The privacy screen could not be put up or kept, and why (it is not
    /// up; the lock stays).
    CoverFailed(String),
}

enum Command {
    Lock,
    Unlock,
    /// Put the privacy screen up with these lines (over a lock only), or
    /// take it away.
    Cover(Option<Vec<String>>),
}

/// The physical input watcher of one session; dropping it gives back
/// whatever it holds.
#[derive(Debug)]
pub struct PhysicalInput {
    commands: mpsc::Sender<Command>,
    thread: Option<JoinHandle<()>>,
}

impl PhysicalInput {
    /// Watches the physical devices of `display` (or `$DISPLAY`); reports
    /// go to `report`; a privacy screen it puts up is told to `cover`.
    /// Fails without XInput 2.2.
    pub fn open(display: Option<&str>, report: impl Fn(Report) + Send + 'static, cover: Cover) -> anyhow::Result<Self> {
        let watcher = Watcher::open(display, cover)?;
        let (commands, received) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("tether-physical-input".into())
            .spawn(move || {
                if let Err(err) = watcher.run(&received, &report) {
                    tracing::warn!(error = format!("{err:#}"), "watching the physical input stopped");
                }
            })
            .context("cannot start the physical input thread")?;
        Ok(Self { commands, thread: Some(thread) })
    }

    /// Takes the physical devices from the desktop.
    pub fn lock(&self) {
        let _ = self.commands.send(Command::Lock);
    }

    /// Gives them back (and takes any privacy screen away).
    pub fn unlock(&self) {
        let _ = self.commands.send(Command::Unlock);
    }

    /// Puts the privacy screen up saying `lines` (while locked), or takes
    /// it away (`None`).
    pub fn cover(&self, lines: Option<Vec<String>>) {
        let _ = self.commands.send(Command::Cover(lines));
    }
}

impl Drop for PhysicalInput {
    fn drop(&mut self) {
        // Closing the channel ends the thread, whose connection's grabs end with it.
        let (closed, _) = mpsc::channel();
        self.commands = closed;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the lock holds: the grabbed devices, and the privacy screen over them.
#[derive(Default)]
struct Held {
    devices: Vec<xinput::DeviceId>,
    screen: Option<PrivacyScreen>,
}

struct Watcher {
    conn: RustConnection,
    screen_index: usize,
    root: Window,
    cover: Cover,
    /// The keysym in the first column of each keycode, from `min_keycode`.
    keysyms: Vec<u32>,
    min_keycode: u8,
    per_keycode: usize,
}

impl Watcher {
    fn open(display: Option<&str>, cover: Cover) -> anyhow::Result<Self> {
        let (conn, screen_index) = x11rb::connect(display).context("cannot connect to the X server")?;
        let version = conn.xinput_xi_query_version(2, 2)?.reply().context("the X server lacks XInput 2")?;
        if (version.major_version, version.minor_version) < (2, 2) {
            anyhow::bail!("XInput {}.{} is too old; 2.2 is needed", version.major_version, version.minor_version);
        }
        let root = conn.setup().roots.get(screen_index).context("X server has no such screen")?.root;
        let (min_keycode, max_keycode) = (conn.setup().min_keycode, conn.setup().max_keycode);
        let mapping = conn.get_keyboard_mapping(min_keycode, max_keycode - min_keycode + 1)?.reply()?;
        let mask = XIEventMask::RAW_KEY_PRESS | XIEventMask::RAW_BUTTON_PRESS | XIEventMask::RAW_MOTION;
        conn.xinput_xi_select_events(
            root,
            &[xinput::EventMask { deviceid: xinput::Device::ALL.into(), mask: vec![mask] }],
        )?;
        conn.flush()?;
        Ok(Self {
            conn,
            screen_index,
            root,
            cover,
            keysyms: mapping.keysyms,
            min_keycode,
            per_keycode: usize::from(mapping.keysyms_per_keycode).max(1),
        })
    }

    /// The slave devices that are not XTEST's, keyboards and pointers.
    fn physical_devices(&self) -> anyhow::Result<Vec<(xinput::DeviceId, bool)>> {
        let reply = self.conn.xinput_xi_query_device(xinput::Device::ALL)?.reply()?;
        Ok(reply
            .infos
            .into_iter()
            .filter(|info| matches!(info.type_, DeviceType::SLAVE_KEYBOARD | DeviceType::SLAVE_POINTER))
            .filter(|info| !String::from_utf8_lossy(&info.name).contains("XTEST"))
            .map(|info| (info.deviceid, info.type_ == DeviceType::SLAVE_KEYBOARD))
            .collect())
    }

    fn combo_key(&self, keycode: u32) -> Option<(ComboKey, u8)> {
        let index = usize::try_from(keycode).ok()?.checked_sub(usize::from(self.min_keycode))? * self.per_keycode;
        match *self.keysyms.get(index)? {
            0xffe3 => Some((ComboKey::Control, 0)),
            0xffe4 => Some((ComboKey::Control, 1)),
            0xffe9 | 0xffe7 => Some((ComboKey::Alt, 0)),
            0xffea | 0xffe8 | 0xfe03 => Some((ComboKey::Alt, 1)),
            0xffe1 => Some((ComboKey::Shift, 0)),
            0xffe2 => Some((ComboKey::Shift, 1)),
            0xff1b => Some((ComboKey::Escape, 0)),
            _ => None,
        }
    }

    fn run(self, commands: &mpsc::Receiver<Command>, report: &dyn Fn(Report)) -> anyhow::Result<()> {
        let mut physical: HashSet<xinput::DeviceId> =
            self.physical_devices()?.into_iter().map(|(device, _)| device).collect();
        let mut held = Held::default();
        let mut combo = EscapeCombo::default();
        let mut checked_at = Instant::now();
        loop {
            match commands.try_recv() {
                Ok(Command::Lock) if held.devices.is_empty() => match self.grab() {
                    Ok(devices) if devices.is_empty() => {
                        report(Report::LockFailed("this computer has no keyboard or mouse to lock".into()));
                    }
                    Ok(devices) => {
                        physical = devices.iter().copied().collect();
                        combo.reset();
                        report(Report::Locked { devices: devices.len() });
                        held.devices = devices;
                    }
                    Err(err) => report(Report::LockFailed(format!("{err:#}"))),
                },
                Ok(Command::Lock) => {}
                Ok(Command::Unlock) => self.release(&mut held)?,
                Ok(Command::Cover(Some(lines))) => self.cover_up(&mut held, lines, report),
                Ok(Command::Cover(None)) => self.uncover(&mut held),
                Err(mpsc::TryRecvError::Empty) => {}
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.release(&mut held)?;
                    return Ok(());
                }
            }
            if checked_at.elapsed() >= COVER_CHECK {
                checked_at = Instant::now();
                if let Some(screen) = &mut held.screen
                    && let Err(err) = screen.keep(&self.conn)
                {
                    held.screen = None;
                    report(Report::CoverFailed(format!("{err:#}")));
                }
            }
            let Some(event) = self.conn.poll_for_event()? else {
                // Waiting for commands and events alike, not for a condition.
                std::thread::sleep(COMMAND_POLL);
                continue;
            };
            let locked = !held.devices.is_empty();
            match event {
                Event::XinputRawKeyPress(event) if !locked && physical.contains(&event.sourceid) => {
                    report(Report::Activity);
                }
                Event::XinputRawButtonPress(event) if !locked && physical.contains(&event.sourceid) => {
                    report(Report::Activity);
                }
                Event::XinputRawMotion(event) if !locked && physical.contains(&event.sourceid) => {
                    report(Report::Activity);
                }
                Event::XinputKeyPress(event) | Event::XinputKeyRelease(event) if locked => {
                    let down = event.event_type == xinput::KEY_PRESS_EVENT;
                    if let Some((key, side)) = self.combo_key(event.detail)
                        && combo.key(key, side, down)
                    {
                        self.release(&mut held)?;
                        report(Report::Escaped);
                    }
                }
                Event::Expose(event) if event.count == 0 => {
                    if let Some(screen) = held.screen.as_mut().filter(|screen| screen.window() == event.window) {
                        screen.paint(&self.conn)?;
                    }
                }
                _ => {}
            }
        }
    }

    /// Puts the privacy screen up over a lock.
    fn cover_up(&self, held: &mut Held, lines: Vec<String>, report: &dyn Fn(Report)) {
        if held.devices.is_empty() {
            report(Report::CoverFailed("the keyboard and mouse are not locked, so the screen was not hidden".into()));
            return;
        }
        if let Some(screen) = &held.screen {
            report(Report::Covered { monitors: screen.monitors() });
            return;
        }
        match PrivacyScreen::show(&self.conn, self.screen_index, lines, &self.cover) {
            Ok(screen) => {
                report(Report::Covered { monitors: screen.monitors() });
                held.screen = Some(screen);
            }
            Err(err) => report(Report::CoverFailed(format!("{err:#}"))),
        }
    }

    /// Takes the privacy screen away, the lock staying.
    fn uncover(&self, held: &mut Held) {
        if let Some(screen) = held.screen.take() {
            screen.hide(&self.conn);
        }
    }

    /// Takes the privacy screen away and gives the devices back.
    fn release(&self, held: &mut Held) -> anyhow::Result<()> {
        self.uncover(held);
        self.ungrab(&mut held.devices)
    }

    /// Grabs every physical slave device; the ones grabbed (none are left
    /// grabbed when one fails).
    fn grab(&self) -> anyhow::Result<Vec<xinput::DeviceId>> {
        let mut grabbed = Vec::new();
        for (device, keyboard) in self.physical_devices()? {
            let mask =
                if keyboard { XIEventMask::KEY_PRESS | XIEventMask::KEY_RELEASE } else { XIEventMask::BUTTON_PRESS };
            let reply = self
                .conn
                .xinput_xi_grab_device(
                    self.root,
                    x11rb::CURRENT_TIME,
                    x11rb::NONE,
                    device,
                    xproto::GrabMode::ASYNC,
                    xproto::GrabMode::ASYNC,
                    xinput::GrabOwner::NO_OWNER,
                    &[u32::from(mask)],
                )?
                .reply()?;
            if reply.status != xproto::GrabStatus::SUCCESS {
                let mut partial = grabbed;
                self.ungrab(&mut partial)?;
                anyhow::bail!("device {device} could not be taken ({:?}): another program holds it", reply.status);
            }
            grabbed.push(device);
        }
        self.conn.flush()?;
        Ok(grabbed)
    }

    fn ungrab(&self, grabbed: &mut Vec<xinput::DeviceId>) -> anyhow::Result<()> {
        for device in grabbed.drain(..) {
            self.conn.xinput_xi_ungrab_device(x11rb::CURRENT_TIME, device)?;
        }
        self.conn.flush()?;
        Ok(())
    }
}
