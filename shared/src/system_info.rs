//! The `system` tool: what the technician reads about the computer — its
//! operating system, processor, memory, disks, network interfaces, uptime,
//! who is logged in and the busiest processes — as one [`SystemReport`],
//! collected afresh on each request. Every list and string is capped, so a
//! report always fits one message.

use crate::tool_message::{ToolRejected, at_most, decode};
use serde::{Deserialize, Serialize};

/// The largest system message, in bytes.
pub const MAX_SYSTEM_MESSAGE_BYTES: usize = 192 * 1024;
/// How many processes each "top" list names.
pub const TOP_PROCESSES: usize = 10;
/// The most disks, interfaces or logged-in users a report lists.
pub const MAX_LISTED: usize = 64;
/// The most addresses one interface lists.
pub const MAX_ADDRESSES: usize = 16;
/// The longest text field, in bytes.
pub const MAX_TEXT_BYTES: usize = 256;

/// The controller's requests. (v10)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum ControllerToAgent {
    /// Collect and send a report now.
    Refresh {},
}

/// The agent's answers. (v10)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentToController {
    /// The computer as it is now.
    Report(Box<SystemReport>),
    /// No report could be collected, and why.
    Failed { reason: String },
}

/// The computer as it was at `collected_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SystemReport {
    /// When it was collected (Unix ms, the agent's clock).
    pub collected_at: i64,
    pub host_name: String,
    /// The operating system's name and version ("Debian GNU/Linux 12").
    pub os: String,
    pub kernel: String,
    pub architecture: String,
    pub uptime_secs: u64,
    pub cpu: CpuInfo,
    pub memory: MemoryInfo,
    pub disks: Vec<DiskInfo>,
    pub networks: Vec<NetworkInfo>,
    pub users: Vec<LoggedInUser>,
    /// The processes using the most processor time, busiest first.
    pub top_cpu: Vec<ProcessInfo>,
    /// The processes using the most memory, largest first.
    pub top_memory: Vec<ProcessInfo>,
}

/// The processor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CpuInfo {
    pub brand: String,
    /// Logical cores.
    pub cores: u32,
    /// Use across all cores, 0–100.
    pub usage_percent: f32,
}

/// Memory and swap, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MemoryInfo {
    pub total: u64,
    pub used: u64,
    pub swap_total: u64,
    pub swap_used: u64,
}

/// One mounted disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskInfo {
    pub mount_point: String,
    pub file_system: String,
    pub total_bytes: u64,
    pub available_bytes: u64,
}

/// One network interface and its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkInfo {
    pub name: String,
    pub mac: String,
    /// Addresses with their prefix ("192.0.2.7/24", "fe80::1/64").
    pub addresses: Vec<String>,
}

/// One login (a terminal or a graphical session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggedInUser {
    pub name: String,
    /// Where: a terminal line or a display.
    pub line: String,
    /// The remote host they came from, empty when local.
    pub host: String,
    /// When they logged in (Unix seconds).
    pub since: i64,
}

/// One process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessInfo {
    pub pid: u32,
    pub name: String,
    /// Its owner's name, empty when unknown.
    pub user: String,
    /// Processor use, in percent of one core.
    pub cpu_percent: f32,
    pub memory_bytes: u64,
}

/// Decodes a request from the controller (run by the agent).
pub fn decode_from_controller(bytes: &[u8]) -> Result<ControllerToAgent, ToolRejected> {
    decode(bytes, 1024)
}

/// Decodes an answer from the agent (run by the controller), checking
/// every cap.
pub fn decode_from_agent(bytes: &[u8]) -> Result<AgentToController, ToolRejected> {
    let message: AgentToController = decode(bytes, MAX_SYSTEM_MESSAGE_BYTES)?;
    match &message {
        AgentToController::Report(report) => check_report(report)?,
        AgentToController::Failed { reason } => at_most("reason", reason.len(), 1_000)?,
    }
    Ok(message)
}

