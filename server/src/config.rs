//! Server configuration from command-line flags and `TETHER_*` environment
//! variables (flags win).

use crate::broker::{BrokerSettings, BrokerSpec, EmbeddedConfig, TurnSecret};
use anyhow::Context;
use clap::Args;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

/// Where the server listens, stores and serves from.
#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Address to listen on. Keep it on loopback behind a TLS reverse proxy
    /// in production.
    #[arg(long, env = "TETHER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub storage: StorageConfig,

    /// Directory of the built web app (Trunk's dist).
    #[arg(long, env = "TETHER_WEB_DIR", default_value = "web/dist")]
    pub web_dir: PathBuf,

    /// Mark the session cookie `Secure`; set this when users reach Tether
    /// over HTTPS (they should, outside a lab).
    #[arg(long, env = "TETHER_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    #[command(flatten)]
    pub signalling: SignallingConfig,

    #[command(flatten)]
    pub turn: TurnConfig,

    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "TETHER_LOG_JSON", default_value_t = false)]
    pub log_json: bool,
}

/// Where state lives: the database and the data directory (signing key).
#[derive(Debug, Clone, Args)]
pub struct StorageConfig {
    /// `sqlite://path/to/file.db` (embedded default) or `postgres://…`.
    #[arg(long, env = "TETHER_DATABASE_URL", default_value = "sqlite://tether-data/tether.db")]
    pub database_url: String,

    /// Directory for the token signing key and other local state.
    #[arg(long, env = "TETHER_DATA_DIR", default_value = "tether-data")]
    pub data_dir: PathBuf,
}

/// ICE servers and how long sessions wait for their two ends.
#[derive(Debug, Clone, Args)]
pub struct SignallingConfig {
    /// A STUN or TURN server for both ends of every session
    /// (`stun:host[:port]`, `turn:host[:port][?transport=udp|tcp]`,
    /// `stuns:`, `turns:`); repeat the flag, or separate URLs with commas
    /// in the environment variable.
    #[arg(long = "ice-server", env = "TETHER_ICE_SERVERS", value_delimiter = ',')]
    pub ice_servers: Vec<String>,

    /// Username for the TURN servers among `--ice-server` (static for now).
    #[arg(long, env = "TETHER_TURN_USERNAME")]
    pub turn_username: Option<String>,

    /// Credential for the TURN servers among `--ice-server`.
    #[arg(long, env = "TETHER_TURN_CREDENTIAL", hide_env_values = true)]
    pub turn_credential: Option<String>,

    /// Seconds a session survives its controller's disconnection (a page
    /// reload re-attaches within it).
    #[arg(long, env = "TETHER_SESSION_RELOAD_GRACE_SECS", default_value_t = 30)]
    pub session_reload_grace_secs: u64,

    /// Seconds a requested session may wait for its controller to connect
    /// and the target to answer before it is ended.
    #[arg(long, env = "TETHER_SESSION_REQUEST_TIMEOUT_SECS", default_value_t = 60)]
    pub session_request_timeout_secs: u64,
}

impl SignallingConfig {
    /// The checked ICE servers; an error names the bad setting.
    pub fn ice(&self) -> Result<crate::ice::IceConfig, crate::ice::IceConfigError> {
        crate::ice::IceConfig::new(&self.ice_servers, self.turn_username.as_deref(), self.turn_credential.as_deref())
    }

    /// The session timers.
    pub fn timings(&self) -> crate::state::SessionTimings {
        crate::state::SessionTimings {
            reload_grace: std::time::Duration::from_secs(self.session_reload_grace_secs),
            request_timeout: std::time::Duration::from_secs(self.session_request_timeout_secs),
            ..crate::state::SessionTimings::default()
        }
    }
}

/// Brokers (TURN relays): the shared TURN REST secret, the embedded relay
/// and configured coturn brokers.
#[derive(Debug, Clone, Args)]
pub struct TurnConfig {
    /// The TURN REST secret shared with every broker (coturn's
    /// `static-auth-secret`); by default one is generated and kept in
    /// `<data-dir>/turn-secret`.
    #[arg(long, env = "TETHER_TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<String>,

