//! Who may use the loopback API: requests must name this server as their
//! `Host` (a DNS-rebinding page names its own host), carry the per-launch
//! secret in `X-Tether-Local-Key` (compared in constant time), and, if they
//! carry an `Origin`, come from the UI's own origin.

use axum::http::HeaderMap;
use axum::http::header::{HOST, ORIGIN};
use subtle::ConstantTimeEq;

/// The header that carries the secret.
pub const KEY_HEADER: &str = "x-tether-local-key";

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the Host header must be 127.0.0.1 or localhost with this server's port")]
    ForeignHost,
    #[error("requests must come from the agent UI's own page")]
    ForeignOrigin,
    #[error("the agent UI key is missing or wrong; open the UI with the link the agent printed")]
    BadKey,
}

impl Refusal {
    /// The stable error code.
    pub fn code(self) -> &'static str {
        match self {
            Self::ForeignHost => "foreign_host",
            Self::ForeignOrigin => "foreign_origin",
            Self::BadKey => "bad_key",
        }
    }
}

/// Checks `Host` (and `Origin`, if present) against this server's `port`.
pub fn check_host_and_origin(headers: &HeaderMap, port: u16) -> Result<(), Refusal> {
    let allowed_hosts = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    let host = headers.get(HOST).and_then(|value| value.to_str().ok()).ok_or(Refusal::ForeignHost)?;
    if !allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host)) {
        return Err(Refusal::ForeignHost);
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().map_err(|_| Refusal::ForeignOrigin)?;
        if !allowed_hosts.iter().any(|allowed| origin.eq_ignore_ascii_case(&format!("http://{allowed}"))) {
            return Err(Refusal::ForeignOrigin);
        }
    }
    Ok(())
}

/// Checks the secret.
pub fn check_key(headers: &HeaderMap, secret: &str) -> Result<(), Refusal> {
    let given = headers.get(KEY_HEADER).map(|value| value.as_bytes()).ok_or(Refusal::BadKey)?;
    if bool::from(given.ct_eq(secret.as_bytes())) { Ok(()) } else { Err(Refusal::BadKey) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn only_loopback_hosts_with_this_port_pass() {
        assert_eq!(check_host_and_origin(&headers(&[("host", "127.0.0.1:4000")]), 4000), Ok(()));
        assert_eq!(check_host_and_origin(&headers(&[("host", "localhost:4000")]), 4000), Ok(()));
        for host in ["evil.example:4000", "127.0.0.1:4001", "127.0.0.1", "localhost.evil.example:4000"] {
            let mut map = HeaderMap::new();
            map.insert("host", HeaderValue::from_str(host).expect("header"));
            assert_eq!(check_host_and_origin(&map, 4000), Err(Refusal::ForeignHost), "{host}");
        }
        assert_eq!(check_host_and_origin(&HeaderMap::new(), 4000), Err(Refusal::ForeignHost));
    }

    #[test]
    fn an_origin_must_be_the_ui_itself() {
        let own = headers(&[("host", "127.0.0.1:4000"), ("origin", "http://127.0.0.1:4000")]);
        assert_eq!(check_host_and_origin(&own, 4000), Ok(()));
        for origin in ["http://evil.example", "https://127.0.0.1:4000", "null", "http://127.0.0.1:4001"] {
            let mut map = headers(&[("host", "127.0.0.1:4000")]);
            map.insert("origin", HeaderValue::from_str(origin).expect("header"));
            assert_eq!(check_host_and_origin(&map, 4000), Err(Refusal::ForeignOrigin), "{origin}");
        }
    }

    #[test]
    fn the_key_must_match_exactly() {
        assert_eq!(check_key(&headers(&[(KEY_HEADER, "s3cret")]), "s3cret"), Ok(()));
        assert_eq!(check_key(&headers(&[(KEY_HEADER, "s3cre")]), "s3cret"), Err(Refusal::BadKey));
        assert_eq!(check_key(&headers(&[(KEY_HEADER, "s3crets")]), "s3cret"), Err(Refusal::BadKey));
        assert_eq!(check_key(&HeaderMap::new(), "s3cret"), Err(Refusal::BadKey));
    }
}
