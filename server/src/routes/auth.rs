//! `/api/auth/*` and `/api/me`: login, refresh, logout, own profile and
//! password. Every outcome of a login attempt is audited before it takes
//! effect.

use crate::audit::{self, Actor, Event};
use crate::auth::extractor::{Authenticated, Source};
use crate::auth::{password, sessions, tokens};
use crate::error::{HttpError, HttpResult};
use crate::extract::ApiJson;
use crate::state::AppState;
use crate::store::now_ms;
use crate::users;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cookie::{Cookie, SameSite};
use serde_json::json;
use tether_shared::api::{ChangePasswordRequest, LoginRequest, TokenResponse, UserView};
use tether_shared::error_code;
use tether_shared::validate;

/// Name of the refresh-token cookie.
pub const REFRESH_COOKIE: &str = "tether_refresh";
const COOKIE_PATH: &str = "/api/auth";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/auth/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/me/password", post(change_password))
}

fn refresh_cookie(state: &AppState, value: String, max_age_secs: i64) -> HeaderValue {
    let cookie = Cookie::build((REFRESH_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies)
        .path(COOKIE_PATH)
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn token_response(state: &AppState, user: &users::UserRow, session_id: &str, refresh: String) -> HttpResult<Response> {
    let access_token = state.keys.issue(&user.id, session_id, user.role()?, tokens::now_secs())?;
    let body = TokenResponse { access_token, expires_in: tokens::ACCESS_TTL_SECS, user: user.view()? };
    let cookie = refresh_cookie(state, refresh, sessions::IDLE_LIFETIME_MS / 1000);
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

async fn record(state: &AppState, event: Event) -> HttpResult<()> {
    let mut tx = state.store.begin_write().await?;
    audit::record(&mut tx, &event, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

async fn login(
    State(state): State<AppState>,
    source: Source,
    ApiJson(request): ApiJson<LoginRequest>,
) -> HttpResult<Response> {
    let username = request.username.trim().to_lowercase();
    if username.is_empty() || username.len() > 64 || request.password.len() > validate::MAX_PASSWORD_BYTES {
        return Err(HttpError::Unauthorized {
            code: error_code::INVALID_CREDENTIALS,
            message: "wrong username or password".into(),
        });
    }
    if let Err(retry_after_secs) = state.throttle.attempt(&username, source.0) {
        // Not audited one by one: under attack that would let the attacker
        // flood the log. The limiter itself bounds the rate.
        tracing::warn!(%username, source = ?source.0, "login throttled");
        return Err(HttpError::RateLimited { retry_after_secs });
    }
    let failed = |reason: &str| {
        Event::new(Actor::claimed(&username), "auth.login_failed")
            .target(username.clone())
            .source(source.label())
            .details(json!({ "reason": reason }))
    };
    let Some(user) = users::by_username(state.store.pool(), &username).await? else {
        password::verify(request.password, state.dummy_hash.to_string()).await?;
        record(&state, failed("unknown_user")).await?;
        return Err(HttpError::Unauthorized {
            code: error_code::INVALID_CREDENTIALS,
            message: "wrong username or password".into(),
        });
    };
    if !password::verify(request.password, user.password_hash.clone()).await? {
        record(&state, failed("wrong_password")).await?;
        return Err(HttpError::Unauthorized {
            code: error_code::INVALID_CREDENTIALS,
            message: "wrong username or password".into(),
        });
    }
    if user.is_disabled() {
        record(&state, failed("account_disabled")).await?;
        return Err(HttpError::Forbidden {
            code: error_code::ACCOUNT_DISABLED,
            message: "this account is disabled".into(),
        });
    }
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(Actor::user(&user.id, &user.username), "auth.login")
        .target(user.username.clone())
        .source(source.label());
    audit::record(&mut tx, &event, now).await?;
    let session = sessions::create(&mut tx, &user.id, source.label().as_deref(), now).await?;
    tx.commit().await?;
    token_response(&state, &user, &session.id, session.refresh_token)
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned())
}

async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> HttpResult<Response> {
    let Some(token) = cookie_value(&headers, REFRESH_COOKIE) else {
        return Err(HttpError::unauthorized("not signed in"));
    };
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let Some(rotated) = sessions::rotate(&mut tx, &token, now).await? else {
        return Err(HttpError::unauthorized("your session has ended; sign in again"));
    };
    let user = users::by_id(&mut tx, &rotated.user_id)
        .await?
        .ok_or_else(|| HttpError::unauthorized("your account no longer exists"))?;
    tx.commit().await?;
    token_response(&state, &user, &rotated.session_id, rotated.refresh_token)
}

async fn logout(State(state): State<AppState>, auth: Authenticated) -> HttpResult<Response> {
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(Actor::user(&auth.user.id, &auth.user.username), "auth.logout")
        .target(auth.user.username.clone())
        .source(auth.source.label());
    audit::record(&mut tx, &event, now).await?;
    sessions::revoke(&mut tx, &auth.session_id, now).await?;
    tx.commit().await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, refresh_cookie(&state, String::new(), 0));
    Ok(response)
}

async fn me(auth: Authenticated) -> HttpResult<Json<UserView>> {
    Ok(Json(auth.user.view()?))
}

async fn change_password(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> HttpResult<StatusCode> {
    validate::password(&request.new_password, &auth.user.username)?;
    if request.new_password == request.current_password {
        return Err(HttpError::InvalidField("the new password must differ from the current one".into()));
    }
    if !password::verify(request.current_password, auth.user.password_hash.clone()).await? {
        return Err(HttpError::Forbidden {
            code: error_code::WRONG_PASSWORD,
            message: "the current password is wrong".into(),
        });
    }
    let new_hash = password::hash(request.new_password).await?;
    let now = now_ms();
    let mut tx = state.store.begin_write().await?;
    let event = Event::new(Actor::user(&auth.user.id, &auth.user.username), "auth.password_change")
        .target(auth.user.username.clone())
        .source(auth.source.label());
    audit::record(&mut tx, &event, now).await?;
    users::set_password(&mut tx, &auth.user.id, &new_hash, false, now).await?;
    sessions::revoke_all_for_user(&mut tx, &auth.user.id, Some(&auth.session_id), now).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
