//! Session grants: the server's signed statement of what a technician may
//! do in one session (`tether_shared::grant`). [`issue`] picks the mode
//! from the session's policy, records `session.grant` in the audit log
//! and signs; the agent believes nothing else. The agent's refusals
//! (`AgentToServer::Refused`) are audited by [`record_refusal`].
//!
//! A grant lives [`LIFETIME_MS`]: it admits the controller it names only
//! while fresh, and the server issues a new one, bound to the offering
//! controller's DTLS fingerprint, before relaying each offer.

mod key;

pub use key::GrantKey;

use crate::audit::{self, Actor, Event as AuditEvent};
use crate::policies::{self, PolicyError};
use crate::store::{Store, WriteTx, now_ms};
use serde_json::json;
use tether_shared::access_policy::Policy;
use tether_shared::grant::{Grant, SignedGrant};
use tether_shared::mode::{self, SessionMode};
use tether_shared::signal::{Refusal, ToolEvent};

/// How long a grant admits its controller, in milliseconds: long enough
/// for an offer to reach the agent and be answered, short enough that a
/// captured grant is soon worthless.
pub const LIFETIME_MS: i64 = 5 * 60 * 1000;

/// Why no grant was issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// No policy lets this technician reach this computer.
    #[error("no policy allows this technician a session on this computer")]
    NoPolicy,
    /// The policy allows no mode a session can run in.
    #[error("the policy allows no session mode")]
    NoMode,
    /// The policy could not be read.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The audit entry could not be written.
    #[error("grant audit")]
    Database(#[from] sqlx::Error),
}

/// The policy a session between `technician_id` and `target` obeys; `None`
/// when none applies: the per-group effective policy for an enrolled
/// computer, the default policy for a code's target (which is in no group).
pub async fn session_policy(store: &Store, technician_id: &str, target: &str) -> Result<Option<Policy>, PolicyError> {
    if target.starts_with("broker:") {
        Ok(Some(policies::default_policy(store.pool()).await?))
    } else {
        crate::access::effective_policy(store.pool(), technician_id, target).await
    }
}

/// Who the grant is for.
#[derive(Debug, Clone)]
pub struct Grantee<'a> {
    pub session_id: &'a str,
    pub technician_id: &'a str,
    pub technician_name: &'a str,
    /// The computer: an agent id, or `code_target(session)` for a code's.
    pub target: &'a str,
    /// The controller's DTLS fingerprint, once its offer is known.
    pub controller_fingerprint: Option<String>,
    /// The mode the session runs in, once the agent said (the person's
    /// pick, then each change): the grant asks for no more (the agent holds
    /// it there too). `None` for the technician's request to change mode.
    pub accepted_mode: Option<SessionMode>,
    /// The mode the technician asks for; `None` is Active. The policy may
    /// give a narrower one ([`mode::select`]).
    pub requested_mode: Option<SessionMode>,
}

/// The mode a session runs in under `policy`: Active, else the next mode
/// it allows.
pub fn mode_for(policy: &Policy) -> Result<SessionMode, IssueError> {
    mode_asked(policy, SessionMode::Active)
}

/// The mode `policy` gives when `requested` is asked for: it, else the
/// next allowed mode that asks for no more.
pub fn mode_asked(policy: &Policy, requested: SessionMode) -> Result<SessionMode, IssueError> {
    mode::select(requested, &policy.access.allowed_modes).ok_or(IssueError::NoMode)
}

/// The policy a session between `technician_id` and `target` obeys, if it
/// allows some mode; read before the write transaction that issues.
pub async fn policy_for(store: &Store, technician_id: &str, target: &str) -> Result<Policy, IssueError> {
    let policy = session_policy(store, technician_id, target).await?.ok_or(IssueError::NoPolicy)?;
    mode_for(&policy)?;
    Ok(policy)
}

