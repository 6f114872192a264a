//! A session list kept fresh while a page shows it: fetched at once and
//! every few seconds, one request at a time, the last good list kept
//! through a failed refresh; and a clock ticking each second so live
//! sessions' durations move.

use crate::api::ApiFailure;
use crate::session::Session;
use crate::time::now_ms;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use tether_shared::api::SessionSummary;

/// How often the list is fetched again.
const REFRESH_EVERY: Duration = Duration::from_secs(3);
/// How often the clock for live durations ticks.
const TICK_EVERY: Duration = Duration::from_secs(1);

/// The list and its clock, for the component that started it.
#[derive(Clone, Copy)]
pub struct SessionsFeed {
    /// `None` until the first answer; then the last good list, or the
    /// first failure while there was none.
    pub fetched: RwSignal<Option<Result<Vec<SessionSummary>, ApiFailure>>>,
    /// Why the latest refresh failed while an earlier list stays shown.
    pub refresh_error: RwSignal<Option<String>>,
    /// The browser's clock, Unix milliseconds, moved every second.
    pub now: RwSignal<i64>,
    live_only: bool,
    loading: RwSignal<bool>,
    session: Session,
}

impl SessionsFeed {
    /// Starts fetching (`live_only`: only sessions that have not ended)
    /// for as long as the calling component lives.
    pub fn start(live_only: bool) -> Self {
        let feed = Self {
            fetched: RwSignal::new(None),
            refresh_error: RwSignal::new(None),
            now: RwSignal::new(now_ms()),
            live_only,
            loading: RwSignal::new(false),
            session: Session::use_context(),
        };
        feed.reload();
        crate::poll::every(REFRESH_EVERY, move || feed.reload());
        crate::poll::every(TICK_EVERY, move || feed.now.set(now_ms()));
        feed
    }

    /// Fetches the list now, unless a fetch is already out.
    pub fn reload(self) {
        if self.loading.get_untracked() {
            return;
        }
        self.loading.set(true);
        let (session, live_only) = (self.session, self.live_only);
        spawn_local(async move {
            let result = session.call(|api| async move { api.list_sessions(live_only).await }).await;
            self.loading.set(false);
            self.now.set(now_ms());
            match result {
                Ok(list) => {
                    self.refresh_error.set(None);
                    self.fetched.set(Some(Ok(list)));
                }
                Err(failure) if matches!(self.fetched.get_untracked(), Some(Ok(_))) => {
                    self.refresh_error.set(Some(format!("Could not refresh the list: {}", failure.message())));
                }
                Err(failure) => self.fetched.set(Some(Err(failure))),
            }
        });
    }
}
