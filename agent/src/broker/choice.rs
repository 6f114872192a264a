//! Which broker to use: among those that answered their probe, the least
//! loaded, ties broken by the shorter round trip. Pure; the probing is in
//! [`super::probe`].

use std::time::Duration;
use tether_shared::broker::BrokerView;

/// Picks from `probed` (each broker with its probe's round trip, `None` when
/// it did not answer); `None` when no broker answered.
pub fn choose<'a>(probed: &[(&'a BrokerView, Option<Duration>)]) -> Option<&'a BrokerView> {
    probed
        .iter()
        .filter_map(|(broker, rtt)| rtt.map(|rtt| (*broker, rtt)))
        .min_by_key(|(broker, rtt)| (broker.active_sessions, *rtt))
        .map(|(broker, _)| broker)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker(id: &str, active_sessions: u32) -> BrokerView {
        BrokerView {
            id: id.into(),
            urls: vec![format!("turn:{id}.example:3478?transport=udp")],
            address: format!("{id}.example:3478"),
            active_sessions,
            built_in: false,
        }
    }

    fn ms(value: u64) -> Option<Duration> {
        Some(Duration::from_millis(value))
    }

    #[test]
    fn least_loaded_reachable_broker_wins_and_rtt_breaks_ties() {
        let (a, b, c) = (broker("a", 3), broker("b", 1), broker("c", 1));
        assert_eq!(choose(&[(&a, ms(5)), (&b, ms(40)), (&c, ms(20))]).map(|b| b.id.as_str()), Some("c"));
        // The least loaded one is unreachable: the next one.
        assert_eq!(choose(&[(&a, ms(5)), (&b, None), (&c, None)]).map(|b| b.id.as_str()), Some("a"));
    }

    #[test]
    fn nothing_reachable_means_no_choice() {
        let a = broker("a", 0);
        assert_eq!(choose(&[(&a, None)]), None);
        assert_eq!(choose(&[]), None);
    }
}