fn check_report(report: &SystemReport) -> Result<(), ToolRejected> {
    for (field, text) in [
        ("host_name", &report.host_name),
        ("os", &report.os),
        ("kernel", &report.kernel),
        ("architecture", &report.architecture),
        ("cpu.brand", &report.cpu.brand),
    ] {
        at_most(field, text.len(), MAX_TEXT_BYTES)?;
    }
    at_most("disks", report.disks.len(), MAX_LISTED)?;
    at_most("networks", report.networks.len(), MAX_LISTED)?;
    at_most("users", report.users.len(), MAX_LISTED)?;
    at_most("top_cpu", report.top_cpu.len(), TOP_PROCESSES)?;
    at_most("top_memory", report.top_memory.len(), TOP_PROCESSES)?;
    let texts = report
        .disks
        .iter()
        .flat_map(|disk| [&disk.mount_point, &disk.file_system])
        .chain(
            report.networks.iter().flat_map(|net| std::iter::once(&net.name).chain([&net.mac]).chain(&net.addresses)),
        )
        .chain(report.users.iter().flat_map(|user| [&user.name, &user.line, &user.host]))
        .chain(report.top_cpu.iter().chain(&report.top_memory).flat_map(|process| [&process.name, &process.user]));
    for text in texts {
        at_most("text", text.len(), MAX_TEXT_BYTES)?;
    }
    for net in &report.networks {
        at_most("addresses", net.addresses.len(), MAX_ADDRESSES)?;
    }
    Ok(())
}

/// `text` cut to at most [`MAX_TEXT_BYTES`] at a character boundary — what
/// the agent does to every string it puts in a report.
pub fn capped(text: &str) -> String {
    let mut end = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tool_message::encode;

    fn report() -> SystemReport {
        SystemReport {
            collected_at: 1_700_000_000_000,
            host_name: "desk-7".into(),
            os: "Debian GNU/Linux 12".into(),
            kernel: "6.1.0".into(),
            architecture: "x86_64".into(),
            uptime_secs: 3_600,
            cpu: CpuInfo { brand: "Example CPU".into(), cores: 2, usage_percent: 12.5 },
            memory: MemoryInfo { total: 8 << 30, used: 2 << 30, swap_total: 0, swap_used: 0 },
            disks: vec![DiskInfo {
                mount_point: "/".into(),
                file_system: "ext4".into(),
                total_bytes: 100 << 30,
                available_bytes: 40 << 30,
            }],
            networks: vec![NetworkInfo {
                name: "eth0".into(),
                mac: "02:00:00:00:00:01".into(),
                addresses: vec!["192.0.2.7/24".into()],
            }],
            users: vec![LoggedInUser {
                name: "ada".into(),
                line: ":0".into(),
                host: String::new(),
                since: 1_700_000_000,
            }],
            top_cpu: vec![ProcessInfo {
                pid: 42,
                name: "tether-agent".into(),
                user: "ada".into(),
                cpu_percent: 3.0,
                memory_bytes: 50 << 20,
            }],
            top_memory: vec![],
        }
    }

    #[test]
    fn a_report_and_a_failure_round_trip() {
        for message in
            [AgentToController::Report(Box::new(report())), AgentToController::Failed { reason: "no".into() }]
        {
            assert_eq!(decode_from_agent(encode(&message).as_bytes()), Ok(message));
        }
        let refresh = encode(&ControllerToAgent::Refresh {});
        assert_eq!(refresh, r#"{"t":"refresh"}"#);
        assert_eq!(decode_from_controller(refresh.as_bytes()), Ok(ControllerToAgent::Refresh {}));
        assert!(decode_from_controller(br#"{"t":"refresh","now":1}"#).is_err(), "extra fields are refused");
    }

    #[test]
    fn every_cap_is_checked() {
        let mut long_name = report();
        long_name.top_cpu[0].name = "p".repeat(MAX_TEXT_BYTES + 1);
        let mut many = report();
        many.top_memory = vec![many.top_cpu[0].clone(); TOP_PROCESSES + 1];
        let mut addresses = report();
        addresses.networks[0].addresses = vec!["::1/128".into(); MAX_ADDRESSES + 1];
        for (bad, field) in [(long_name, "text"), (many, "top_memory"), (addresses, "addresses")] {
            let bytes = encode(&AgentToController::Report(Box::new(bad)));
            assert_eq!(decode_from_agent(bytes.as_bytes()), Err(ToolRejected::OverLimit { field }));
        }
    }

    #[test]
    fn capped_text_ends_on_a_character() {
        let text = "é".repeat(MAX_TEXT_BYTES);
        let cut = capped(&text);
        assert!(cut.len() <= MAX_TEXT_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(capped("short"), "short");
    }
}
