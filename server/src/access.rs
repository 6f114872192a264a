//! Who may reach which computer: a technician's groups and a computer's
//! groups, looked up, go through [`PolicyAssignments::effective`] (every
//! pair that matches, merged most-restrictive; else the default). A
//! computer is reachable when that policy exists and allows some session
//! mode. Technicians see and reach only such computers.

use crate::audit::{self, Actor, Event};
use crate::auth::extractor::Authenticated;
use crate::error::HttpError;
use crate::groups;
use crate::policies::PolicyError;
use crate::policy_assignments;
use crate::store::{Store, now_ms};
use serde_json::json;
use sqlx::AnyPool;
use std::collections::HashMap;
use tether_shared::access_policy::Policy;
use tether_shared::error_code;
use tether_shared::groups::{EffectivePolicyView, GroupKind, Named};
use tether_shared::policy_assignment::PolicyAssignments;

/// The policy technician `technician_id` works under on computer
/// `agent_id`; `None` is no access (no policy applies, or either of them
/// is unknown, deleted or revoked).
pub async fn effective_policy(
    pool: &AnyPool,
    technician_id: &str,
    agent_id: &str,
) -> Result<Option<Policy>, PolicyError> {
    Ok(explain(pool, technician_id, agent_id).await?.policy)
}

/// [`effective_policy`] with the assignments it came from: the
/// administrator's preview.
pub async fn explain(pool: &AnyPool, technician_id: &str, agent_id: &str) -> Result<EffectivePolicyView, PolicyError> {
    let nothing = EffectivePolicyView { policy: None, from_assignments: vec![], from_default: false, reachable: false };
    if !live_technician(pool, technician_id).await? || !live_computer(pool, agent_id).await? {
        return Ok(nothing);
    }
    let (assignments, views) = policy_assignments::load(pool).await?;
    let technician_groups = groups::of_member(pool, GroupKind::Technician, technician_id).await?;
    let target_groups = groups::of_member(pool, GroupKind::Target, agent_id).await?;
    let matching = assignments.matching(&technician_groups, &target_groups);
    let from_assignments = views
        .into_iter()
        .filter(|view| {
            matching.iter().any(|pair| {
                pair.technician_group == view.technician_group.id && pair.target_group == view.target_group.id
            })
        })
        .collect::<Vec<_>>();
    let policy = assignments.effective(&technician_groups, &target_groups);
    Ok(EffectivePolicyView {
        reachable: allows_a_session(policy.as_ref()),
        from_default: from_assignments.is_empty() && policy.is_some(),
        from_assignments,
        policy,
    })
}

/// Whether `policy` lets a technician open a session at all: it exists and
/// allows at least one mode.
pub fn allows_a_session(policy: Option<&Policy>) -> bool {
    policy.is_some_and(|policy| !policy.access.allowed_modes.is_empty())
}

/// What one technician may reach, loaded once to filter a list of computers.
pub struct Reach {
    assignments: PolicyAssignments,
    technician_groups: Vec<String>,
    target_groups: HashMap<String, Vec<Named>>,
}

impl Reach {
    /// Loads the assignments and the technician's and every computer's groups.
    pub async fn of(pool: &AnyPool, technician_id: &str) -> Result<Self, PolicyError> {
        let (assignments, _) = policy_assignments::load(pool).await?;
        let technician_groups = groups::of_member(pool, GroupKind::Technician, technician_id).await?;
        let target_groups = groups::of_every_target(pool).await?;
        Ok(Reach { assignments, technician_groups, target_groups })
    }

    /// Whether the technician may open a session on computer `agent_id`.
    pub fn allows(&self, agent_id: &str) -> bool {
        let groups: Vec<&str> =
            self.target_groups.get(agent_id).into_iter().flatten().map(|group| group.id.as_str()).collect();
        allows_a_session(self.assignments.effective(&self.technician_groups, &groups).as_ref())
    }
}

/// Refuses (403 `target_not_allowed`, audited as `session.refused` in a
/// transaction of its own before the answer) a session request of `by` to
/// computer `target_id` that no policy allows; the effective policy if one
/// does.
pub async fn require_reach(store: &Store, by: &Authenticated, target_id: &str) -> Result<Policy, HttpError> {
    let policy = effective_policy(store.pool(), &by.user.id, target_id).await?;
    match policy {
        Some(policy) if allows_a_session(Some(&policy)) => Ok(policy),
        _ => {
            let mut tx = store.begin_write().await?;
            let event = Event::new(Actor::user(&by.user.id, &by.user.username), "session.refused")
                .target(target_id.to_owned())
                .source(by.source.label())
                .details(json!({ "reason": "no policy lets this technician open a session on this computer" }));
            audit::record(&mut tx, &event, now_ms()).await?;
            tx.commit().await?;
            Err(HttpError::Forbidden {
                code: error_code::TARGET_NOT_ALLOWED,
                message: "no policy lets you open a session on this computer".into(),
            })
        }
    }
}

async fn live_technician(pool: &AnyPool, user_id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL")
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.is_some())
}

async fn live_computer(pool: &AnyPool, agent_id: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> = sqlx::query_as("SELECT id FROM agents WHERE id = $1 AND revoked_at IS NULL")
        .bind(agent_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.is_some())
}
