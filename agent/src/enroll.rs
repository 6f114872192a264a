//! `tether-agent enroll`: trades an enrollment token for this agent's own
//! credential and saves it.

use crate::config::AgentConfig;
use anyhow::Context;
use tether_shared::agent::{EnrollRequest, EnrollResponse};
use tether_shared::api::ApiError;

/// Enrolls with the server at `server_url` using `token`.
pub async fn enroll(server_url: &str, token: &str) -> anyhow::Result<AgentConfig> {
    let base = url::Url::parse(server_url).with_context(|| format!("{server_url:?} is not a URL"))?;
    if !matches!(base.scheme(), "http" | "https") {
        anyhow::bail!("the server URL must start with http:// or https://");
    }
    let endpoint = base.join("/api/agent/enroll")?;
    let request = EnrollRequest { token: token.trim().to_owned(), info: crate::machine::info() };
    let response = reqwest::Client::new()
        .post(endpoint)
        .json(&request)
        .send()
        .await
        .with_context(|| format!("cannot reach the Tether server at {base}"))?;
    let status = response.status();
    if !status.is_success() {
        let message = match response.json::<ApiError>().await {
            Ok(error) => error.message,
            Err(_) => format!("HTTP {status}"),
        };
        anyhow::bail!("the server refused enrollment: {message}");
    }
    let enrolled: EnrollResponse = response.json().await.context("unexpected answer from the server")?;
    enrolled.grant_key.verifying_key().context("the server's grant key")?;
    Ok(AgentConfig {
        server_url: base.as_str().trim_end_matches('/').to_owned(),
        agent_id: Some(enrolled.agent_id),
        credential: Some(enrolled.credential),
        brokers: None,
        always_ask: false,
        grant_key: Some(enrolled.grant_key),
    })
}