    /// UDP address of the embedded TURN relay (the `embedded` broker), or
    /// `off`.
    #[arg(long, env = "TETHER_EMBEDDED_TURN", default_value = "127.0.0.1:3478")]
    pub embedded_turn: String,

    /// The address the embedded relay gives out for relayed traffic (and
    /// advertises); by default the listen address's IP. Required when it
    /// listens on 0.0.0.0 or ::.
    #[arg(long, env = "TETHER_EMBEDDED_TURN_RELAY_IP")]
    pub embedded_turn_relay_ip: Option<IpAddr>,

    /// Where the embedded relay also serves TURN over TLS (e.g.
    /// `0.0.0.0:5349`, or 443), with `--tls-cert` and `--tls-key`; `off` by
    /// default. The certificate must name the address clients are given
    /// (the relay address).
    #[arg(long, env = "TETHER_EMBEDDED_TURN_TLS", default_value = "off")]
    pub embedded_turn_tls: String,

    /// The TLS certificate chain (PEM, leaf first) for TURN over TLS.
    #[arg(long, env = "TETHER_TLS_CERT")]
    pub tls_cert: Option<std::path::PathBuf>,

    /// The TLS certificate's private key (PEM).
    #[arg(long, env = "TETHER_TLS_KEY")]
    pub tls_key: Option<std::path::PathBuf>,

    /// UDP ports the embedded relay allocates from, `MIN-MAX` (any free
    /// port when unset).
    #[arg(long, env = "TETHER_EMBEDDED_TURN_PORTS", value_parser = parse_port_range)]
    pub embedded_turn_ports: Option<RangeInclusive<u16>>,

    /// A TURN relay sharing the secret, as `ID=turn:host:port[,turns:...]`;
    /// repeat the flag, or separate brokers with spaces in the environment
    /// variable.
    #[arg(long = "broker", env = "TETHER_BROKERS", value_delimiter = ' ', value_parser = parse_broker)]
    pub brokers: Vec<BrokerSpec>,

    /// Seconds a session's TURN credentials stay valid (1 to 600).
    #[arg(long, env = "TETHER_TURN_CREDENTIAL_LIFETIME_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub turn_credential_lifetime_secs: u64,
}

impl TurnConfig {
    /// The secret: the flag's, else the one kept in `data_dir`.
    pub fn secret(&self, data_dir: &Path) -> anyhow::Result<TurnSecret> {
        let text = match &self.turn_secret {
            Some(text) => text.clone(),
            None => crate::secret::load_or_create(&data_dir.join("turn-secret"), || crate::secret::generate(""))?,
        };
        TurnSecret::new(text).context("bad --turn-secret")
    }

    /// The embedded relay's settings, or `None` when it is `off`.
    pub fn embedded(&self, secret: &TurnSecret) -> anyhow::Result<Option<EmbeddedConfig>> {
        if self.embedded_turn.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let listen: SocketAddr = self
            .embedded_turn
            .parse()
            .with_context(|| format!("--embedded-turn {:?} is neither ip:port nor off", self.embedded_turn))?;
        let relay_ip = match self.embedded_turn_relay_ip {
            Some(ip) => ip,
            None if listen.ip().is_unspecified() => {
                anyhow::bail!(
                    "--embedded-turn listens on {listen}: set --embedded-turn-relay-ip to the address clients reach"
                )
            }
            None => listen.ip(),
        };
        Ok(Some(EmbeddedConfig {
            listen,
            relay_ip,
            relay_ports: self.embedded_turn_ports.clone(),
            realm: "tether".into(),
            secret: secret.clone(),
            // A relay on loopback serves only this machine; letting it relay
            // to loopback peers gives nobody a way in they did not have.
            allow_loopback_peers: relay_ip.is_loopback(),
            tls: self.embedded_tls()?,
        }))
    }

