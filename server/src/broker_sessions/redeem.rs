//! `POST /api/broker/redeem`: a target trades the code its user typed for a
//! session. Throttled per source and globally before anything else; a wrong
//! code is compared with live codes one slip away (`near_misses`) so
//! guesses aimed at a code count towards voiding it. Every failure within
//! the limits is audited with its source and reason; throttled ones are
//! aggregated (see `throttle.rs`).

use super::hub_id;
use super::record::{self, Key, Record};
use super::throttle::Throttled;
use crate::audit::{self, Actor, Event as AuditEvent};
use crate::error::{HttpError, HttpResult};
use crate::secret;
use crate::sessions;
use crate::state::AppState;
use crate::store::{WriteTx, now_ms};
use serde_json::json;
use std::net::IpAddr;
use tether_shared::access_policy::Policy;
use tether_shared::broker::{RedeemCodeRequest, RedeemCodeResponse, redeem_error};
use tether_shared::connection_code::{ConnectionCode, Event, Refusal};

/// No live code matches: never existed, cancelled, replaced or voided.
fn wrong() -> HttpError {
    HttpError::NotFound { code: redeem_error::WRONG, message: "no connection code matches; check the digits".into() }
}

/// Takes one try from `source` off the limits; runs before the request
/// body is even read, so a flood costs as little as possible.
pub async fn throttle(state: &AppState, source: Option<IpAddr>) -> HttpResult<()> {
    match state.broker_sessions.throttle.attempt(source) {
        Ok(()) => Ok(()),
        Err(throttled) => Err(throttle_refusal(state, throttled).await),
    }
}

/// Redeems `request` from `source` (after [`throttle`]).
pub async fn redeem(
    state: &AppState,
    source: Option<IpAddr>,
    request: RedeemCodeRequest,
) -> HttpResult<RedeemCodeResponse> {
    // Before anything is audited: the claimed host name goes into entries.
    if let Err(err) = request.target.validate() {
        return Err(HttpError::InvalidField(err.to_string()));
    }
    let label = source.map(|ip| ip.to_string());
    let claimed = Actor::claimed(&format!("target:{}", request.target.hostname));
    let code = match ConnectionCode::parse(&request.code) {
        Ok(code) => code,
        Err(err) => {
            failed(state, None, &claimed, &label, redeem_error::MALFORMED).await?;
            return Err(HttpError::BadRequest { code: redeem_error::MALFORMED, message: err.to_string() });
        }
    };
    // Read before the write transaction: the grant's access rules.
    let default_policy = crate::policies::default_policy(state.store.pool()).await.map_err(anyhow::Error::from)?;
    let now = now_ms();
    let key = &state.broker_sessions.key;
    let mut tx = state.store.begin_write().await?;
    let Some(mut record) = record::load_by(&mut tx, Key::NewestWithCode, &key.hash(code)).await? else {
        return Err(wrong_code(state, tx, code, &claimed, &label, now).await?);
    };
    let owner: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT username, display_name, disabled_at FROM users WHERE id = $1")
            .bind(&record.owner_id)
            .fetch_optional(tx.conn())
            .await?;
    let Some((technician_username, technician, None)) = owner else {
        record_failure(&mut tx, Some(&record.id), &claimed, &label, redeem_error::NOT_AUTHORISED, now).await?;
        tx.commit().await?;
        let message = "the technician who issued this code can no longer open sessions";
        return Err(HttpError::Forbidden { code: redeem_error::NOT_AUTHORISED, message: message.into() });
    };
    match record::apply(&mut tx, &mut record, Event::Redeem, "broker_session.target_connected", claimed.clone(), now)
        .await?
    {
        Ok(()) => {}
        Err(Refusal::Expired) => {
            record_failure(&mut tx, Some(&record.id), &claimed, &label, redeem_error::EXPIRED, now).await?;
            tx.commit().await?;
            return Err(HttpError::Gone {
                code: redeem_error::EXPIRED,
                message: "the connection code has expired".into(),
            });
        }
        Err(Refusal::AlreadyUsed | Refusal::NotNow { .. }) => {
            record_failure(&mut tx, Some(&record.id), &claimed, &label, redeem_error::USED, now).await?;
            tx.commit().await?;
            let message = "the connection code has already been used";
            return Err(HttpError::Conflict { code: redeem_error::USED, message: message.into() });
        }
        Err(_) => return Err(wrong_code(state, tx, code, &claimed, &label, now).await?),
    }
    let technician = Technician { id: record.owner_id.clone(), name: technician };
    let opened = Opened { technician: &technician, claimed: &claimed, label: &label, policy: default_policy, now };
    let response = open_session(state, &mut tx, &mut record, &request, opened).await?;
    // The grant open_session issued asks for this mode (it would have refused otherwise).
    let granted_mode =
        crate::grants::mode_for(&default_policy).map_err(|err| HttpError::Internal(anyhow::Error::new(err)))?;
    tx.commit().await?;
    let ends = sessions::Ends {
        session_id: response.session_id.clone(),
        target: hub_id(&response.session_id),
        technician: Actor::user(&technician.id, &technician_username),
        technician_name: technician.name.clone(),
    };
    sessions::open(state, ends, &record.owner_id, granted_mode);
    Ok(response)
}

