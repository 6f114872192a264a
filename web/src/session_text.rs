//! Sessions in words, for the session lists and the auditor's timeline:
//! how long one lasted, its state, how it is connected, how it ended and
//! by whom, and each audit action as a phrase.

use crate::text::sentence;
use tether_shared::api::{AuditEntryView, SessionSummary};

/// The time from `from` to `to` (Unix milliseconds) in words: "42 s",
/// "3 min 05 s", "1 h 02 min"; nothing negative.
pub fn duration(from: i64, to: i64) -> String {
    let seconds = to.saturating_sub(from).max(0) / 1_000;
    let (hours, minutes, seconds) = (seconds / 3_600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{hours} h {minutes:02} min")
    } else if minutes > 0 {
        format!("{minutes} min {seconds:02} s")
    } else {
        format!("{seconds} s")
    }
}

/// Whether the session has not ended.
pub fn is_live(session: &SessionSummary) -> bool {
    session.ended_at.is_none()
}

/// The session's state as a label.
pub fn state_label(state: &str) -> &'static str {
    match state {
        "requested" => "Requested",
        "asking" => "Asking the user",
        "accepted" => "Accepted",
        "active" => "Active",
        "ended" => "Ended",
        _ => "Unknown",
    }
}

/// How the session was opened and, while live, how it reaches the
/// computer: "Enrolled computer, direct", "Connection code, via relay
/// host:port"; only the kind once it ended (the server knows the relay of
/// live sessions only).
pub fn connection(session: &SessionSummary) -> String {
    let kind = if session.kind == "code" { "Connection code" } else { "Enrolled computer" };
    match &session.broker {
        Some(address) => format!("{kind}, via relay {address}"),
        None if is_live(session) => format!("{kind}, direct"),
        None => kind.to_owned(),
    }
}

/// Who ended the session, in words: an account's username, "the server",
/// or the computer (its agent acting).
pub fn ended_by(session: &SessionSummary) -> Option<String> {
    let by = session.ended_by.as_deref()?;
    Some(match by {
        "system" => "the server".to_owned(),
        agent if agent.starts_with("agent:") => format!("the computer {}", session.computer),
        account => account.to_owned(),
    })
}

/// How the session ended, as a sentence ("Ended by administrator admin.").
pub fn outcome(session: &SessionSummary) -> String {
    session.end_reason.as_deref().map_or_else(|| "Ended.".to_owned(), sentence)
}

/// An audit action as a phrase about what happened.
pub fn action_words(action: &str) -> &'static str {
    match action {
        "session.request" => "asked for a session",
        "session.user_asked" => "asked the person at the computer to accept",
        "session.user_accepted" => "the person at the computer accepted",
        "session.user_rejected" => "the person at the computer rejected the session",
        "session.user_no_answer" => "the person at the computer did not answer",
        "session.start" => "the session started",
        "session.reattach" => "the controller re-attached",
        "session.end" => "the session ended",
        "session.grant" => "the server granted access",
        "session.refused" => "the computer refused something the server sent",
        "session.mode_requested" => "asked to change the session's mode",
        "session.mode_asked" => "asked the person at the computer to allow another mode",
        "session.mode_changed" => "the session's mode changed",
        "session.mode_refused" => "the change of mode did not happen",
        "session.policy_narrowed" => "a policy change narrowed the session's mode",
        "session.chat" => "said",
        "broker_session.issue" => "issued a connection code",
        "broker_session.renew" => "requested a new code",
        "broker_session.extend" => "extended the code's time",
        "broker_session.cancel" => "cancelled the code",
        "broker_session.redeemed" => "entered the code",
        "broker_session.redeem_failed" => "entered a wrong code",
        "broker_session.wrong_guess" => "a wrong code came close to this one",
        "broker_session.voided" => "the code was voided after wrong tries",
        "broker_session.expired" => "the code expired",
        "broker_session.broker" => "chose a relay",
        "broker_session.target_connected" => "the computer connected",
        "broker_session.acceptance_prompted" => "the code's user was asked to accept",
        "broker_session.accepted" => "the code's user accepted",
        "broker_session.rejected" => "the code's user rejected",
        "broker_session.started" => "the code's session started",
        "broker_session.ended" => "the code's session ended",
        _ => "recorded an event",
    }
}

