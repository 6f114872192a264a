//! X11 (any X server, Xvfb included): display enumeration with RandR.

use anyhow::Context;
use tether_shared::agent::DisplayInfo;
use x11rb::connection::Connection;
use x11rb::protocol::randr::ConnectionExt as _;
use x11rb::protocol::xproto::ConnectionExt as _;

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
    let monitors = match conn.randr_get_monitors(screen.root, true).map(|cookie| cookie.reply()) {
        Ok(Ok(reply)) => reply.monitors,
        _ => return Ok(vec![whole_screen]),
    };
    let mut displays = Vec::with_capacity(monitors.len());
    for monitor in monitors {
        let name = conn
            .get_atom_name(monitor.name)
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .map(|reply| String::from_utf8_lossy(&reply.name).into_owned())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| format!("monitor-{}", displays.len()));
        displays.push(DisplayInfo {
            name,
            width: u32::from(monitor.width),
            height: u32::from(monitor.height),
            primary: monitor.primary,
        });
    }
    if displays.is_empty() {
        displays.push(whole_screen);
    }
    if !displays.iter().any(|display| display.primary) {
        displays[0].primary = true;
    }
    Ok(displays)
}
