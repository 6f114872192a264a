//! Server configuration from command-line flags and `TETHER_*` environment
//! variables (flags win).

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

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
        }
    }
}
