//! X DAMAGE on the root window: tells capture whether anything was drawn
//! since its last grab, so that an unchanged screen costs neither a grab
//! nor a comparison. One `NonEmpty` damage object: the server sends one
//! event when the damaged region goes from empty to non-empty, and
//! [`DamageTracker::reset`] (sent just before each grab) empties it again.

use x11rb::connection::{Connection, RequestConnection};
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _, ReportLevel};
use x11rb::protocol::xproto::Window;
use x11rb::rust_connection::RustConnection;

/// A damage object on the root and whether it reported damage since the
/// last [`reset`](Self::reset).
#[derive(Debug)]
pub struct DamageTracker {
    damage: damage::Damage,
    damaged: bool,
    /// The (16-bit) sequence number of the last reset: events the server
    /// generated before processing it are stale.
    reset_at: u16,
}

impl DamageTracker {
    /// Starts tracking `root`; `None` when the server lacks DAMAGE 1.1
    /// (capture then compares every frame, as without it).
    pub fn open(conn: &RustConnection, root: Window) -> anyhow::Result<Option<Self>> {
        if conn.extension_information(damage::X11_EXTENSION_NAME)?.is_none() {
            tracing::info!("the X server lacks DAMAGE: capture polls every frame");
            return Ok(None);
        }
        // The version must be negotiated before any other DAMAGE request.
        let version = conn.damage_query_version(1, 1)?.reply()?;
        if (version.major_version, version.minor_version) < (1, 1) {
            tracing::info!(major = version.major_version, minor = version.minor_version, "DAMAGE too old: polling");
            return Ok(None);
        }
        let damage = conn.generate_id()?;
        conn.damage_create(damage, root, ReportLevel::NON_EMPTY)?.check()?;
        // Creating it damages the whole window: the first grab happens anyway.
        Ok(Some(Self { damage, damaged: true, reset_at: 0 }))
    }

    /// Reads the events that arrived (without blocking); `true` if anything
    /// was drawn since the last reset.
    pub fn poll(&mut self, conn: &RustConnection) -> anyhow::Result<bool> {
        while let Some(event) = conn.poll_for_event()? {
            if let Event::DamageNotify(notify) = event
                && notify.damage == self.damage
                && !is_before(notify.sequence, self.reset_at)
            {
                self.damaged = true;
            }
        }
        Ok(self.damaged)
    }

    /// Empties the damaged region; sent before a grab, so that whatever is
    /// drawn during or after it is reported again. No round trip: the
    /// grab's reply follows it.
    pub fn reset(&mut self, conn: &RustConnection) -> anyhow::Result<()> {
        let cookie = conn.damage_subtract(self.damage, x11rb::NONE, x11rb::NONE)?;
        // Events carry the low 16 bits of the sequence number.
        self.reset_at = cookie.sequence_number() as u16;
        self.damaged = false;
        Ok(())
    }
}

/// Whether sequence number `event` (the last request the server had
/// processed when it sent the event) precedes `reset`, modulo 2¹⁶.
fn is_before(event: u16, reset: u16) -> bool {
    (event.wrapping_sub(reset) as i16) < 0
}

#[cfg(test)]
mod tests {
    use super::is_before;

    #[test]
    fn sequence_numbers_compare_across_the_wrap() {
        assert!(is_before(9, 10));
        assert!(!is_before(10, 10), "sent after the reset was processed");
        assert!(!is_before(11, 10));
        assert!(is_before(65_535, 2));
        assert!(!is_before(2, 65_535));
    }
}
