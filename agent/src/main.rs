//! The `tether-agent` command: enroll this computer with a Tether server,
//! then run and stay reachable for technicians, under the user's control.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tether_agent::config::{self, AgentConfig};
use tether_agent::link::{Consent, LinkOptions};
use tether_agent::session::{DEFAULT_UDP_ADDRS, SessionConfig};
use tether_agent::{enroll, link};

/// Tether agent: lets a technician assist this computer, with your consent.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Where the enrollment is kept.
    #[arg(long, global = true, env = "TETHER_AGENT_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
    /// Options of `run`, which is also what runs without a subcommand.
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Clone, Args)]
struct RunArgs {
    /// Accept session requests without asking the person at this computer
    /// (unattended access). Without it, requests are declined until the
    /// consent prompt exists.
    #[arg(long, env = "TETHER_AGENT_UNATTENDED", value_parser = clap::builder::FalseyValueParser::new())]
    unattended: bool,
    /// Local UDP addresses for WebRTC (comma-separated); 0.0.0.0:0 binds
    /// every non-loopback interface.
    #[arg(long = "webrtc-bind", env = "TETHER_AGENT_WEBRTC_BIND", value_delimiter = ',', default_values_t = DEFAULT_UDP_ADDRS.map(String::from))]
    webrtc_bind: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Enroll this computer with a server using a token from its administrator.
    Enroll {
        /// The server's URL, e.g. https://tether.example.org
        #[arg(long)]
        server: String,
        /// The enrollment token.
        #[arg(long, env = "TETHER_ENROLLMENT_TOKEN")]
        token: String,
    },
    /// Connect to the server and stay reachable (the default).
    Run(RunArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TETHER_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    // One TLS provider for the whole process (ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let path = cli.config.unwrap_or_else(config::default_path);
    let result = match cli.command.unwrap_or(Command::Run(cli.run)) {
        Command::Enroll { server, token } => enroll_command(&server, &token, &path).await,
        Command::Run(args) => run_command(&path, args).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tether-agent: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn enroll_command(server: &str, token: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let config = enroll::enroll(server, token).await?;
    config.save(path)?;
    println!("enrolled with {} as agent {}; saved to {}", config.server_url, config.agent_id, path.display());
    Ok(())
}

async fn run_command(path: &std::path::Path, args: RunArgs) -> anyhow::Result<()> {
    let config = AgentConfig::load(path)?;
    let consent = if args.unattended { Consent::Unattended } else { Consent::Decline };
    tracing::info!(server = %config.server_url, agent = %config.agent_id, ?consent, "starting");
    let options =
        LinkOptions { consent, session: SessionConfig { udp_addrs: args.webrtc_bind, ..SessionConfig::default() } };
    link::run(config, options, shutdown_signal()).await
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn run_declines_unless_unattended() {
        let plain = Cli::try_parse_from(["tether-agent", "run", "--webrtc-bind", "127.0.0.1:0"]).unwrap();
        let Some(Command::Run(args)) = plain.command else { panic!("run expected") };
        assert!(!args.unattended);
        assert_eq!(args.webrtc_bind, vec!["127.0.0.1:0".to_owned()]);
        let unattended = Cli::try_parse_from(["tether-agent", "--unattended"]).unwrap();
        assert!(unattended.command.is_none());
        assert!(unattended.run.unattended);
    }
}
