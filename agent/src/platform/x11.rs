//! X11 (any X server, Xvfb included): display enumeration with RandR.

use anyhow::Context;
use tether_shared::agent::DisplayInfo;
use tether_shared::monitor::Monitor;
use x11rb::connection::Connection;
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::xproto::{ConnectionExt as _, Window};

/// Lists the monitors RandR reports, or the whole screen when RandR has none.
pub fn displays() -> anyhow::Result<Vec<DisplayInfo>> {
    let (conn, screen_index) = x11rb::connect(None).context("cannot connect to the X server")?;
    let screen = conn.setup().roots.get(screen_index).context("X server has no such screen")?;
    let whole_screen = DisplayInfo {
        name: std::env::var("DISPLAY").unwrap_or_else(|_| ":0".into()),
        width: u32::from(screen.width_in_pixels),
        height: u32::from(screen.height_in_pixels),
        primary: true,
    };
    let mut displays: Vec<DisplayInfo> = monitors(&conn, screen.root)
        .into_iter()
        .map(|monitor| DisplayInfo {
            name: monitor.name,
            width: monitor.width,
            height: monitor.height,
            primary: monitor.primary,
        })
        .collect();
    if displays.is_empty() {
        displays.push(whole_screen);
    }
    if !displays.iter().any(|display| display.primary) {
        displays[0].primary = true;
    }
    Ok(displays)
}

/// The active monitors RandR reports for the screen of `root` (none when
/// the server has no RandR 1.5), in the order RandR gives them.
pub fn monitors(conn: &impl Connection, root: Window) -> Vec<Monitor> {
    let reply = match conn.randr_get_monitors(root, true).map(|cookie| cookie.reply()) {
        Ok(Ok(reply)) => reply,
        _ => return Vec::new(),
    };
    let mut monitors = Vec::with_capacity(reply.monitors.len());
    for monitor in reply.monitors {
        let name = conn
            .get_atom_name(monitor.name)
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .map(|reply| String::from_utf8_lossy(&reply.name).into_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| format!("monitor-{}", monitors.len() + 1));
        // Monitors are on the screen: negative origins do not occur.
        monitors.push(Monitor {
            name,
            x: u32::try_from(monitor.x).unwrap_or(0),
            y: u32::try_from(monitor.y).unwrap_or(0),
            width: u32::from(monitor.width),
            height: u32::from(monitor.height),
            primary: monitor.primary,
        });
    }
    monitors
}
