//! Strict request extractors: JSON bodies and query strings whose rejections
//! become [`HttpError`]s with a JSON body, never axum's plain-text defaults.

use crate::error::HttpError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Largest accepted request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body parsed into `T` (which should deny unknown fields).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> HttpError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            HttpError::UnsupportedMediaType("expected a body with content-type application/json".into())
        }
        JsonRejection::JsonSyntaxError(err) => HttpError::BadRequest(format!("malformed JSON: {}", err.body_text())),
        JsonRejection::JsonDataError(err) => HttpError::InvalidField(format!("invalid request: {}", err.body_text())),
        JsonRejection::BytesRejection(err) if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            HttpError::PayloadTooLarge { limit: MAX_BODY_BYTES }
        }
        other => HttpError::BadRequest(other.body_text()),
    }
}

/// A query string parsed into `T`.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(err)) => {
                Err(HttpError::BadRequest(format!("invalid query: {}", err.body_text())))
            }
            Err(other) => Err(HttpError::BadRequest(other.body_text())),
        }
    }
}
