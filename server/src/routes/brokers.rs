//! Brokers: `GET /api/broker/config` (unauthenticated: what an agent needs
//! before it can take a code), and the admin's `/api/brokers` list, add and
//! remove. Changes are audited in the same transaction, before the change;
//! built-in brokers (embedded relay, `--broker` flags) cannot be removed.

use crate::audit::{self, Actor, Event};
use crate::auth::AuthUser;
use crate::broker::registry::{check_id, check_urls};
use crate::broker::{BrokerSpec, table};
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::now_ms;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::json;
use tether_shared::Role;
use tether_shared::broker::{BrokerConfig, BrokerView, CreateBrokerRequest};
use tether_shared::error_code;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/broker/config", get(config))
        .route("/api/brokers", get(list).post(create))
        .route("/api/brokers/{id}", delete(remove))
}

async fn config(State(state): State<AppState>) -> Json<BrokerConfig> {
    Json(BrokerConfig { brokers: state.brokers.list() })
}

async fn list(State(state): State<AppState>, auth: AuthUser) -> HttpResult<Json<Vec<BrokerView>>> {
    auth.require(Role::can_manage_policies, "manage brokers")?;
    Ok(Json(state.brokers.list()))
}

async fn create(
    State(state): State<AppState>,
    auth: AuthUser,
    ApiJson(request): ApiJson<CreateBrokerRequest>,
) -> HttpResult<(StatusCode, Json<BrokerView>)> {
    auth.require(Role::can_manage_policies, "manage brokers")?;
    check_id(&request.id).map_err(|problem| HttpError::InvalidField(problem.to_owned()))?;
    let urls: Vec<String> = request.urls.iter().map(|url| url.trim().to_owned()).collect();
    check_urls(&urls).map_err(|err| HttpError::InvalidField(err.to_string()))?;
    let taken = || HttpError::Conflict {
        code: error_code::BROKER_EXISTS,
        message: format!("a broker named {} already exists", request.id),
    };
    if state.brokers.contains(&request.id) {
        return Err(taken());
    }
    let spec = BrokerSpec { id: request.id.clone(), urls };
    let user = &auth.0.user;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    if table::exists(&mut tx, &spec.id).await? {
        return Err(taken());
    }
    let event = Event::new(Actor::user(&user.id, &user.username), "broker.create")
        .target(spec.id.clone())
        .source(auth.0.source.label())
        .details(json!({ "urls": spec.urls }));
    audit::record(&mut tx, &event, now).await?;
    table::insert(&mut tx, &spec, &user.id, now).await?;
    tx.commit().await?;
    state.brokers.add(spec.clone()).map_err(anyhow::Error::from)?;
    let view = state
        .brokers
        .list()
        .into_iter()
        .find(|view| view.id == spec.id)
        .ok_or_else(|| anyhow::anyhow!("broker {} vanished after it was added", spec.id))?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn remove(State(state): State<AppState>, auth: AuthUser, Path(id): Path<String>) -> HttpResult<StatusCode> {
    auth.require(Role::can_manage_policies, "manage brokers")?;
    if state.brokers.is_built_in(&id) {
        return Err(HttpError::Conflict {
            code: error_code::BROKER_BUILT_IN,
            message: format!("{id} comes from the server's configuration; change it there"),
        });
    }
    let user = &auth.0.user;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    if !table::exists(&mut tx, &id).await? {
        return Err(HttpError::not_found(format!("no broker named {id}")));
    }
    let event = Event::new(Actor::user(&user.id, &user.username), "broker.delete")
        .target(id.clone())
        .source(auth.0.source.label());
    audit::record(&mut tx, &event, now).await?;
    table::delete(&mut tx, &id).await?;
    tx.commit().await?;
    state.brokers.remove(&id);
    Ok(StatusCode::NO_CONTENT)
}