/// The technician who issued the code.
struct Technician {
    id: String,
    /// Their display name, as the person at the computer reads it.
    name: String,
}

/// Who opens a code's session, and under what.
struct Opened<'a> {
    technician: &'a Technician,
    /// The target, as it names itself.
    claimed: &'a Actor,
    /// Where the redemption came from.
    label: &'a Option<String>,
    /// The default policy: the access rules of the session's grant (its
    /// session rules are the code's own).
    policy: Policy,
    now: i64,
}

/// The redeemed code's session: token, row, audit entries, and its grant
/// (bound to no controller yet), recorded before it is handed out.
async fn open_session(
    state: &AppState,
    tx: &mut WriteTx,
    record: &mut Record,
    request: &RedeemCodeRequest,
    opened: Opened<'_>,
) -> HttpResult<RedeemCodeResponse> {
    let Opened { technician, claimed, label, policy, now } = opened;
    let session_id = uuid::Uuid::new_v4().to_string();
    let token = secret::generate("tbs_");
    // The broker the target chose (or the least loaded); the session keeps
    // it, so the controller's `ready` gets the same one.
    let (ice_servers, address) =
        state.ice_servers(&session_id, request.broker.as_deref()).map_err(|err| match err {
            crate::broker::BrokerError::Unknown(_) => HttpError::InvalidField(err.to_string()),
            other => HttpError::Internal(other.into()),
        })?;
    let details = json!({ "session_id": session_id, "target": request.target });
    let entry = AuditEvent::new(claimed.clone(), "broker_session.redeemed")
        .target(record.id.clone())
        .source(label.clone())
        .details(details);
    audit::record(tx, &entry, now).await?;
    if request.broker.is_some() || address.is_some() {
        let entry = AuditEvent::new(claimed.clone(), "broker_session.broker")
            .target(record.id.clone())
            .details(json!({ "broker": request.broker, "address": address }));
        audit::record(tx, &entry, now).await?;
    }
    sqlx::query(
        "UPDATE broker_sessions SET session_id = $1, session_token_hash = $2, target_info = $3, broker = $4, \
         broker_address = $5, target_hostname = $6 WHERE id = $7",
    )
    .bind(&session_id)
    .bind(secret::digest(&token))
    .bind(serde_json::to_string(&request.target).unwrap_or_default())
    .bind(&request.broker)
    .bind(&address)
    .bind(&request.target.hostname)
    .bind(&record.id)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO sessions (id, technician_id, broker_session_id, state, created_at) VALUES ($1, $2, $3, 'requested', $4)",
    )
    .bind(&session_id)
    .bind(&record.owner_id)
    .bind(&record.id)
    .bind(now)
    .execute(tx.conn())
    .await?;
    let policy = Policy { session: record.session_policy(), ..policy };
    let target = hub_id(&session_id);
    let grantee = crate::grants::Grantee {
        session_id: &session_id,
        technician_id: &technician.id,
        technician_name: &technician.name,
        target: &target,
        controller_fingerprint: None,
        accepted_mode: None,
        requested_mode: None,
    };
    let grant = crate::grants::issue_in(tx, &state.grant_key, &policy, grantee).await.map_err(|err| match err {
        crate::grants::IssueError::NoPolicy | crate::grants::IssueError::NoMode => {
            HttpError::Forbidden { code: redeem_error::NOT_AUTHORISED, message: err.to_string() }
        }
        other => HttpError::Internal(anyhow::Error::new(other)),
    })?;
    record.session_id = Some(session_id.clone());
    record.target = Some(request.target.clone());
    record.broker = request.broker.clone();
    record.broker_address = address.clone();
    Ok(RedeemCodeResponse {
        session_id,
        session_token: token,
        technician: technician.name.clone(),
        ice_servers,
        broker: address,
        policy: record.session_policy(),
        grant: Some(grant),
    })
}

