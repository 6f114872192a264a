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
