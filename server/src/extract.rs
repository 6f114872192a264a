//! Strict request extractors: JSON bodies and query strings whose rejections
//! become [`HttpError`]s with a JSON body, never axum's plain-text defaults.

use crate::error::HttpError;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::error::Category;

/// Largest accepted request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body parsed into `T` (which should deny unknown fields). The
/// body must be one JSON object: serde would also fill a struct from an
/// array, field by field in order, which no client means to send.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(HttpError::UnsupportedMediaType("expected a body with content-type application/json".into()));
        }
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                HttpError::PayloadTooLarge { limit: MAX_BODY_BYTES }
            } else {
                HttpError::bad_request(rejection.body_text())
            }
        })?;
        parse_object(&body).map(ApiJson)
    }
}

/// `application/json` or `application/<anything>+json`, parameters aside.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.strip_prefix("application/").is_some_and(|subtype| subtype == "json" || subtype.ends_with("+json"))
}

/// Parses `body` as one JSON object into `T`: malformed JSON is a 400,
/// anything else that is not an object of the right shape a 422.
fn parse_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, HttpError> {
    serde_json::from_slice::<IgnoredAny>(body)
        .map_err(|err| HttpError::bad_request(format!("malformed JSON: {err}")))?;
    if body.iter().find(|byte| !byte.is_ascii_whitespace()) != Some(&b'{') {
        return Err(HttpError::InvalidField("invalid request: the body must be a JSON object".into()));
    }
    serde_json::from_slice(body).map_err(|err| match err.classify() {
        Category::Data => HttpError::InvalidField(format!("invalid request: {err}")),
        Category::Syntax | Category::Eof | Category::Io => HttpError::bad_request(format!("malformed JSON: {err}")),
    })
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
                Err(HttpError::bad_request(format!("invalid query: {}", err.body_text())))
            }
            Err(other) => Err(HttpError::bad_request(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        a: u32,
        b: bool,
    }

    fn status(result: Result<Pair, HttpError>) -> Result<Pair, String> {
        result.map_err(|err| format!("{err:?}"))
    }

    #[test]
    fn only_one_object_of_the_right_shape_is_accepted() {
        assert_eq!(status(parse_object(br#" {"a": 1, "b": true} "#)), Ok(Pair { a: 1, b: true }));
        for (body, kind) in [
            (&br#"[1, true]"#[..], "InvalidField"),
            (br#""text""#, "InvalidField"),
            (br#"{"a": 1, "b": true, "c": 0}"#, "InvalidField"),
            (br#"{"a": 1, "a": 2, "b": true}"#, "InvalidField"),
            (br#"{"a": "1", "b": true}"#, "InvalidField"),
            (br#"{"a": 1, "b": "#, "BadRequest"),
            (b"nonsense", "BadRequest"),
            (b"", "BadRequest"),
        ] {
            let refused = status(parse_object(body)).expect_err("refused");
            assert!(refused.starts_with(kind), "{}: {refused}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn json_content_types_are_recognised() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            is_json(&headers)
        };
        assert!(with("application/json") && with("Application/JSON; charset=utf-8") && with("application/merge+json"));
        assert!(!with("text/plain") && !with("application/jsonx") && !with("text/json"));
        assert!(!is_json(&HeaderMap::new()));
    }
}
