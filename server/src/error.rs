//! The one HTTP error type. Every failure a handler can meet becomes a status
//! code and an [`ApiError`] body; internal details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tether_shared::api::ApiError;
use tether_shared::error_code;

/// A failed request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// 400: the request could not be understood.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no valid credentials.
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// 403: authenticated but not allowed.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: no such resource.
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 409: conflicts with existing state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 410: existed, but is gone for good.
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    /// 413: the body is larger than allowed.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: the body is not JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: well-formed but a field is invalid.
    #[error("{0}")]
    InvalidField(String),
    /// 429: too many attempts (`rate_limited`); retry after this many seconds.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 500: our fault. The cause is logged, not shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl HttpError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        HttpError::BadRequest { code: error_code::BAD_REQUEST, message: message.into() }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        HttpError::Unauthorized { code: error_code::NOT_AUTHENTICATED, message: message.into() }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        HttpError::NotFound { code: error_code::NOT_FOUND, message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        HttpError::Forbidden { code: error_code::FORBIDDEN, message: message.into() }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            HttpError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            HttpError::Unauthorized { code, .. } => (StatusCode::UNAUTHORIZED, code),
            HttpError::Forbidden { code, .. } => (StatusCode::FORBIDDEN, code),
            HttpError::NotFound { code, .. } => (StatusCode::NOT_FOUND, code),
            HttpError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            HttpError::Gone { code, .. } => (StatusCode::GONE, code),
            HttpError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, error_code::PAYLOAD_TOO_LARGE),
            HttpError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, error_code::UNSUPPORTED_MEDIA_TYPE)
            }
            HttpError::InvalidField(_) => (StatusCode::UNPROCESSABLE_ENTITY, error_code::INVALID_FIELD),
            HttpError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, error_code::RATE_LIMITED),
            HttpError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, error_code::INTERNAL),
        }
    }
}

impl From<sqlx::Error> for HttpError {
    fn from(err: sqlx::Error) -> Self {
        HttpError::Internal(anyhow::Error::new(err).context("database"))
    }
}

impl From<tether_shared::validate::InvalidField> for HttpError {
    fn from(err: tether_shared::validate::InvalidField) -> Self {
        HttpError::InvalidField(err.to_string())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let HttpError::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let body = ApiError { error: code.to_owned(), message: self.to_string() };
        let mut response = (status, Json(body)).into_response();
        if let HttpError::RateLimited { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

/// The result type of handlers.
pub type HttpResult<T> = Result<T, HttpError>;
