//! The agent's configuration: which server it belongs to, the credential it
//! proves itself with once enrolled, the broker list the server last gave
//! it, and the person's own rule about being asked, kept in a JSON file only
//! its owner can read.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use tether_shared::broker::BrokerView;
use tether_shared::grant::PublicGrantKey;

/// What enrollment or `configure` gave this agent.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Base URL of the Tether server, e.g. `https://tether.example.org`.
    pub server_url: String,
    /// Set by enrollment; an agent that only takes connection codes has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// Secret from enrollment; never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    /// The server's broker list (`GET /api/broker/config`) as last fetched;
    /// `None` until the agent has contacted the server. Connection codes are
    /// refused until it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brokers: Option<Vec<BrokerView>>,
    /// Ask the person at this computer before every connection-code session,
    /// even when the session's policy does not (`configure --always-ask`):
    /// the agent's own rule, which no server setting can lift.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub always_ask: bool,
    /// The server's grant key, pinned at enrollment or `configure` (or on
    /// a code's first use): the only key whose grants this agent believes.
    /// Replaced only by `--accept-new-key` (`crate::server_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_key: Option<PublicGrantKey>,
}

/// The credential an enrolled agent proves itself with.
#[derive(Clone, Copy)]
pub struct Enrollment<'a> {
    pub agent_id: &'a str,
    pub credential: &'a str,
}

impl std::fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConfig")
            .field("server_url", &self.server_url)
            .field("agent_id", &self.agent_id)
            .field("credential", &self.credential.as_ref().map(|_| "***"))
            .field("brokers", &self.brokers)
            .field("always_ask", &self.always_ask)
            .field("grant_key", &self.grant_key.as_ref().map(|key| &key.fingerprint))
            .finish()
    }
}

/// `$XDG_CONFIG_HOME/tether-agent/agent.json`, or under `~/.config`.
pub fn default_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("tether-agent").join("agent.json")
}

impl AgentConfig {
    /// A configuration naming only the server (`tether-agent configure`).
    pub fn for_server(server_url: &str) -> anyhow::Result<Self> {
        Ok(Self {
            server_url: normalise_server_url(server_url)?,
            agent_id: None,
            credential: None,
            brokers: None,
            always_ask: false,
            grant_key: None,
        })
    }

    /// The enrollment, or an error saying how to enroll.
    pub fn enrollment(&self) -> anyhow::Result<Enrollment<'_>> {
        match (&self.agent_id, &self.credential) {
            (Some(agent_id), Some(credential)) => Ok(Enrollment { agent_id, credential }),
            _ => anyhow::bail!(
                "this agent is not enrolled with {} (it can take connection codes only); enroll it with `tether-agent enroll`",
                self.server_url
            ),
        }
    }

    /// Reads the file, or `None` if there is none yet.
    pub fn load_optional(path: &Path) -> anyhow::Result<Option<Self>> {
        match std::fs::metadata(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            _ => Self::load(path).map(Some),
        }
    }

    /// Reads the file written by `enroll` or `configure`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("cannot read {}: enroll this agent first with `tether-agent enroll`", path.display())
        })?;
        serde_json::from_str(&text).with_context(|| format!("{} is not a valid agent configuration", path.display()))
    }

    /// Writes the file with owner-only permissions, atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let tmp = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let text = serde_json::to_string_pretty(self)?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    /// The WebSocket URL of the agent endpoint.
    pub fn socket_url(&self) -> anyhow::Result<url::Url> {
        self.ws_url("/api/agent/ws")
    }

    /// An HTTP(S) URL on the server.
    pub fn api_url(&self, path: &str) -> anyhow::Result<url::Url> {
        Ok(url::Url::parse(&self.server_url).context("server URL")?.join(path)?)
    }

    /// A WebSocket URL on the server (`ws` for `http`, `wss` for `https`).
    pub fn ws_url(&self, path: &str) -> anyhow::Result<url::Url> {
        let mut url = url::Url::parse(&self.server_url).context("server URL")?;
        let scheme = match url.scheme() {
            "https" => "wss",
            "http" => "ws",
            other => anyhow::bail!("server URL must be http or https, not {other}"),
        };
        url.set_scheme(scheme).map_err(|()| anyhow::anyhow!("cannot make a WebSocket URL"))?;
        Ok(url.join(path)?)
    }
}

/// Checks a server URL (`http` or `https`, no credentials, query or
/// fragment) and returns it without a trailing slash.
pub fn normalise_server_url(text: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(text.trim()).with_context(|| format!("{text:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        anyhow::bail!("the server URL must start with http:// or https://");
    }
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        anyhow::bail!("the server URL must name a host, without a user name or password");
    }
    if url.query().is_some() || url.fragment().is_some() {
        anyhow::bail!("the server URL must not have a query or fragment");
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Whether two server URLs name the same server (scheme, host, port, path).
pub fn same_server(a: &str, b: &str) -> bool {
    match (normalise_server_url(a), normalise_server_url(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AgentConfig {
        AgentConfig {
            server_url: "http://127.0.0.1:8080".into(),
            agent_id: Some("a1".into()),
            credential: Some("tac_x".into()),
            brokers: None,
            always_ask: true,
            grant_key: None,
        }
    }

    #[test]
    fn saves_privately_and_loads_back() {
        let dir = std::env::temp_dir().join(format!("tether-agent-cfg-{}", std::process::id()));
        let path = dir.join("nested").join("agent.json");
        sample().save(&path).expect("save");
        assert_eq!(AgentConfig::load(&path).expect("load"), sample());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).expect("cleanup");
    }

    #[test]
    fn socket_urls_follow_the_scheme() {
        assert_eq!(sample().socket_url().expect("url").as_str(), "ws://127.0.0.1:8080/api/agent/ws");
        let tls = AgentConfig { server_url: "https://t.example/base/".into(), ..sample() };
        assert_eq!(tls.socket_url().expect("url").as_str(), "wss://t.example/api/agent/ws");
        let bad = AgentConfig { server_url: "ftp://x".into(), ..sample() };
        assert!(bad.socket_url().is_err());
        assert!(!format!("{:?}", sample()).contains("tac_x"));
    }

    #[test]
    fn code_only_configs_have_no_enrollment_and_older_files_still_load() {
        let config = AgentConfig::for_server("http://127.0.0.1:8080/").expect("config");
        assert_eq!(config.server_url, "http://127.0.0.1:8080");
        assert!(config.enrollment().is_err());
        assert!(sample().enrollment().is_ok());
        let old = r#"{"server_url":"http://s","agent_id":"a","credential":"c"}"#;
        let loaded: AgentConfig = serde_json::from_str(old).expect("old format");
        assert_eq!(loaded.brokers, None);
        assert!(AgentConfig::for_server("ftp://x").is_err());
        assert!(AgentConfig::for_server("http://u:p@x").is_err());
        assert!(same_server("http://x:1/", "http://X:1"));
        assert!(!same_server("http://x:1", "https://x:1"));
        let missing = std::env::temp_dir().join("tether-agent-no-such-config.json");
        assert!(AgentConfig::load_optional(&missing).expect("missing is fine").is_none());
    }
}
