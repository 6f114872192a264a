//! The stats overlay on the remote screen: frame rate, bitrate, round
//! trip, decode time, frames decoded and the ICE path.

use crate::controller::stats::{StatsView, format_bitrate, format_fps, format_ms};
use leptos::prelude::*;

/// A figure, or a dash while it is unknown.
fn or_dash(value: Option<String>) -> String {
    value.unwrap_or_else(|| "—".to_owned())
}

/// The latest [`StatsView`], refreshed once a second.
#[component]
pub fn StatsOverlay(
    /// The latest stats.
    #[prop(into)]
    stats: Signal<Option<StatsView>>,
) -> impl IntoView {
    let figure = move |f: fn(&StatsView) -> Option<String>| move || or_dash(stats.with(|s| s.as_ref().and_then(f)));
    view! {
        <aside class="stats-overlay" data-testid="stats-overlay" aria-label="Connection statistics">
            <dl>
                <dt>"Frame rate"</dt>
                <dd data-testid="stats-fps">{figure(|s| s.fps.map(format_fps))}</dd>
                <dt>"Bitrate"</dt>
                <dd data-testid="stats-bitrate">{figure(|s| s.bitrate_bps.map(format_bitrate))}</dd>
                <dt>"Round trip"</dt>
                <dd data-testid="stats-rtt">{figure(|s| s.round_trip_ms.map(format_ms))}</dd>
                <dt>"Decode / frame"</dt>
                <dd data-testid="stats-decode">{figure(|s| s.decode_ms.map(format_ms))}</dd>
                <dt>"Frames decoded"</dt>
                <dd data-testid="frames-decoded">{move || stats.with(|s| s.as_ref().map_or(0, |s| s.frames_decoded))}</dd>
                <dt>"Picture"</dt>
                <dd data-testid="stats-picture">
                    {figure(|s| {
                        let size = s.frame_size.map(|(w, h)| format!("{w}×{h}"));
                        match (size, &s.codec) {
                            (Some(size), Some(codec)) => Some(format!("{size} {codec}")),
                            (size, codec) => size.or_else(|| codec.clone()),
                        }
                    })}
                </dd>
                <dt>"Packets lost"</dt>
                <dd data-testid="stats-lost">{figure(|s| s.packets_lost.map(|n| n.to_string()))}</dd>
                <dt>"ICE path"</dt>
                <dd data-testid="stats-path">{figure(|s| s.path.as_ref().map(|p| p.describe()))}</dd>
            </dl>
        </aside>
    }
}