/// A code no live broker session has: counts against the live codes one
/// slip away from it (voiding them after the policy's maximum), audited.
async fn wrong_code(
    state: &AppState,
    mut tx: WriteTx,
    guess: ConnectionCode,
    claimed: &Actor,
    label: &Option<String>,
    now: i64,
) -> HttpResult<HttpError> {
    let key = &state.broker_sessions.key;
    let hashes: Vec<String> = guess.near_misses().into_iter().map(|miss| key.hash(miss)).collect();
    let placeholders: Vec<String> = (1..=hashes.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT id FROM broker_sessions WHERE status = 'waiting' AND code_hash IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
    for hash in &hashes {
        query = query.bind(hash);
    }
    let aimed_at = query.fetch_all(tx.conn()).await?;
    for (id,) in &aimed_at {
        if let Some(mut record) = record::load_by(&mut tx, Key::Id, id).await? {
            let action = "broker_session.wrong_guess";
            record::apply(&mut tx, &mut record, Event::WrongGuess, action, claimed.clone(), now).await?.ok();
        }
    }
    let near = aimed_at.first().map(|(id,)| id.as_str());
    record_failure(&mut tx, near, claimed, label, redeem_error::WRONG, now).await?;
    tx.commit().await?;
    Ok(wrong())
}

/// Audits a failed attempt (within the limits) in the caller's transaction.
async fn record_failure(
    tx: &mut WriteTx,
    broker_session: Option<&str>,
    claimed: &Actor,
    label: &Option<String>,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut entry = AuditEvent::new(claimed.clone(), "broker_session.redeem_failed")
        .source(label.clone())
        .details(json!({ "reason": reason }));
    if let Some(id) = broker_session {
        entry = entry.target(id.to_owned());
    }
    audit::record(tx, &entry, now).await?;
    Ok(())
}

/// Audits a failed attempt in a transaction of its own.
async fn failed(
    state: &AppState,
    broker_session: Option<&str>,
    claimed: &Actor,
    label: &Option<String>,
    reason: &str,
) -> HttpResult<()> {
    let mut tx = state.store.begin_write().await?;
    record_failure(&mut tx, broker_session, claimed, label, reason, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// The 429, audited only when it opens a new window for its limit.
async fn throttle_refusal(state: &AppState, throttled: Throttled) -> HttpError {
    if let Some(previous) = throttled.audit {
        let entry = AuditEvent::new(Actor::system(), "broker_session.redeem_throttled")
            .source(Some(throttled.limit.label()))
            .details(json!({ "refused_in_previous_window": previous }));
        let recorded = async {
            let mut tx = state.store.begin_write().await?;
            audit::record(&mut tx, &entry, now_ms()).await?;
            tx.commit().await
        };
        if let Err(err) = recorded.await {
            tracing::error!(error = %err, "cannot audit throttled code redemptions");
        }
    } else {
        tracing::debug!(limit = %throttled.limit.label(), "code redemption throttled");
    }
    HttpError::RateLimited { retry_after_secs: throttled.retry_after_secs }
}
