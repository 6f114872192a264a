//! The `tether-agent` command: enroll this computer with a Tether server,
//! then run and stay reachable for technicians, under the user's control;
//! or take a connection code (`connect`, or the loopback UI `ui`).

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tether_agent::broker::{self, ConnectOptions, Progress, list, probe};
use tether_agent::config::{self, AgentConfig};
use tether_agent::consent::{Answer, Question};
use tether_agent::consent::{Ask, PreApproved, Terminal};
use tether_agent::link::{Consent, LinkOptions, PersonRequest, PersonRequests};
use tether_agent::local_ui::{LinkPage, LocalUi, UiOptions};
use tether_agent::notice::{Notice, Notify};
use tether_agent::server_key::{self, Pinned};
use tether_agent::session::{DEFAULT_UDP_ADDRS, SessionConfig};
use tether_agent::trust::ServerTrust;
use tether_agent::{enroll, link};
use tether_shared::local_floor::LocalFloor;

/// Tether agent: lets a technician assist this computer, with your consent.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Where the enrollment is kept.
    #[arg(long, global = true, env = "TETHER_AGENT_CONFIG")]
    config: Option<PathBuf>,
    /// Show the agent's logs (`-v`), its debug logs and the libraries'
    /// (`-vv`), or everything (`-vvv`). `TETHER_LOG` overrides it.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Option<Command>,
    /// Options of `run`, which is also what runs without a subcommand.
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Clone, Args)]
struct RunArgs {
    /// Allow sessions without asking the person at this computer
    /// (unattended access), where the server's policy allows it too.
    /// Without it, technicians' requests are put to the person on the
    /// agent's page (with --ui-dir) or else declined.
    #[arg(long, env = "TETHER_AGENT_UNATTENDED", value_parser = clap::builder::FalseyValueParser::new())]
    unattended: bool,
    /// Serve the agent's page (the web app's built files): the person at
    /// this computer accepts or rejects technicians' requests there, sees
    /// who is accessing the computer, and can enter connection codes.
    #[arg(long, env = "TETHER_AGENT_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Loopback address for the agent's page; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    ui_listen: SocketAddr,
    /// Do not open the page in a browser when a request needs an answer
    /// (its address is printed at start).
    #[arg(long)]
    no_open: bool,
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
        /// Replace the server key this agent already pinned with the
        /// server's new one, whose fingerprint you checked is this.
        #[arg(long, value_name = "FINGERPRINT")]
        accept_new_key: Option<String>,
    },
    /// Connect to the server and stay reachable (the default).
    Run(RunArgs),
    /// Set the server this agent takes connection codes from, and fetch its
    /// broker list (no enrollment needed).
    Configure {
        /// The server's URL, e.g. https://tether.example.org
        #[arg(long)]
        server: String,
        /// Ask before every connection-code session even when the session's
        /// policy does not (`--always-ask=false` turns it off again; left
        /// out, the setting is kept).
        #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
        always_ask: Option<bool>,
        /// Replace the pinned server key with the server's new one, whose
        /// fingerprint you checked (with its administrator) is this.
        #[arg(long, value_name = "FINGERPRINT")]
        accept_new_key: Option<String>,
    },
    /// Take a connection code from a technician and run that session in the
    /// foreground. When the session's policy asks for your acceptance, you
    /// answer here (or in advance with --accept).
    Connect {
        /// The 9-digit code (spaces or dashes allowed) or its link.
        code: String,
        /// Accept the session without being asked again: running this
        /// command with the code is your consent.
        #[arg(long)]
        accept: bool,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Serve the agent's page on this computer (loopback only) to enter a
    /// connection code in the browser.
    Ui {
        /// The web app's built files (Trunk's dist directory).
        #[arg(long, env = "TETHER_AGENT_UI_DIR")]
        ui_dir: Option<PathBuf>,
        /// Loopback address to listen on; port 0 picks a free one.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Print the address without opening a browser.
        #[arg(long)]
        no_open: bool,
        #[command(flatten)]
        session: SessionArgs,
    },
}

/// Where a code's session binds and what it shows.
#[derive(Debug, Clone, Args)]
struct SessionArgs {
    /// Local UDP addresses for WebRTC (comma-separated).
    #[arg(long = "webrtc-bind", env = "TETHER_AGENT_WEBRTC_BIND", value_delimiter = ',', default_values_t = DEFAULT_UDP_ADDRS.map(String::from))]
    webrtc_bind: Vec<String>,
    /// The X display to share (default: $DISPLAY).
    #[arg(long)]
    display: Option<String>,
}

