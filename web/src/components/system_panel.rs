//! The system tool beside the remote screen: the computer's operating
//! system, processor, memory, disks, network interfaces, uptime, logins and
//! busiest processes, as last collected, refreshed on request.

use crate::controller::tools::ToolStatus;
use crate::time::local_date_time;
use leptos::prelude::*;
use tether_shared::files::human_size;
use tether_shared::system_info::{ProcessInfo, SystemReport};

/// The system information panel.
#[component]
pub fn SystemPanel(
    /// The latest request's status.
    status: RwSignal<ToolStatus>,
    /// The report, as last received.
    report: RwSignal<Option<SystemReport>>,
    /// Whether the session is live.
    #[prop(into)]
    live: Signal<bool>,
    /// Asks for a fresh report.
    on_refresh: Callback<()>,
) -> impl IntoView {
    let busy = move || status.with(|status| *status == ToolStatus::Waiting) || !live.get();
    view! {
        <section class="tool-panel" data-testid="system-panel" data-status=move || status.with(ToolStatus::key)>
            <h3 class="tool-title">"System information"</h3>
            <div class="tool-actions">
                <button type="button" class="button button-secondary" data-testid="system-refresh" disabled=busy
                    on:click=move |_| on_refresh.run(())>
                    {move || if report.with(Option::is_some) { "Refresh" } else { "Read system information" }}
                </button>
            </div>
            <p class="small muted" data-testid="system-status" aria-live="polite">
                {move || match status.get() {
                    ToolStatus::Waiting => "Waiting for the computer (the person may be asked)…".to_owned(),
                    other => other.text().unwrap_or_default().to_owned(),
                }}
            </p>
            {move || report.get().map(|report| view! { <Report report=report /> })}
        </section>
    }
}

#[component]
fn Report(report: SystemReport) -> impl IntoView {
    let memory = report.memory;
    view! {
        <dl class="system-facts" data-testid="system-report">
            <dt>"Collected"</dt><dd>{local_date_time(report.collected_at)}</dd>
            <dt>"Computer"</dt><dd data-testid="system-host">{report.host_name.clone()}</dd>
            <dt>"System"</dt><dd data-testid="system-os">{report.os.clone()}</dd>
            <dt>"Kernel"</dt><dd>{format!("{} ({})", report.kernel, report.architecture)}</dd>
            <dt>"Up for"</dt><dd data-testid="system-uptime">{uptime(report.uptime_secs)}</dd>
            <dt>"Processor"</dt>
            <dd data-testid="system-cpu">{format!("{}, {} cores, {:.0}% busy", report.cpu.brand, report.cpu.cores, report.cpu.usage_percent)}</dd>
            <dt>"Memory"</dt>
            <dd data-testid="system-memory">{format!("{} of {} used", human_size(memory.used), human_size(memory.total))}</dd>
            <dt>"Swap"</dt><dd>{format!("{} of {} used", human_size(memory.swap_used), human_size(memory.swap_total))}</dd>
        </dl>
        <h4 class="tool-subtitle">"Disks"</h4>
        <ul class="system-list" data-testid="system-disks">
            {report.disks.into_iter().map(|disk| view! {
                <li>{format!("{} ({}): {} free of {}", disk.mount_point, disk.file_system,
                    human_size(disk.available_bytes), human_size(disk.total_bytes))}</li>
            }).collect_view()}
        </ul>
        <h4 class="tool-subtitle">"Network"</h4>
        <ul class="system-list" data-testid="system-networks">
            {report.networks.into_iter().map(|net| {
                let name = net.name.clone();
                view! {
                    <li data-testid="system-network" data-name=name>
                        <strong>{net.name}</strong> " " <span class="muted">{net.mac}</span> " " {net.addresses.join(", ")}
                    </li>
                }
            }).collect_view()}
        </ul>
        <h4 class="tool-subtitle">"Logged in"</h4>
        <ul class="system-list" data-testid="system-users">
            {if report.users.is_empty() {
                view! { <li class="muted">"No login records on this computer."</li> }.into_any()
            } else {
                report.users.into_iter().map(|user| {
                    let from = if user.host.is_empty() { String::new() } else { format!(" from {}", user.host) };
                    view! { <li>{format!("{} on {}{from}, since {}", user.name, user.line, local_date_time(user.since.saturating_mul(1000)))}</li> }
                }).collect_view().into_any()
            }}
        </ul>
        <h4 class="tool-subtitle">"Busiest processes"</h4>
        <Processes testid="system-top-cpu" processes=report.top_cpu />
        <h4 class="tool-subtitle">"Largest processes"</h4>
        <Processes testid="system-top-memory" processes=report.top_memory />
    }
}

#[component]
fn Processes(testid: &'static str, processes: Vec<ProcessInfo>) -> impl IntoView {
    view! {
        <table class="system-processes" data-testid=testid>
            <thead><tr><th>"PID"</th><th>"Name"</th><th>"User"</th><th>"CPU"</th><th>"Memory"</th></tr></thead>
            <tbody>
                {processes.into_iter().map(|process| view! {
                    <tr data-testid="system-process">
                        <td>{process.pid}</td><td>{process.name}</td><td>{process.user}</td>
                        <td>{format!("{:.1}%", process.cpu_percent)}</td><td>{human_size(process.memory_bytes)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// "3 d 4 h", "2 h 5 min", "42 min".
fn uptime(secs: u64) -> String {
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, _) => format!("{hours} h {minutes} min"),
        _ => format!("{days} d {hours} h"),
    }
}
