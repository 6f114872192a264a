//! The `system` data channel, agent side: on each request from the
//! controller, the computer as it is now (`tether_shared::system_info`),
//! collected with the `sysinfo` crate and the login records (utmp), off the
//! async threads.

use super::channels::next_message;
use std::cmp::Ordering;
use std::sync::Arc;
use sysinfo::{Disks, Networks, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind, Users};
use tether_shared::system_info::{
    AgentToController, ControllerToAgent, CpuInfo, DiskInfo, LoggedInUser, MAX_ADDRESSES, MAX_LISTED, MemoryInfo,
    NetworkInfo, ProcessInfo, SystemReport, TOP_PROCESSES, capped, decode_from_controller,
};
use tether_shared::tool_message::encode;
use webrtc::data_channel::DataChannel;

/// Where the login records are on Linux.
const UTMP_PATH: &str = "/var/run/utmp";

/// Serves the system channel until it closes; `on_read` hears of every
/// report sent, for the audit log.
pub async fn serve(channel: Arc<dyn DataChannel>, on_read: impl Fn()) {
    let mut collector = Some(Collector::default());
    while let Some(message) = next_message(&channel).await {
        let answer = match decode_from_controller(&message.data) {
            Ok(ControllerToAgent::Refresh {}) => {
                let mut taken = collector.take().unwrap_or_default();
                match tokio::task::spawn_blocking(move || {
                    let report = taken.collect();
                    (taken, report)
                })
                .await
                {
                    Ok((kept, report)) => {
                        collector = Some(kept);
                        on_read();
                        AgentToController::Report(Box::new(report))
                    }
                    Err(err) => AgentToController::Failed { reason: format!("collecting failed: {err}") },
                }
            }
            Err(reason) => {
                tracing::warn!(%reason, "dropping a system message");
                AgentToController::Failed { reason: reason.to_string() }
            }
        };
        if let Err(err) = channel.send_text(&encode(&answer)).await {
            tracing::debug!(error = %err, "the system channel is closing");
            break;
        }
    }
}

/// What is kept between reports: processor use is measured between two
/// refreshes, so the second report onwards measures since the last one.
#[derive(Default)]
struct Collector {
    system: Option<System>,
}

impl Collector {
    fn collect(&mut self) -> SystemReport {
        let processes = ProcessRefreshKind::nothing().with_cpu().with_memory().with_user(UpdateKind::OnlyIfNotSet);
        let system = self.system.get_or_insert_with(|| {
            // The first report needs a measuring interval of its own.
            let mut system = System::new();
            system.refresh_cpu_usage();
            system.refresh_processes_specifics(ProcessesToUpdate::All, true, processes);
            std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
            system
        });
        system.refresh_cpu_all();
        system.refresh_memory();
        system.refresh_processes_specifics(ProcessesToUpdate::All, true, processes);
        let users = Users::new_with_refreshed_list();
        let cpu_brand = system.cpus().first().map(|cpu| cpu.brand().trim().to_owned()).unwrap_or_default();
        SystemReport {
            collected_at: crate::trust::unix_millis(),
            host_name: capped(&System::host_name().unwrap_or_default()),
            os: capped(&System::long_os_version().or_else(System::name).unwrap_or_default()),
            kernel: capped(&System::kernel_version().unwrap_or_default()),
            architecture: capped(&System::cpu_arch()),
            uptime_secs: System::uptime(),
            cpu: CpuInfo {
                brand: capped(&cpu_brand),
                cores: u32::try_from(system.cpus().len()).unwrap_or(u32::MAX),
                usage_percent: finite(system.global_cpu_usage()),
            },
            memory: MemoryInfo {
                total: system.total_memory(),
                used: system.used_memory(),
                swap_total: system.total_swap(),
                swap_used: system.used_swap(),
            },
            disks: disks(),
            networks: networks(),
            users: logged_in(),
            top_cpu: top(system, &users, |a, b| b.cpu_percent.total_cmp(&a.cpu_percent)),
            top_memory: top(system, &users, |a, b| b.memory_bytes.cmp(&a.memory_bytes)),
        }
    }
}

fn disks() -> Vec<DiskInfo> {
    Disks::new_with_refreshed_list()
        .iter()
        .take(MAX_LISTED)
        .map(|disk| DiskInfo {
            mount_point: capped(&disk.mount_point().to_string_lossy()),
            file_system: capped(&disk.file_system().to_string_lossy()),
            total_bytes: disk.total_space(),
            available_bytes: disk.available_space(),
        })
        .collect()
}

fn networks() -> Vec<NetworkInfo> {
    let networks = Networks::new_with_refreshed_list();
    let mut list: Vec<NetworkInfo> = networks
        .iter()
        .take(MAX_LISTED)
        .map(|(name, data)| NetworkInfo {
            name: capped(name),
            mac: data.mac_address().to_string(),
            addresses: data
                .ip_networks()
                .iter()
                .take(MAX_ADDRESSES)
                .map(|network| format!("{}/{}", network.addr, network.prefix))
                .collect(),
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

/// Who is logged in, from the login records; none where the system keeps
/// none (a container, a minimal install).
fn logged_in() -> Vec<LoggedInUser> {
    let entries = match utmp_rs::parse_from_path(UTMP_PATH) {
        Ok(entries) => entries,
        Err(err) => {
            tracing::debug!(error = %err, "no login records");
            return Vec::new();
        }
    };
    entries
        .into_iter()
        .filter_map(|entry| match entry {
            utmp_rs::UtmpEntry::UserProcess { line, user, host, time, .. } => Some(LoggedInUser {
                name: capped(&user),
                line: capped(&line),
                host: capped(&host),
                since: time.unix_timestamp(),
            }),
            _ => None,
        })
        .take(MAX_LISTED)
        .collect()
}

fn top(system: &System, users: &Users, order: impl Fn(&ProcessInfo, &ProcessInfo) -> Ordering) -> Vec<ProcessInfo> {
    let mut processes: Vec<ProcessInfo> = system
        .processes()
        .values()
        // Threads are listed as processes on Linux: count each process once.
        .filter(|process| process.thread_kind().is_none())
        .map(|process| ProcessInfo {
            pid: process.pid().as_u32(),
            name: capped(&process.name().to_string_lossy()),
            user: process
                .user_id()
                .and_then(|uid| users.get_user_by_id(uid))
                .map(|user| capped(user.name()))
                .unwrap_or_default(),
            cpu_percent: finite(process.cpu_usage()),
            memory_bytes: process.memory(),
        })
        .collect();
    processes.sort_by(|a, b| order(a, b).then(a.pid.cmp(&b.pid)));
    processes.truncate(TOP_PROCESSES);
    processes
}

/// JSON has no NaN or infinity: a measurement that is not a number is 0.
fn finite(value: f32) -> f32 {
    if value.is_finite() { value } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_shared::system_info::decode_from_agent;

    #[test]
    fn a_report_of_this_machine_passes_the_controllers_checks() {
        let report = Collector::default().collect();
        assert!(!report.os.is_empty() && report.cpu.cores > 0 && report.memory.total > 0, "{report:?}");
        assert!(report.top_cpu.len() <= TOP_PROCESSES && !report.top_memory.is_empty());
        assert!(report.top_memory.windows(2).all(|pair| pair[0].memory_bytes >= pair[1].memory_bytes));
        assert!(report.networks.iter().any(|net| net.name == "lo"), "{:?}", report.networks);
        let message = AgentToController::Report(Box::new(report));
        assert_eq!(decode_from_agent(encode(&message).as_bytes()), Ok(message));
    }
}
