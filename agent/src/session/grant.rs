//! The rules a session's current grant imposes, kept apart from the task
//! that applies them: which offers it answers (only the controller the
//! grant names, only while the grant is fresh), which data channels it
//! serves, and that a session's grants all name its one technician.

use tether_shared::access::Access;
use tether_shared::grant::{CLOCK_SKEW_MS, Grant};

/// Whether the controller offering with DTLS `fingerprint` may be answered
/// at `now` (Unix ms): the current grant must name it and still be fresh.
/// The error is the sentence the agent logs and reports.
pub fn admits_offer(grant: Option<&Grant>, fingerprint: Option<&str>, now: i64) -> Result<(), String> {
    let Some(grant) = grant else {
        return Err("no grant from the server covers this session yet".into());
    };
    let Some(fingerprint) = fingerprint else {
        return Err("the offer names no DTLS fingerprint".into());
    };
    if !grant.matches_controller(fingerprint) {
        return Err(format!(
            "the offer comes from a controller ({fingerprint}) the session's grant does not name ({})",
            grant.controller_fingerprint.as_deref().unwrap_or("none yet")
        ));
    }
    if now >= grant.expires_at.saturating_add(CLOCK_SKEW_MS) {
        return Err("the grant naming this controller has expired".into());
    }
    Ok(())
}

/// A new grant may replace the session's current one only for the same
/// technician: a reloaded page gets a new grant, another person does not.
pub fn same_technician(current: Option<&Grant>, new: &Grant) -> Result<(), String> {
    match current {
        Some(current) if current.technician_id != new.technician_id => Err(format!(
            "the grant is for another technician ({}) than the session's ({})",
            new.technician_name, current.technician_name
        )),
        _ => Ok(()),
    }
}

/// Whether the grant includes `access`.
pub fn allows(grant: Option<&Grant>, access: Access) -> bool {
    grant.is_some_and(|grant| grant.access.contains(access))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_shared::mode::SessionMode;

    fn grant(mode: SessionMode, fingerprint: &str) -> Grant {
        Grant {
            session_id: "s".into(),
            technician_id: "t1".into(),
            technician_name: "Tess".into(),
            target: "a".into(),
            mode,
            access: mode.access(),
            controller_fingerprint: Some(fingerprint.into()),
            unattended: false,
            allowed_modes: tether_shared::mode::ModeSet::empty(),
            user_acceptance: true,
            assent_each_time: tether_shared::access::AccessSet::all(),
            acceptance_timeout_secs: 120,
            max_file_mib: Some(10_240),
            issued_at: 1_000,
            expires_at: 61_000,
            key_id: "k".into(),
        }
    }

    #[test]
    fn only_the_named_controller_is_answered_and_only_while_the_grant_is_fresh() {
        let active = grant(SessionMode::Active, "sha-256 ab:cd");
        assert_eq!(admits_offer(Some(&active), Some("sha-256 AB:CD"), 2_000), Ok(()));
        assert!(admits_offer(None, Some("sha-256 ab:cd"), 2_000).is_err(), "no grant");
        assert!(admits_offer(Some(&active), None, 2_000).is_err(), "no fingerprint");
        let other = admits_offer(Some(&active), Some("sha-256 ee:ff"), 2_000).expect_err("another controller");
        assert!(other.contains("does not name"), "{other}");
        assert!(admits_offer(Some(&active), Some("sha-256 ab:cd"), 61_000 + CLOCK_SKEW_MS).is_err(), "expired");
        let unbound = Grant { controller_fingerprint: None, ..active };
        assert!(admits_offer(Some(&unbound), Some("sha-256 ab:cd"), 2_000).is_err(), "a request's grant names none");
    }

    #[test]
    fn grants_replace_each_other_only_for_the_same_technician() {
        let first = grant(SessionMode::Active, "x");
        let reload = grant(SessionMode::Active, "y");
        assert_eq!(same_technician(None, &first), Ok(()));
        assert_eq!(same_technician(Some(&first), &reload), Ok(()));
        let stranger = Grant { technician_id: "t2".into(), technician_name: "Mallory".into(), ..reload };
        assert!(same_technician(Some(&first), &stranger).is_err());
    }

    #[test]
    fn monitor_serves_the_control_channel_but_not_input() {
        let monitor = grant(SessionMode::Monitor, "x");
        let active = grant(SessionMode::Active, "x");
        let needs = |label| tether_shared::tool::Tool::from_label(label).expect("a served channel").needs();
        assert!(!allows(Some(&monitor), needs("input")));
        assert!(allows(Some(&monitor), needs("control")));
        assert!(allows(Some(&active), needs("input")));
        assert!(!allows(None, needs("control")), "nothing without a grant");
        assert_eq!(tether_shared::tool::Tool::from_label("shell"), None);
    }
}