/// Issues `grantee`'s grant under `policy`: records `session.grant` (mode,
/// access, fingerprint, expiry) in `tx`, then signs. The caller commits
/// before sending it.
pub async fn issue_in(
    tx: &mut WriteTx,
    key: &GrantKey,
    policy: &Policy,
    grantee: Grantee<'_>,
) -> Result<SignedGrant, IssueError> {
    let mode = mode_asked(policy, grantee.requested_mode.unwrap_or(SessionMode::Active))?;
    let now = now_ms();
    let grant = Grant {
        session_id: grantee.session_id.to_owned(),
        technician_id: grantee.technician_id.to_owned(),
        technician_name: grantee.technician_name.to_owned(),
        target: grantee.target.to_owned(),
        mode,
        access: mode.access(),
        controller_fingerprint: grantee.controller_fingerprint,
        unattended: policy.access.unattended,
        allowed_modes: policy.access.allowed_modes,
        user_acceptance: policy.session.user_acceptance,
        assent_each_time: policy.access.assent_each_time,
        max_file_mib: policy.access.max_file_mib,
        acceptance_timeout_secs: policy.session.acceptance_timeout_secs,
        issued_at: now,
        expires_at: now + LIFETIME_MS,
        key_id: key.public().key_id,
    };
    let grant = match grantee.accepted_mode {
        Some(accepted) => grant.narrowed_to(accepted),
        None => grant,
    };
    let event = AuditEvent::new(Actor::system(), "session.grant").target(grant.session_id.clone()).details(json!({
        "session_id": grant.session_id,
        "agent": grant.target,
        "technician_id": grant.technician_id,
        "mode": grant.mode,
        "access": grant.access,
        "controller_fingerprint": grant.controller_fingerprint,
        "unattended": grant.unattended,
        "allowed_modes": grant.allowed_modes,
        "user_acceptance": grant.user_acceptance,
        "assent_each_time": grant.assent_each_time,
        "expires_at": grant.expires_at,
        "key_id": grant.key_id,
    }));
    audit::record(tx, &event, now).await?;
    Ok(key.sign(&grant))
}

/// [`issue_in`] in a write transaction of its own, committed.
pub async fn issue(store: &Store, key: &GrantKey, grantee: Grantee<'_>) -> Result<SignedGrant, IssueError> {
    let policy = policy_for(store, grantee.technician_id, grantee.target).await?;
    let mut tx = store.begin_write().await?;
    let signed = issue_in(&mut tx, key, &policy, grantee).await?;
    tx.commit().await?;
    Ok(signed)
}

/// Audits what target `target` did with a tool in its session
/// `session_id` (its own: the caller checked): the event's action, with
/// its fields as details.
pub async fn record_tool_event(
    store: &Store,
    target: &str,
    session_id: &str,
    event: ToolEvent,
) -> Result<(), sqlx::Error> {
    let mut details = json!({ "session_id": session_id });
    if let (Some(map), Ok(serde_json::Value::Object(fields))) = (details.as_object_mut(), serde_json::to_value(&event))
    {
        map.extend(fields.into_iter().filter(|(key, _)| key != "event"));
    }
    let mut tx = store.begin_write().await?;
    let audited = AuditEvent::new(Actor::claimed(&format!("agent:{target}")), event.action())
        .target(session_id.to_owned())
        .details(details);
    audit::record(&mut tx, &audited, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Audits `session.refused`: target `target` refused something in its
/// session `session_id` (its own: the caller checked), and why.
pub async fn record_refusal(
    store: &Store,
    target: &str,
    session_id: &str,
    refusal: &Refusal,
) -> Result<(), sqlx::Error> {
    let mut tx = store.begin_write().await?;
    let event = AuditEvent::new(Actor::claimed(&format!("agent:{target}")), "session.refused")
        .target(session_id.to_owned())
        .details(json!({ "session_id": session_id, "what": refusal.what.as_str(), "reason": refusal.reason }));
    audit::record(&mut tx, &event, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}
