//! What the agent reports about this computer: host name, operating
//! system, the logged-in user, its own version and the displays.

use tether_shared::agent::{AgentInfo, MAX_INFO_FIELD_CHARS};

/// Gathers the current [`AgentInfo`].
pub fn info() -> AgentInfo {
    AgentInfo {
        hostname: clip(&gethostname::gethostname().to_string_lossy()),
        os: clip(&os_name()),
        os_user: clip(&logged_in_user()),
        agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        displays: crate::platform::displays(),
    }
}

/// The account the agent runs as (the desktop session's user), by uid.
fn logged_in_user() -> String {
    whoami::username().or_else(|_| std::env::var("USER")).unwrap_or_default()
}

/// `PRETTY_NAME` from os-release, or the kernel's name.
fn os_name() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| pretty_name(&text))
        .unwrap_or_else(|| std::env::consts::OS.to_owned())
}

fn pretty_name(os_release: &str) -> Option<String> {
    os_release
        .lines()
        .find_map(|line| line.strip_prefix("PRETTY_NAME="))
        .map(|value| value.trim().trim_matches('"').to_owned())
        .filter(|name| !name.is_empty())
}

/// Keeps a reported field within what the server accepts.
fn clip(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(MAX_INFO_FIELD_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pretty_name() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(pretty_name(text).as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(pretty_name("NAME=x"), None);
    }

    #[test]
    fn reported_info_is_acceptable_to_the_server() {
        let info = AgentInfo { displays: Vec::new(), ..info() };
        assert_eq!(info.validate(), Ok(()));
        assert_eq!(clip(&"é\u{7}".repeat(200)).chars().count(), MAX_INFO_FIELD_CHARS);
    }
}
