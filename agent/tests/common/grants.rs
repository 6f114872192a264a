//! Grants for sessions driven directly in tests, as the link hands them
//! over once verified: bound to the controller whose offer they precede.

use tether_shared::grant::Grant;
use tether_shared::mode::SessionMode;
use tether_shared::signal::dtls_fingerprint;

/// Now, Unix milliseconds.
pub fn now_ms() -> i64 {
    tether_agent::trust::unix_millis()
}

/// A fresh grant in `mode` for session `session_id`, naming the controller
/// that made `offer_sdp`.
pub fn for_offer(session_id: &str, offer_sdp: &str, mode: SessionMode) -> Grant {
    let now = now_ms();
    Grant {
        session_id: session_id.into(),
        technician_id: "tech-1".into(),
        technician_name: "Tess".into(),
        target: "agent-1".into(),
        mode,
        access: mode.access(),
        controller_fingerprint: dtls_fingerprint(offer_sdp),
        unattended: true,
        allowed_modes: tether_shared::mode::ModeSet::of(&[SessionMode::Active]),
        user_acceptance: true,
        assent_each_time: tether_shared::access::AccessSet::all(),
        acceptance_timeout_secs: 120,
        max_file_mib: Some(10_240),
        issued_at: now,
        expires_at: now + 5 * 60_000,
        key_id: "test".into(),
    }
}
