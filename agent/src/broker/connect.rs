//! Taking a connection code from start to end: check the configuration,
//! read the code, refresh the broker list, pick a broker, redeem, serve the
//! session. Used by `tether-agent connect` and the loopback UI.

use super::{ConnectError, choice, list, probe, redeem, socket};
use crate::config::{AgentConfig, same_server};
use crate::consent::Ask;
use crate::link::PersonRequests;
use crate::notice::Notify;
use crate::server_key;
use crate::session::SessionConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tether_shared::broker::{BrokerView, RedeemCodeRequest};
use tether_shared::connection_code::CodeInput;
use tether_shared::mode::SessionMode;

/// Where the configuration is and how sessions run.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub config_path: PathBuf,
    pub session: SessionConfig,
    /// How long each broker probe waits.
    pub probe_deadline: Duration,
}

/// Steps of a connection, for status lines and the loopback UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Fetching the broker list from the server.
    ContactingServer { server: String },
    /// Redeeming the code, through this broker (`host:port`) if any.
    Redeeming { broker: Option<String> },
    /// This agent had pinned no server key and now trusts the server's
    /// (trust on first use); its fingerprint, to compare out of band.
    TrustedServerKey { fingerprint: String },
    /// The session is live with `technician` (the name the server's grant
    /// signs), in `mode`: what the person accepted.
    InSession { session_id: String, technician: String, mode: SessionMode },
}

/// The person at this computer, as a code's session reaches them.
#[derive(Debug)]
pub struct Person {
    /// Puts the acceptance question to them when the session's policy (or
    /// their own rule) wants one, and later a technician's request to
    /// change the mode.
    pub ask: Arc<dyn Ask>,
    /// Their requests about the running session (its page's "Allow only
    /// …"), if they can make any.
    pub requests: Option<PersonRequests>,
    /// Where the session's changes of mode are told.
    pub notify: Notify,
}

/// Takes the code `typed` and serves its session until it ends; returns
/// why it ended.
pub async fn run(
    options: &ConnectOptions,
    typed: &str,
    person: Person,
    mut progress: impl FnMut(Progress),
) -> Result<String, ConnectError> {
    let not_configured = || ConnectError::NotConfigured(list::NOT_CONFIGURED.to_owned());
    let config = AgentConfig::load_optional(&options.config_path)
        .map_err(|err| ConnectError::NotConfigured(format!("{err:#}")))?
        .ok_or_else(not_configured)?;
    if config.server_url.trim().is_empty() {
        return Err(not_configured());
    }
    let input = CodeInput::parse(typed).map_err(ConnectError::InvalidCode)?;
    if let Some(link) = &input.server
        && !same_server(link, &config.server_url)
    {
        return Err(ConnectError::OtherServer { link: link.clone(), configured: config.server_url.clone() });
    }
    let client = list::http_client();
    progress(Progress::ContactingServer { server: config.server_url.clone() });
    // Fresh loads make "least loaded" mean something; a cached list serves
    // if the server does not answer now (the redemption will say why).
    let config = match (list::refresh(&client, &options.config_path, config.clone()).await, &config.brokers) {
        (Ok(config), _) => config,
        (Err(err), Some(_)) => {
            tracing::warn!(error = %err, "cannot refresh the broker list; using the cached one");
            config
        }
        (Err(err), None) => return Err(err),
    };
    let config = match config.grant_key {
        Some(_) => config,
        None => {
            let config = trust_on_first_use(&client, &options.config_path, config).await?;
            let fingerprint = config.grant_key.as_ref().map(|key| key.fingerprint.clone()).unwrap_or_default();
            tracing::warn!(%fingerprint, "no server key was pinned; trusting the server's on first use");
            progress(Progress::TrustedServerKey { fingerprint });
            config
        }
    };
    let brokers = config.brokers.clone().unwrap_or_default();
    let broker = pick(&brokers, options.probe_deadline).await?;
    progress(Progress::Redeeming { broker: broker.map(|broker| broker.address.clone()) });
    // The canonical digits: a link's server part was checked above.
    let request = RedeemCodeRequest {
        code: input.code.digits(),
        target: crate::machine::info(),
        broker: broker.map(|broker| broker.id.clone()),
    };
    let redeemed = redeem::redeem(&client, &config, &request).await?;
    tracing::info!(session = %redeemed.session_id, technician = %redeemed.technician, broker = ?redeemed.broker, "code redeemed");
    let session_id = redeemed.session_id.clone();
    let live = |technician, mode| progress(Progress::InSession { session_id, technician, mode });
    socket::serve(&config, &redeemed, request.target, options.session.clone(), person, live).await
}

/// Fetches the server's grant key and pins it in the configuration: an
/// agent that never pinned one trusts the server it takes a code from.
async fn trust_on_first_use(
    client: &reqwest::Client,
    path: &std::path::Path,
    mut config: AgentConfig,
) -> Result<AgentConfig, ConnectError> {
    let unreachable = |detail: String| ConnectError::ServerUnreachable { server: config.server_url.clone(), detail };
    let offered = server_key::fetch(client, &config.server_url).await.map_err(|err| unreachable(format!("{err:#}")))?;
    server_key::pin(None, &offered, None).map_err(|err| ConnectError::Session(err.to_string()))?;
    config.grant_key = Some(offered);
    config.save(path).map_err(|err| ConnectError::NotConfigured(format!("{err:#}")))?;
    Ok(config)
}

/// The broker to use: `None` when the server has none (direct sessions);
/// an error when it has some but none answers.
async fn pick(brokers: &[BrokerView], deadline: Duration) -> Result<Option<&BrokerView>, ConnectError> {
    if brokers.is_empty() {
        return Ok(None);
    }
    let rtts = probe::probe_all(brokers, deadline).await;
    let probed: Vec<_> = brokers.iter().zip(rtts).collect();
    match choice::choose(&probed) {
        Some(broker) => {
            tracing::info!(broker = %broker.id, address = %broker.address, "broker chosen");
            Ok(Some(broker))
        }
        None => {
            let names: Vec<&str> = brokers.iter().map(|broker| broker.address.as_str()).collect();
            Err(ConnectError::BrokerUnreachable(names.join(", ")))
        }
    }
}