impl SessionArgs {
    fn connect_options(self, config_path: &Path) -> ConnectOptions {
        ConnectOptions {
            config_path: config_path.to_owned(),
            session: SessionConfig { udp_addrs: self.webrtc_bind, display: self.display, ..SessionConfig::default() },
            probe_deadline: probe::DEFAULT_DEADLINE,
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The terminal is the person's: logs only on request or when it matters.
    tether_agent::logging::init(cli.verbose);
    // One TLS provider for the whole process (ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let path = cli.config.unwrap_or_else(config::default_path);
    let result = match cli.command.unwrap_or(Command::Run(cli.run)) {
        Command::Enroll { server, token, accept_new_key } => {
            enroll_command(&server, &token, accept_new_key.as_deref(), &path).await
        }
        Command::Run(args) => run_command(&path, args).await,
        Command::Configure { server, always_ask, accept_new_key } => {
            configure_command(&server, always_ask, accept_new_key.as_deref(), &path).await
        }
        Command::Connect { code, accept, session } => {
            let ask: Arc<dyn Ask> = if accept { Arc::new(PreApproved) } else { Arc::new(Terminal) };
            connect_command(&code, ask, session.connect_options(&path)).await
        }
        Command::Ui { ui_dir, listen, no_open, session } => {
            let options = UiOptions { listen, ui_dir, connect: session.connect_options(&path) };
            ui_command(options, !no_open).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tether-agent: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn enroll_command(server: &str, token: &str, accept_new: Option<&str>, path: &Path) -> anyhow::Result<()> {
    let mut config = enroll::enroll(server, token).await?;
    // A key this agent pinned for the same server is not replaced silently.
    let pinned = AgentConfig::load_optional(path)?
        .filter(|existing| config::same_server(&existing.server_url, &config.server_url))
        .and_then(|existing| existing.grant_key);
    if let Some(offered) = config.grant_key.clone() {
        let outcome = server_key::pin(pinned.as_ref(), &offered, accept_new)?;
        config.grant_key = Some(offered);
        print_pinned(&outcome, config.grant_key.as_ref());
    }
    config.save(path)?;
    println!(
        "enrolled with {} as agent {}; saved to {}",
        config.server_url,
        config.agent_id.as_deref().unwrap_or_default(),
        path.display()
    );
    refresh_brokers(path, config).await;
    Ok(())
}

/// Says which server key this agent now trusts, for comparing out of band.
fn print_pinned(outcome: &Pinned, key: Option<&tether_shared::grant::PublicGrantKey>) {
    let Some(key) = key else { return };
    match outcome {
        Pinned::First => println!("pinned the server's grant key, fingerprint {}", key.fingerprint),
        Pinned::Same => println!("the server's grant key is the one pinned, fingerprint {}", key.fingerprint),
        Pinned::Replaced { previous } => {
            println!("replaced the pinned server key {previous} with {}", key.fingerprint);
        }
    }
    println!("(ask the server's administrator to confirm this fingerprint)");
}

async fn configure_command(
    server: &str,
    always_ask: Option<bool>,
    accept_new: Option<&str>,
    path: &Path,
) -> anyhow::Result<()> {
    let wanted = AgentConfig::for_server(server)?;
    let mut config = match AgentConfig::load_optional(path)? {
        Some(existing) if config::same_server(&existing.server_url, &wanted.server_url) => existing,
        Some(existing) if existing.enrollment().is_ok() => anyhow::bail!(
            "this agent is enrolled with {}; to move it to {}, enroll it there with `tether-agent enroll`",
            existing.server_url,
            wanted.server_url
        ),
        _ => wanted,
    };
    if let Some(always_ask) = always_ask {
        config.always_ask = always_ask;
    }
    match server_key::fetch(&list::http_client(), &config.server_url).await {
        Ok(offered) => {
            let outcome = server_key::pin(config.grant_key.as_ref(), &offered, accept_new)?;
            config.grant_key = Some(offered);
            print_pinned(&outcome, config.grant_key.as_ref());
        }
        Err(err) if config.grant_key.is_some() => println!("could not check the server's grant key: {err:#}"),
        Err(err) => {
            println!("could not fetch the server's grant key yet (it is pinned when a code is first taken): {err:#}")
        }
    }
    config.save(path)?;
    println!("server set to {}; saved to {}", config.server_url, path.display());
    if config.always_ask {
        println!("you will be asked before every connection-code session, whatever the server's policy");
    }
    refresh_brokers(path, config).await;
    Ok(())
}

/// Fetches and caches the broker list, saying how it went; failure is not
/// fatal (the agent fetches it again when it takes a code).
async fn refresh_brokers(path: &Path, config: AgentConfig) {
    match list::refresh(&list::http_client(), path, config).await {
        Ok(config) => {
            let count = config.brokers.as_ref().map_or(0, Vec::len);
            println!("fetched the broker list ({count} broker(s)); connection codes can be entered");
        }
        Err(err) => println!("could not fetch the broker list yet: {err}"),
    }
}

async fn connect_command(code: &str, ask: Arc<dyn Ask>, options: ConnectOptions) -> anyhow::Result<()> {
    // The terminal hears of changes of mode; the rest it says below.
    let notify = Notify::new(|notice| {
        if let Notice::ModeChanged { .. } | Notice::Chat { .. } = notice {
            println!("{notice}");
        }
    });
    // Ctrl+C during a session ends it as the person's own choice: a `bye`
    // saying so, so both sides stop at once and the audit log says who.
    let (end, requests) = PersonRequests::channel();
    let live = std::sync::Mutex::new(None::<String>);
    let person = broker::Person { ask, requests: Some(requests), notify };
    let run = broker::connect::run(&options, code, person, |progress| match progress {
        Progress::ContactingServer { server } => println!("Contacting the Tether server at {server}…"),
        // The relay's address is in the log; the person needs no address.
        Progress::Redeeming { .. } => println!("Checking the connection code…"),
        Progress::TrustedServerKey { fingerprint } => {
            println!("This computer had no server key pinned; it now trusts the server's, fingerprint {fingerprint}");
            println!("(trusted on first use: ask the server's administrator to confirm this fingerprint)");
        }
        Progress::InSession { session_id, technician, mode } => {
            *live.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(session_id);
            println!(
                "Connected: {technician} is now in a session with this computer, in {} mode. {}",
                mode.name(),
                mode.description()
            );
            println!("Press Ctrl+C to end the session at any time.");
        }
    });
    tokio::pin!(run);
    let result = tokio::select! {
        result = &mut run => result,
        () = shutdown_signal() => {
            let session = live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            let Some(session_id) = session.filter(|session_id| end.send((session_id.clone(), PersonRequest::End)).is_ok()) else {
                println!("Cancelled.");
                return Ok(());
            };
            // The session says bye and closes its socket; a stuck one is dropped.
            match tokio::time::timeout(CTRL_C_GRACE, &mut run).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!(%session_id, "the session did not end in time; leaving");
                    Ok("you ended the session".to_owned())
                }
            }
        }
    };
    println!("Session ended: {}", result?);
    Ok(())
}

/// How long `connect` waits, after Ctrl+C, for the session to say bye.
const CTRL_C_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

async fn ui_command(options: UiOptions, open: bool) -> anyhow::Result<()> {
    let ui = LocalUi::start(options).await?;
    let url = ui.url();
    println!("The agent's page is at {url}");
    println!("(only this computer can open it; keep the link private)");
    if open {
        open_browser(&url);
    }
    ui.run_until(shutdown_signal()).await
}

/// Asks the desktop to open `url`; failing is not fatal (the URL is printed).
fn open_browser(url: &str) {
    match std::process::Command::new("xdg-open").arg(url).spawn() {
        Ok(mut child) => {
            // Reap it without blocking the runtime.
            std::thread::spawn(move || child.wait());
        }
        Err(err) => eprintln!("could not open a browser ({err}); open the address above yourself"),
    }
}

async fn run_command(path: &std::path::Path, args: RunArgs) -> anyhow::Result<()> {
    let config = AgentConfig::load(path)?;
    let enrollment = config.enrollment()?;
    let floor = LocalFloor { always_ask: config.always_ask, never_unattended: !args.unattended };
    let consent = Consent::Enrolled { agent_id: enrollment.agent_id.to_owned(), floor };
    let trust = ServerTrust::from_config(&config)?;
    if config.grant_key.is_none() {
        println!("No server key is pinned, so every session is declined: run `tether-agent configure --server URL`.");
    }
    tracing::info!(server = %config.server_url, agent = %enrollment.agent_id, ?consent, "starting");
    println!("Tether agent {} for {}.", enrollment.agent_id, config.server_url);
    let session = SessionConfig { udp_addrs: args.webrtc_bind.clone(), ..SessionConfig::default() };
    let page = match &args.ui_dir {
        Some(ui_dir) => {
            let connect = ConnectOptions {
                config_path: path.to_owned(),
                session: session.clone(),
                probe_deadline: probe::DEFAULT_DEADLINE,
            };
            let ui =
                LocalUi::start(UiOptions { listen: args.ui_listen, ui_dir: Some(ui_dir.clone()), connect }).await?;
            println!("The agent's page is at {}", ui.url());
            println!("(only this computer can open it; keep the link private)");
            Some(ui)
        }
        None => None,
    };
    match (args.unattended, &page) {
        (true, _) => println!(
            "Unattended access is on: where the server's policy allows it, technicians' sessions start without asking."
        ),
        (false, Some(_)) => println!("Technicians' requests are put to you on the agent's page."),
        (false, None) => println!(
            "Technicians' session requests are declined: nobody can be asked (start with --ui-dir to be asked on a page, \
             or --unattended to allow unattended access)."
        ),
    }
    // Contacting the server also caches its broker list, for connection codes.
    let refresh = tokio::spawn({
        let (path, config) = (path.to_owned(), config.clone());
        async move {
            if let Err(err) = list::refresh(&list::http_client(), &path, config).await {
                tracing::warn!(error = %err, "cannot fetch the broker list");
            }
        }
    });
    drop(refresh);
    let (notify, asker, requests) = match &page {
        Some(ui) => {
            let (sender, requests) = PersonRequests::channel();
            let link_page = ui.link_page(sender);
            let follower = link_page.clone();
            let notify = Notify::new(move |notice| {
                if notice.for_terminal() {
                    println!("{notice}");
                }
                follower.notice(notice);
            });
            let asker = PageAsker { page: link_page, url: ui.url(), open: !args.no_open };
            (notify, Some(Arc::new(asker) as Arc<dyn Ask>), Some(requests))
        }
        None => (Notify::print(), None, None),
    };
    let options = LinkOptions { consent, session, notify, trust, asker, requests };
    let result = link::run(config, options, shutdown_signal()).await;
    if let Some(ui) = page {
        ui.stop();
    }
    result
}

/// Asks on the agent's page, saying so on the terminal and (unless told
/// not to) opening the page in the desktop's browser.
#[derive(Debug)]
struct PageAsker {
    page: LinkPage,
    url: String,
    open: bool,
}

impl Ask for PageAsker {
    fn ask(&self, question: &Question) -> tokio::sync::oneshot::Receiver<Answer> {
        let answer = self.page.ask(question);
        println!(
            "{} asks for a session on this computer in {} mode: answer on the agent's page within {} s.",
            question.technician,
            question.offer.mode.name(),
            question.timeout.as_secs()
        );
        if self.open {
            open_browser(&self.url);
        }
        answer
    }

    fn withdraw(&self, session_id: &str) {
        self.page.withdraw(session_id);
    }
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

    #[test]
    fn connect_and_ui_take_session_options() {
        let connect = Cli::try_parse_from([
            "tether-agent",
            "connect",
            "123 456 789",
            "--display",
            ":5",
            "--webrtc-bind",
            "127.0.0.1:0",
            "--accept",
        ])
        .unwrap();
        let Some(Command::Connect { code, accept, session }) = connect.command else { panic!("connect expected") };
        assert_eq!(code, "123 456 789");
        assert!(accept);
        assert_eq!(session.display.as_deref(), Some(":5"));
        let configure = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["tether-agent", "configure", "--server", "http://s"], args].concat());
            let Some(Command::Configure { always_ask, .. }) = cli.unwrap().command else {
                panic!("configure expected")
            };
            always_ask
        };
        assert_eq!(configure(&[]), None, "left out: kept as it is");
        assert_eq!(configure(&["--always-ask"]), Some(true));
        assert_eq!(configure(&["--always-ask=false"]), Some(false));
        let ui = Cli::try_parse_from(["tether-agent", "ui", "--no-open"]).unwrap();
        let Some(Command::Ui { listen, no_open, .. }) = ui.command else { panic!("ui expected") };
        assert!(no_open && listen.ip().is_loopback());
    }
}
