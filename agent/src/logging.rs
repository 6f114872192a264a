//! Where the agent's logs go and how many there are. The person at this
//! computer reads the terminal: it gets plain sentences meant for them
//! (`crate::notice`, the prompts, `connect`'s progress), and logs only when
//! something in the agent itself goes wrong. Logs always go to standard
//! error, without colour codes unless it is a terminal.
//!
//! The filter, first that applies:
//! - `TETHER_LOG` (tracing's directive syntax, e.g. `info` or
//!   `tether_agent=debug,webrtc=warn`; the server reads the same variable);
//! - `--verbose`: `-v` the agent's own info, `-vv` its debug and the
//!   libraries' info, `-vvv` everything;
//! - on a terminal: the agent's own warnings and errors, nothing from the
//!   libraries (webrtc-rs, enigo and the rest speak to developers);
//! - otherwise (a service, a log file): the agent's info, the libraries'
//!   warnings.

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// The environment variable that sets the filter.
pub const FILTER_VARIABLE: &str = "TETHER_LOG";

/// The agent's own crates, as filter targets.
const OWN_CRATES: [&str; 2] = ["tether_agent", "tether_shared"];

/// The filter directives for `verbosity` (`-v` count) when `TETHER_LOG`
/// is not set, depending on whether standard error is a terminal.
pub fn default_directives(verbosity: u8, terminal: bool) -> String {
    let (own, libraries) = match (verbosity, terminal) {
        (0, true) => ("warn", "off"),
        (0, false) => ("info", "warn"),
        (1, _) => ("info", "warn"),
        (2, _) => ("debug", "info"),
        _ => ("trace", "trace"),
    };
    let own: Vec<String> = OWN_CRATES.iter().map(|name| format!("{name}={own}")).collect();
    format!("{libraries},{}", own.join(","))
}

/// Installs the process's log subscriber, writing to standard error.
pub fn init(verbosity: u8) {
    let terminal = std::io::stderr().is_terminal();
    let filter = match std::env::var(FILTER_VARIABLE) {
        Ok(directives) => EnvFilter::try_new(&directives).unwrap_or_else(|err| {
            eprintln!("tether-agent: ignoring {FILTER_VARIABLE}={directives:?}: {err}");
            EnvFilter::new(default_directives(verbosity, terminal))
        }),
        Err(_) => EnvFilter::new(default_directives(verbosity, terminal)),
    };
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(terminal).init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_hears_only_the_agents_own_warnings() {
        assert_eq!(default_directives(0, true), "off,tether_agent=warn,tether_shared=warn");
    }

    #[test]
    fn a_service_log_keeps_the_agents_info_and_the_libraries_warnings() {
        assert_eq!(default_directives(0, false), "warn,tether_agent=info,tether_shared=info");
    }

    #[test]
    fn verbose_raises_both_wherever_the_log_goes() {
        assert_eq!(default_directives(1, true), default_directives(1, false));
        assert_eq!(default_directives(2, true), "info,tether_agent=debug,tether_shared=debug");
        assert_eq!(default_directives(7, true), "trace,tether_agent=trace,tether_shared=trace");
        for verbosity in 0..4 {
            for terminal in [true, false] {
                EnvFilter::try_new(default_directives(verbosity, terminal)).expect("valid directives");
            }
        }
    }
}
