//! Running a closure on a timer for as long as the calling component lives.

use leptos::prelude::*;
use std::time::Duration;

/// Calls `tick` every `period` until the current reactive owner is cleaned
/// up. If the browser refuses the timer, says so in the console (the page
/// then keeps what it loaded first).
pub fn every(period: Duration, tick: impl Fn() + 'static) {
    match set_interval_with_handle(tick, period) {
        Ok(interval) => on_cleanup(move || interval.clear()),
        Err(err) => leptos::logging::warn!("cannot start a timer: {err:?}"),
    }
}
