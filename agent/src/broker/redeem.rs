//! `POST /api/broker/redeem`: trades the code (as typed), this computer's
//! target data and the chosen broker for a session.

use super::ConnectError;
use super::list::transport_detail;
use crate::config::AgentConfig;
use tether_shared::api::ApiError;
use tether_shared::broker::{RedeemCodeRequest, RedeemCodeResponse};

/// Redeems `request` with the server of `config`.
pub async fn redeem(
    client: &reqwest::Client,
    config: &AgentConfig,
    request: &RedeemCodeRequest,
) -> Result<RedeemCodeResponse, ConnectError> {
    let unreachable = |detail: String| ConnectError::ServerUnreachable { server: config.server_url.clone(), detail };
    let url = config.api_url("/api/broker/redeem").map_err(|err| unreachable(format!("{err:#}")))?;
    let response = client.post(url).json(request).send().await.map_err(|err| unreachable(transport_detail(&err)))?;
    let status = response.status();
    if status.is_success() {
        return response.json().await.map_err(|err| unreachable(format!("its answer is not readable: {err}")));
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let error = response.json::<ApiError>().await.ok().map(|error| (error.error, error.message));
    Err(ConnectError::from_refusal(status.as_u16(), error, retry_after))
}