    /// Where and with what the embedded relay serves TURN over TLS.
    fn embedded_tls(&self) -> anyhow::Result<Option<(SocketAddr, std::sync::Arc<rustls::ServerConfig>)>> {
        if self.embedded_turn_tls.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let address: SocketAddr = self
            .embedded_turn_tls
            .parse()
            .with_context(|| format!("--embedded-turn-tls {:?} is neither ip:port nor off", self.embedded_turn_tls))?;
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            anyhow::bail!("--embedded-turn-tls needs --tls-cert and --tls-key");
        };
        Ok(Some((address, crate::tls::server_config(cert, key)?)))
    }

    /// The broker settings: the embedded relay (when its `embedded_urls`
    /// are given) first, then `--broker`s.
    pub fn settings(&self, secret: TurnSecret, embedded_urls: Option<Vec<String>>) -> anyhow::Result<BrokerSettings> {
        let mut built_in: Vec<BrokerSpec> =
            embedded_urls.map(|urls| BrokerSpec { id: EMBEDDED_ID.into(), urls }).into_iter().collect();
        for spec in &self.brokers {
            if built_in.iter().any(|other| other.id == spec.id) {
                anyhow::bail!("--broker {}: the id is used twice (or is the embedded relay's)", spec.id);
            }
            built_in.push(spec.clone());
        }
        Ok(BrokerSettings {
            secret,
            lifetime: std::time::Duration::from_secs(self.turn_credential_lifetime_secs),
            built_in,
        })
    }
}

/// The embedded relay's broker id.
pub const EMBEDDED_ID: &str = "embedded";

/// The URLs clients reach the embedded relay at, UDP first, then TCP,
/// then TLS where it serves it: its bound ports on the relay address when
/// it listens on every interface.
pub fn embedded_urls(bound: SocketAddr, tls: Option<SocketAddr>, relay_ip: IpAddr) -> Vec<String> {
    let reached = |bound: SocketAddr| {
        let ip = if bound.ip().is_unspecified() { relay_ip } else { bound.ip() };
        SocketAddr::new(ip, bound.port())
    };
    let at = reached(bound);
    let mut urls = vec![format!("turn:{at}?transport=udp"), format!("turn:{at}?transport=tcp")];
    urls.extend(tls.map(|tls| format!("turns:{}?transport=tcp", reached(tls))));
    urls
}

fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let (min, max) = text.split_once('-').ok_or("expected MIN-MAX")?;
    let min: u16 = min.trim().parse().map_err(|_| "MIN is not a port")?;
    let max: u16 = max.trim().parse().map_err(|_| "MAX is not a port")?;
    if min == 0 || min > max {
        return Err("expected 1 <= MIN <= MAX".into());
    }
    Ok(min..=max)
}

fn parse_broker(text: &str) -> Result<BrokerSpec, String> {
    let (id, urls) = text.split_once('=').ok_or("expected ID=turn:host:port[,turn:...]")?;
    crate::broker::registry::check_id(id).map_err(str::to_owned)?;
    let urls: Vec<String> = urls.split(',').map(|url| url.trim().to_owned()).collect();
    crate::broker::registry::check_urls(&urls).map_err(|err| err.to_string())?;
    Ok(BrokerSpec { id: id.to_owned(), urls })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_flags_and_port_ranges_parse() {
        assert_eq!(
            parse_broker("coturn-1=turn:relay.example.org:3478,turns:relay.example.org"),
            Ok(BrokerSpec {
                id: "coturn-1".into(),
                urls: vec!["turn:relay.example.org:3478".into(), "turns:relay.example.org".into()],
            })
        );
        for bad in ["coturn", "Bad=turn:x", "a=stun:x", "a=", "a=turn:x,http://y"] {
            assert!(parse_broker(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_port_range("50000-50010"), Ok(50_000..=50_010));
        assert!(parse_port_range("0-10").is_err() && parse_port_range("9-1").is_err());
        let any: SocketAddr = "0.0.0.0:3478".parse().expect("addr");
        let tls: SocketAddr = "0.0.0.0:5349".parse().expect("addr");
        assert_eq!(
            embedded_urls(any, Some(tls), "192.0.2.7".parse().expect("ip")),
            [
                "turn:192.0.2.7:3478?transport=udp",
                "turn:192.0.2.7:3478?transport=tcp",
                "turns:192.0.2.7:5349?transport=tcp"
            ]
        );
    }
}
