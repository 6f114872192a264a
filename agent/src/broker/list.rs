//! The broker list: fetched from the server's `GET /api/broker/config` on
//! contact and cached in the agent's configuration file. Without a server
//! URL and a list, connection codes are refused (seed: "unavailable until
//! the target contacts the server for the first time").

use super::ConnectError;
use crate::config::AgentConfig;
use std::path::Path;
use std::time::Duration;
use tether_shared::broker::{BrokerConfig, BrokerView};

/// What the person sees when codes cannot be taken yet.
pub const NOT_CONFIGURED: &str = "Connection codes cannot be entered yet: this agent does not know its Tether \
server and broker list. It learns them the first time it contacts the server; to set them now, run \
`tether-agent configure --server https://your-tether-server` while the server is reachable.";

/// How long a request to the server may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Whether this agent can take a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// No configuration, or no server URL in it.
    NotConfigured,
    /// A server URL but no broker list yet: contact the server first.
    NeedsContact { server: String },
    /// Server and brokers known.
    Ready { server: String, brokers: Vec<BrokerView> },
}

/// Reads the readiness from a loaded (or absent) configuration.
pub fn readiness(config: Option<&AgentConfig>) -> Readiness {
    match config {
        None => Readiness::NotConfigured,
        Some(config) if config.server_url.trim().is_empty() => Readiness::NotConfigured,
        Some(AgentConfig { server_url, brokers: None, .. }) => Readiness::NeedsContact { server: server_url.clone() },
        Some(AgentConfig { server_url, brokers: Some(brokers), .. }) => {
            Readiness::Ready { server: server_url.clone(), brokers: brokers.clone() }
        }
    }
}

/// An HTTP client with the agent's timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().timeout(HTTP_TIMEOUT).build().unwrap_or_else(|err| {
        tracing::warn!(error = %err, "cannot configure the HTTP client; using defaults");
        reqwest::Client::new()
    })
}

/// Fetches the broker list from the server.
pub async fn fetch(client: &reqwest::Client, config: &AgentConfig) -> Result<Vec<BrokerView>, ConnectError> {
    let unreachable = |detail: String| ConnectError::ServerUnreachable { server: config.server_url.clone(), detail };
    let url = config.api_url("/api/broker/config").map_err(|err| unreachable(format!("{err:#}")))?;
    let response = client.get(url).send().await.map_err(|err| unreachable(transport_detail(&err)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(unreachable(format!("it answered HTTP {status} for its broker list")));
    }
    let config: BrokerConfig =
        response.json().await.map_err(|err| unreachable(format!("its broker list is not readable: {err}")))?;
    Ok(config.brokers)
}

/// Fetches the list and saves it in the configuration at `path`.
pub async fn refresh(
    client: &reqwest::Client,
    path: &Path,
    mut config: AgentConfig,
) -> Result<AgentConfig, ConnectError> {
    let brokers = fetch(client, &config).await?;
    if config.brokers.as_ref() != Some(&brokers) {
        config.brokers = Some(brokers);
        config
            .save(path)
            .map_err(|err| ConnectError::NotConfigured(format!("cannot save the broker list: {err:#}")))?;
    }
    Ok(config)
}

/// A short reason for a failed request, without the URL repeated.
pub fn transport_detail(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "it did not answer in time".into()
    } else if err.is_connect() {
        "no connection could be made".into()
    } else {
        let mut detail = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            detail = format!("{detail}: {cause}");
            source = cause.source();
        }
        detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_the_configuration() {
        assert_eq!(readiness(None), Readiness::NotConfigured);
        let mut config = AgentConfig::for_server("http://s.example").expect("config");
        assert_eq!(readiness(Some(&config)), Readiness::NeedsContact { server: "http://s.example".into() });
        config.brokers = Some(Vec::new());
        assert_eq!(
            readiness(Some(&config)),
            Readiness::Ready { server: "http://s.example".into(), brokers: Vec::new() }
        );
        assert!(NOT_CONFIGURED.contains("contacts the server"));
    }
}
