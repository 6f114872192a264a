//! The `tether-agent` command: enroll this computer with a Tether server,
//! then run and stay reachable for technicians, under the user's control.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tether_agent::config::{self, AgentConfig};
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
    Run,
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
    let result = match cli.command.unwrap_or(Command::Run) {
        Command::Enroll { server, token } => enroll_command(&server, &token, &path).await,
        Command::Run => run_command(&path).await,
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

async fn run_command(path: &std::path::Path) -> anyhow::Result<()> {
    let config = AgentConfig::load(path)?;
    tracing::info!(server = %config.server_url, agent = %config.agent_id, "starting");
    link::run(config, shutdown_signal()).await
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
