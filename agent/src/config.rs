//! The agent's enrollment: which server it belongs to and the credential it
//! proves itself with, kept in a JSON file only its owner can read.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What enrollment gave this agent.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Base URL of the Tether server, e.g. `https://tether.example.org`.
    pub server_url: String,
    pub agent_id: String,
    /// Secret; never logged.
    pub credential: String,
}

impl std::fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConfig")
            .field("server_url", &self.server_url)
            .field("agent_id", &self.agent_id)
            .field("credential", &"***")
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
    /// Reads the file written by `enroll`.
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
        let mut url = url::Url::parse(&self.server_url).context("server URL")?;
        let scheme = match url.scheme() {
            "https" => "wss",
            "http" => "ws",
            other => anyhow::bail!("server URL must be http or https, not {other}"),
        };
        url.set_scheme(scheme).map_err(|()| anyhow::anyhow!("cannot make a WebSocket URL"))?;
        Ok(url.join("/api/agent/ws")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> AgentConfig {
        AgentConfig { server_url: "http://127.0.0.1:8080".into(), agent_id: "a1".into(), credential: "tac_x".into() }
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
}
