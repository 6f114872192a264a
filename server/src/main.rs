//! The `tether-server` command: serve (the default), create an
//! administrator, or verify the audit log.

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::process::ExitCode;
use tether_server::auth::rate_limit::LoginLimits;
use tether_server::auth::tokens::TokenKeys;
use tether_server::config::{ServerConfig, StorageConfig};
use tether_server::state::AppState;
use tether_server::store::Store;
use tether_server::{app, audit, bootstrap, config, db, sessions};
use tracing_subscriber::EnvFilter;

/// Tether server: browser-based remote assistance.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServerConfig,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Box<ServerConfig>),
    /// Manage administrators from the console.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an administrator and print a one-time password.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "Administrator")]
        display_name: String,
        #[command(flatten)]
        storage: StorageConfig,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the hash chain; exits 1 and names the first bad entry if broken.
    Verify {
        #[command(flatten)]
        storage: StorageConfig,
    },
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_env("TETHER_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person's terminal, never in a log file or journal.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(*config).await,
        Some(Command::Admin(AdminCommand::Create { username, display_name, storage })) => {
            init_logging(false);
            create_admin(&storage, &username, &display_name).await
        }
        Some(Command::Audit(AuditCommand::Verify { storage })) => {
            init_logging(false);
            verify_audit(&storage).await
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("tether-server: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open_store(storage: &StorageConfig) -> anyhow::Result<Store> {
    Ok(Store::new(db::connect(&storage.database_url).await?))
}

async fn serve(config: ServerConfig) -> anyhow::Result<ExitCode> {
    init_logging(config.log_json);
    let ice = config.signalling.ice().context("bad ICE server settings")?;
    // The relay first: if its port is taken, fail before anything is created.
    let turn_secret = config.turn.secret(&config.storage.data_dir)?;
    let relay = app::start_embedded_relay(&config.turn, &turn_secret).await?;
    let embedded_urls =
        relay.as_ref().map(|(relay, relay_ip)| config::embedded_urls(relay.local_addr(), relay.tls_addr(), *relay_ip));
    let store = open_store(&config.storage).await?;
    let keys = TokenKeys::load_or_create(&config.storage.data_dir)?;
    let grant_key = tether_server::grants::GrantKey::load_or_create(&config.storage.data_dir)?;
    // Agents print the key they pin; this is what an operator compares it with.
    println!("tether: session grants are signed with the key whose fingerprint is {}", grant_key.public().fingerprint);
    if let Some(admin) = bootstrap::first_admin(&store).await? {
        println!(
            "tether: first administrator created: username {}, one-time password: {}",
            admin.username, admin.one_time_password
        );
        println!("tether: sign in with it and choose a new password; it is shown only this once");
    }
    if !config.web_dir.join("index.html").exists() {
        tracing::warn!(dir = %config.web_dir.display(), "web app not built; only the API is served");
    }
    let broker_sessions = tether_server::broker_sessions::BrokerSessions::new(
        tether_server::broker_sessions::CodeKey::load_or_create(&config.storage.data_dir)?,
        tether_server::broker_sessions::RedeemLimits::default(),
    );
    let ended = sessions::end_interrupted(&store).await?;
    if ended > 0 {
        tracing::warn!(sessions = ended, "ended the sessions a previous run left open");
    }
    let state = AppState::new(store, keys, LoginLimits::default(), config.secure_cookies)
        .await?
        .with_signalling(ice, config.signalling.timings())
        .with_brokers(config.turn.settings(turn_secret, embedded_urls)?)?
        .with_broker_sessions(broker_sessions)
        .with_grant_key(grant_key);
    tether_server::broker_sessions::sweeper::spawn(state.clone());
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr()?;
    println!("tether: listening on http://{address}");
    let router = app::router(state.clone(), &config.web_dir);
    let served = app::serve(listener, router, app::end_sessions_on_shutdown(state, app::shutdown_signal())).await;
    if let Some((relay, _)) = relay {
        relay.stop().await.context("cannot stop the embedded TURN relay")?;
    }
    served?;
    Ok(ExitCode::SUCCESS)
}

async fn create_admin(storage: &StorageConfig, username: &str, display_name: &str) -> anyhow::Result<ExitCode> {
    let store = open_store(storage).await?;
    let admin = bootstrap::create_admin(&store, username, display_name, "system.admin_create").await?;
    println!("administrator {} created; one-time password: {}", admin.username, admin.one_time_password);
    Ok(ExitCode::SUCCESS)
}

async fn verify_audit(storage: &StorageConfig) -> anyhow::Result<ExitCode> {
    let store = open_store(storage).await?;
    let status = audit::verify(store.pool()).await?;
    match (&status.first_break, &status.head_hash) {
        (Some(first_break), _) => {
            println!(
                "audit log BROKEN at entry {} ({:?}): {} ({} entries verified before it)",
                first_break.seq, first_break.kind, first_break.message, status.entries_checked
            );
            Ok(ExitCode::FAILURE)
        }
        (None, head) => {
            println!(
                "audit log intact: {} entries, head hash {}",
                status.entries_checked,
                head.as_deref().unwrap_or("(empty)")
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
