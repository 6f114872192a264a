//! The STUN and TURN servers both ends of a session use for ICE: checked
//! once at start-up ([`IceConfig::new`]), then handed out per session
//! ([`IceConfig::servers_for`]). Credentials come from a [`TurnCredentials`]
//! source, so short-lived per-session TURN credentials can replace the
//! static ones without changing the callers.

use tether_shared::signal::IceServer;

/// Why the ICE configuration was refused at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IceConfigError {
    /// A URL is not `stun:`, `stuns:`, `turn:` or `turns:` `host[:port]`
    /// (with `?transport=udp|tcp` for TURN only).
    #[error("invalid ICE server URL {url:?}: {problem}")]
    BadUrl { url: String, problem: &'static str },
    /// TURN URLs were given without a username and credential.
    #[error("TURN server {url:?} needs --turn-username and --turn-credential")]
    TurnWithoutCredentials { url: String },
    /// Only one of username and credential was given.
    #[error("--turn-username and --turn-credential go together")]
    HalfCredentials,
    /// Credentials were given but no TURN URL would use them.
    #[error("--turn-username/--turn-credential given but no turn: or turns: URL in --ice-server")]
    UnusedCredentials,
}

/// Where TURN credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TurnCredentials {
    /// No TURN servers.
    None,
    /// One fixed username and password for every session.
    Static { username: String, credential: String },
}

/// The checked ICE configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceConfig {
    stun: Vec<String>,
    turn: Vec<String>,
    credentials: TurnCredentials,
}

impl Default for IceConfig {
    /// No ICE servers: host candidates only (a LAN or loopback).
    fn default() -> Self {
        Self { stun: Vec::new(), turn: Vec::new(), credentials: TurnCredentials::None }
    }
}

impl IceConfig {
    /// Checks `urls` and the optional static TURN username and credential.
    pub fn new(urls: &[String], username: Option<&str>, credential: Option<&str>) -> Result<Self, IceConfigError> {
        let mut stun = Vec::new();
        let mut turn = Vec::new();
        for url in urls {
            let url = url.trim();
            match check_url(url)? {
                Kind::Stun => stun.push(url.to_owned()),
                Kind::Turn => turn.push(url.to_owned()),
            }
        }
        let credentials = match (username, credential) {
            (Some(username), Some(credential)) if !username.is_empty() && !credential.is_empty() => {
                TurnCredentials::Static { username: username.to_owned(), credential: credential.to_owned() }
            }
            (None, None) => TurnCredentials::None,
            _ => return Err(IceConfigError::HalfCredentials),
        };
        match (&credentials, turn.first()) {
            (TurnCredentials::None, Some(url)) => {
                return Err(IceConfigError::TurnWithoutCredentials { url: url.clone() });
            }
            (TurnCredentials::Static { .. }, None) => return Err(IceConfigError::UnusedCredentials),
            _ => {}
        }
        Ok(Self { stun, turn, credentials })
    }

    /// The servers to give both ends of session `session_id` (the id is
    /// for credential sources that issue one per session).
    pub fn servers_for(&self, _session_id: &str) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun.is_empty() {
            servers.push(IceServer { urls: self.stun.clone(), username: None, credential: None });
        }
        match &self.credentials {
            TurnCredentials::Static { username, credential } if !self.turn.is_empty() => servers.push(IceServer {
                urls: self.turn.clone(),
                username: Some(username.clone()),
                credential: Some(credential.clone()),
            }),
            _ => {}
        }
        servers
    }
}

enum Kind {
    Stun,
    Turn,
}

/// Checks that `url` is a well-formed `turn:` or `turns:` URL (a broker's).
pub fn check_turn_url(url: &str) -> Result<(), IceConfigError> {
    match check_url(url)? {
        Kind::Turn => Ok(()),
        Kind::Stun => {
            Err(IceConfigError::BadUrl { url: url.to_owned(), problem: "a broker takes turn: or turns: URLs" })
        }
    }
}

/// Checks one RFC 7064 / 7065 URL.
fn check_url(url: &str) -> Result<Kind, IceConfigError> {
    let bad = |problem| IceConfigError::BadUrl { url: url.to_owned(), problem };
    let (scheme, rest) = url.split_once(':').ok_or_else(|| bad("no scheme"))?;
    let kind = match scheme.to_ascii_lowercase().as_str() {
        "stun" | "stuns" => Kind::Stun,
        "turn" | "turns" => Kind::Turn,
        _ => return Err(bad("the scheme must be stun, stuns, turn or turns")),
    };
    let (host_port, query) = match rest.split_once('?') {
        Some((host_port, query)) => (host_port, Some(query)),
        None => (rest, None),
    };
    match (query, &kind) {
        (None, _) => {}
        (Some("transport=udp" | "transport=tcp"), Kind::Turn) => {}
        (Some(_), Kind::Turn) => return Err(bad("the only query allowed is ?transport=udp or ?transport=tcp")),
        (Some(_), Kind::Stun) => return Err(bad("STUN URLs take no query")),
    }
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').ok_or_else(|| bad("unclosed '[' in the host"))?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("not an IPv6 address between '[' and ']'"));
        }
        match after {
            "" => (host, None),
            port => (host, Some(port.strip_prefix(':').ok_or_else(|| bad("junk after ']'"))?)),
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let host_ok =
        !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if !host_ok {
        return Err(bad("the host is missing or has characters a host name cannot have"));
    }
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|port| port > 0)
    {
        return Err(bad("the port must be a number from 1 to 65535"));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(list: &[&str]) -> Vec<String> {
        list.iter().map(|url| (*url).to_owned()).collect()
    }

    #[test]
    fn accepts_stun_and_turn_with_credentials() {
        let config = IceConfig::new(
            &urls(&["stun:stun.example.org:3478", "turn:127.0.0.1:3478?transport=udp", "turns:[::1]:5349"]),
            Some("alice"),
            Some("secret"),
        )
        .expect("valid");
        assert_eq!(
            config.servers_for("s1"),
            vec![
                IceServer { urls: urls(&["stun:stun.example.org:3478"]), username: None, credential: None },
                IceServer {
                    urls: urls(&["turn:127.0.0.1:3478?transport=udp", "turns:[::1]:5349"]),
                    username: Some("alice".into()),
                    credential: Some("secret".into()),
                },
            ]
        );
        assert_eq!(IceConfig::default().servers_for("s1"), vec![]);
    }

    #[test]
    fn refuses_what_a_browser_would_refuse_later() {
        for url in [
            "http://example.org",
            "stun:",
            "stun:host:0",
            "stun:host:99999",
            "stun:host?transport=udp",
            "turn:host?transport=sctp",
            "stun:ho st",
            "stun:user@host",
            "stun:[::1",
            "stun:[nothost]:3478",
            "example.org:3478",
        ] {
            let err = IceConfig::new(&urls(&[url]), None, None).expect_err(url);
            assert!(matches!(err, IceConfigError::BadUrl { .. }), "{url}: {err}");
        }
    }

    #[test]
    fn credentials_must_match_the_urls() {
        assert_eq!(
            IceConfig::new(&urls(&["turn:t.example.org"]), None, None),
            Err(IceConfigError::TurnWithoutCredentials { url: "turn:t.example.org".into() })
        );
        assert_eq!(
            IceConfig::new(&urls(&["turn:t.example.org"]), Some("u"), None),
            Err(IceConfigError::HalfCredentials)
        );
        assert_eq!(
            IceConfig::new(&urls(&["stun:s.example.org"]), Some("u"), Some("p")),
            Err(IceConfigError::UnusedCredentials)
        );
    }
}