/// Who acted, as a reader knows them: an account's name, "the server", or
/// an agent by its computer's name.
pub fn actor_label(entry: &AuditEntryView) -> String {
    match (&entry.actor_name, entry.actor.as_str()) {
        (Some(computer), _) => format!("the computer {computer}"),
        (None, "system") => "the server".to_owned(),
        (None, actor) => actor.to_owned(),
    }
}

/// Details worth a line of their own, as "name: value" pairs (the reason
/// first), leaving out ids a reader has already.
pub fn detail_lines(entry: &AuditEntryView) -> Vec<String> {
    let Some(details) = entry.details.as_object() else {
        return Vec::new();
    };
    let mut lines: Vec<(bool, String)> = details
        .iter()
        .filter(|(name, _)| name.as_str() != "session_id")
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (name != "reason", format!("{}: {text}", name.replace('_', " ")))
        })
        .collect();
    lines.sort_by_key(|(not_reason, _)| *not_reason);
    lines.into_iter().map(|(_, line)| line).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn session(kind: &str, ended_by: Option<&str>) -> SessionSummary {
        SessionSummary {
            id: "s".into(),
            technician: "Tina".into(),
            computer: "pc-1".into(),
            person: None,
            kind: kind.into(),
            state: "ended".into(),
            created_at: 0,
            ended_at: Some(1),
            end_reason: Some("ended by administrator admin".into()),
            ended_by: ended_by.map(str::to_owned),
            mode: None,
            broker: None,
            controller_attached: false,
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0, 999), "0 s");
        assert_eq!(duration(0, 42_000), "42 s");
        assert_eq!(duration(0, 185_000), "3 min 05 s");
        assert_eq!(duration(0, 3_720_000), "1 h 02 min");
        assert_eq!(duration(5_000, 0), "0 s");
    }

    #[test]
    fn who_ended_and_how() {
        assert_eq!(ended_by(&session("enrolled", Some("admin"))).as_deref(), Some("admin"));
        assert_eq!(ended_by(&session("enrolled", Some("system"))).as_deref(), Some("the server"));
        assert_eq!(ended_by(&session("code", Some("agent:broker:x"))).as_deref(), Some("the computer pc-1"));
        assert_eq!(ended_by(&session("code", None)), None);
        assert_eq!(outcome(&session("code", None)), "Ended by administrator admin.");
    }

    #[test]
    fn connections() {
        let mut relayed = session("code", None);
        relayed.broker = Some("10.0.0.1:3478".into());
        assert_eq!(connection(&relayed), "Connection code, via relay 10.0.0.1:3478");
        let mut live = session("enrolled", None);
        assert_eq!(connection(&live), "Enrolled computer", "the relay of an ended session is not known");
        live.ended_at = None;
        assert_eq!(connection(&live), "Enrolled computer, direct");
    }

    #[test]
    fn entries_in_words() {
        let entry = AuditEntryView {
            seq: 1,
            at: 0,
            actor_id: None,
            actor: "agent:abc".into(),
            action: "session.end".into(),
            target: Some("s".into()),
            target_name: None,
            actor_name: Some("pc-1".into()),
            session_id: Some("s".into()),
            source: None,
            details: json!({ "ended_at_target": 5, "reason": "the user ended it", "session_id": "s" }),
            hash: String::new(),
        };
        assert_eq!(actor_label(&entry), "the computer pc-1");
        assert_eq!(action_words(&entry.action), "the session ended");
        assert_eq!(detail_lines(&entry), ["reason: the user ended it", "ended at target: 5"]);
        assert_eq!(action_words("something.new"), "recorded an event");
    }
}
