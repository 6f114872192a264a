//! Administrators' policies, one JSON row per kind in the `policies` table:
//! the `session` row holds the default [`Policy`] (older rows hold only its
//! session part, and still read). [`default_policy`] reads it (the
//! built-in default while none was saved), [`session_policy`] its session
//! part, [`save_default_policy`] audits and stores a new one. Policies of
//! pairs of groups are in [`crate::policy_assignments`].

use crate::audit::{self, Event};
use crate::auth::extractor::Authenticated;
use crate::error::HttpError;
use crate::store::WriteTx;
use serde_json::{Value, json};
use sqlx::{Any, Executor};
use tether_shared::access_policy::Policy;
use tether_shared::policy::{InvalidPolicy, SessionPolicy};

/// The `kind` of the default policy's row (named when it held only the
/// session policy).
pub const SESSION_KIND: &str = "session";

/// Why a policy could not be read or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The database failed.
    #[error("policy store")]
    Database(#[from] sqlx::Error),
    /// The stored row is not a valid policy of its kind (edited by hand, or
    /// written by another version). Sessions refuse to start rather than run
    /// under a policy nobody chose; saving a new policy repairs it.
    #[error("the stored {kind} policy is unusable: {reason}")]
    Unusable {
        /// The row's `kind`.
        kind: &'static str,
        /// What is wrong with its body.
        reason: String,
    },
    /// The policy to save has a field out of range.
    #[error(transparent)]
    Invalid(#[from] InvalidPolicy),
}

impl From<PolicyError> for HttpError {
    fn from(err: PolicyError) -> Self {
        match err {
            PolicyError::Invalid(invalid) => HttpError::InvalidField(invalid.to_string()),
            other => HttpError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// The default policy in force: the stored one, or [`Policy::default`]
/// when none was ever saved. A stored body that does not parse or is out of
/// range is an error (and logged here), never silently replaced by the
/// default. Takes a pool (`store.pool()`) or a transaction (`tx.conn()`).
pub async fn default_policy<'e, E>(executor: E) -> Result<Policy, PolicyError>
where
    E: Executor<'e, Database = Any>,
{
    let Some(body) = stored_body(executor, SESSION_KIND).await? else {
        return Ok(Policy::default());
    };
    parse_policy(&body).map_err(|reason| {
        tracing::error!(kind = SESSION_KIND, %reason, "stored policy is unusable");
        PolicyError::Unusable { kind: SESSION_KIND, reason }
    })
}

/// The session part of the default policy (codes, acceptance, server loss).
pub async fn session_policy<'e, E>(executor: E) -> Result<SessionPolicy, PolicyError>
where
    E: Executor<'e, Database = Any>,
{
    Ok(default_policy(executor).await?.session)
}

/// Makes `policy` the default policy, inside `tx` (the caller commits):
/// refuses it if out of range, then records `policy.update` with the policy
/// before and after, then writes the row. `by` is the administrator.
pub async fn save_default_policy(
    tx: &mut WriteTx,
    policy: &Policy,
    by: &Authenticated,
    now: i64,
) -> Result<(), PolicyError> {
    policy.validate()?;
    let before = policy_before(stored_body(tx.conn(), SESSION_KIND).await?);
    let after = json!(policy);
    let event = Event::new(audit::Actor::user(&by.user.id, &by.user.username), "policy.update")
        .target(SESSION_KIND)
        .source(by.source.label())
        .details(json!({ "before": before, "after": after }));
    audit::record(tx, &event, now).await?;
    upsert(tx, SESSION_KIND, &after.to_string(), &by.user.id, now).await?;
    Ok(())
}

/// Replaces the session part of the default policy, keeping its access
/// rules (the defaults' if the stored policy is unusable: saving repairs
/// it). Audited as [`save_default_policy`] does.
pub async fn save_session_policy(
    tx: &mut WriteTx,
    session: &SessionPolicy,
    by: &Authenticated,
    now: i64,
) -> Result<(), PolicyError> {
    let access = match default_policy(tx.conn()).await {
        Ok(stored) => stored.access,
        Err(PolicyError::Unusable { .. }) => Policy::default().access,
        Err(other) => return Err(other),
    };
    save_default_policy(tx, &Policy { session: *session, access }, by, now).await
}

/// A stored policy body, parsed and range-checked: a whole [`Policy`], or
/// (as stored before policies had access rules) its session part alone.
pub fn parse_policy(body: &str) -> Result<Policy, String> {
    let policy = match serde_json::from_str::<Policy>(body) {
        Ok(policy) => policy,
        Err(whole) => serde_json::from_str::<SessionPolicy>(body).map(Policy::from).map_err(|_| whole.to_string())?,
    };
    policy.validate().map_err(|err| err.to_string())?;
    Ok(policy)
}

/// The audit record of the policy being replaced: the default when there was
/// no row, the stored policy when it parses, else the stored text as found.
fn policy_before(stored: Option<String>) -> Value {
    match stored {
        None => json!(Policy::default()),
        Some(body) => match parse_policy(&body) {
            Ok(policy) => json!(policy),
            Err(_) => serde_json::from_str(&body).unwrap_or(Value::String(body)),
        },
    }
}

/// The stored body of the `kind` row, if any.
async fn stored_body<'e, E>(executor: E, kind: &str) -> Result<Option<String>, sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    let row: Option<(String,)> =
        sqlx::query_as("SELECT body FROM policies WHERE kind = $1").bind(kind).fetch_optional(executor).await?;
    Ok(row.map(|(body,)| body))
}

/// Inserts or replaces the `kind` row (`ON CONFLICT` works alike on SQLite
/// and PostgreSQL).
async fn upsert(tx: &mut WriteTx, kind: &str, body: &str, updated_by: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO policies (kind, body, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (kind) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(kind)
    .bind(body)
    .bind(updated_by)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_shared::mode::ModeSet;

    #[test]
    fn the_policy_before_is_recorded_as_found() {
        assert_eq!(policy_before(None), json!(Policy::default()));
        let stored = SessionPolicy { code_lifetime_secs: 600, ..SessionPolicy::default() };
        assert_eq!(policy_before(Some(json!(stored).to_string())), json!(Policy::from(stored)));
        assert_eq!(policy_before(Some(r#"{"unlock":true}"#.into())), json!({ "unlock": true }));
        assert_eq!(policy_before(Some("not json".into())), json!("not json"));
    }

    #[test]
    fn stored_bodies_must_parse_and_be_in_range() {
        assert_eq!(parse_policy("{}"), Ok(Policy::default()));
        assert!(parse_policy("{").is_err());
        assert_eq!(
            parse_policy(r#"{"max_wrong_guesses":0}"#),
            Err("max_wrong_guesses must be between 1 and 20".to_owned())
        );
    }

    #[test]
    fn old_session_policies_and_whole_policies_both_read() {
        let old = parse_policy(r#"{"code_lifetime_secs":600}"#);
        assert_eq!(old, Ok(Policy::from(SessionPolicy { code_lifetime_secs: 600, ..SessionPolicy::default() })));
        let mut whole = Policy::default();
        whole.access.allowed_modes = ModeSet::empty();
        assert_eq!(parse_policy(&json!(whole).to_string()), Ok(whole));
        assert!(parse_policy(r#"{"access":{"allowed_modes":["Teleport"]}}"#).is_err());
    }
}
