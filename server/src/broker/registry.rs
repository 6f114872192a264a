//! The broker list: built-in brokers (the embedded relay, `--broker` flags)
//! and admin-added ones (the `brokers` table, cached here), which broker each
//! live session uses, and how many sessions each carries.
//!
//! Choice: a session keeps the broker it was first given, so both of its ends
//! always get the same one; an explicit choice (the agent's, at redemption)
//! wins and re-assigns; with no choice the least-loaded broker is taken
//! (ties go to the first listed: built-ins, then admin-added in order of
//! creation). Assignments live in memory, like the relay's routes: sessions
//! do not survive a restart ([`crate::sessions::end_interrupted`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tether_shared::broker::BrokerView;
use tether_shared::signal::IceServer;

use super::{Broker, CredentialError, MAX_LIFETIME, TurnSecret};

/// Why a session could not be given a broker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// The named broker is not in the list (maybe removed meanwhile).
    #[error("no broker named {0:?}")]
    Unknown(String),
    /// A credential could not be issued (bad session id or clock).
    #[error("cannot issue a TURN credential: {0}")]
    Credential(#[from] CredentialError),
}

/// One broker as configured: its stable id and TURN URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerSpec {
    pub id: String,
    pub urls: Vec<String>,
}

/// How the registry issues credentials, and its built-in brokers.
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    /// Shared with every broker (coturn's `static-auth-secret`).
    pub secret: TurnSecret,
    /// How long an issued credential lives (at most 10 minutes).
    pub lifetime: Duration,
    /// The embedded relay and `--broker` flags, in that order.
    pub built_in: Vec<BrokerSpec>,
}

impl BrokerSettings {
    /// No built-in brokers and a fresh random secret: what tests and
    /// servers without relays start from.
    pub fn ephemeral() -> Result<Self, CredentialError> {
        Ok(Self { secret: TurnSecret::generate()?, lifetime: MAX_LIFETIME, built_in: Vec::new() })
    }
}

/// Cheap-to-clone handle over the broker list.
#[derive(Debug, Clone)]
pub struct Brokers {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: BrokerSettings,
    built_in: Vec<Entry>,
    /// Admin-added brokers. A std lock: held only to copy or swap the list,
    /// never across an await.
    added: RwLock<Vec<Entry>>,
    /// Live session id → broker id.
    assignments: Mutex<HashMap<String, String>>,
}

#[derive(Debug, Clone)]
struct Entry {
    id: String,
    broker: Broker,
    built_in: bool,
}

impl Brokers {
    /// The registry with `settings`' built-ins and the admin-added `added`;
    /// an added broker named like a built-in one is shadowed by it.
    pub fn new(settings: BrokerSettings, added: Vec<BrokerSpec>) -> Result<Self, CredentialError> {
        let built_in = entries(&settings, settings.built_in.clone(), true)?;
        let (shadowed, added): (Vec<_>, Vec<_>) =
            added.into_iter().partition(|spec| built_in.iter().any(|entry| entry.id == spec.id));
        for spec in shadowed {
            tracing::warn!(broker = %spec.id, "a configured broker has the name of one added by an admin; using the configured one");
        }
        let added = entries(&settings, added, false)?;
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                built_in,
                added: RwLock::new(added),
                assignments: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// A new registry with other settings, keeping the admin-added brokers
    /// (assignments start empty: call before serving).
    pub fn reconfigured(&self, settings: BrokerSettings) -> Result<Self, CredentialError> {
        let added = self.read_added().iter().map(|entry| entry.spec()).collect();
        Self::new(settings, added)
    }

    /// The shared TURN REST secret.
    pub fn secret(&self) -> &TurnSecret {
        &self.inner.settings.secret
    }

    /// The credential lifetime.
    pub fn lifetime(&self) -> Duration {
        self.inner.settings.lifetime
    }

    /// Whether `id` names a built-in broker.
    pub fn is_built_in(&self, id: &str) -> bool {
        self.inner.built_in.iter().any(|entry| entry.id == id)
    }

    /// Whether `id` names any broker.
    pub fn contains(&self, id: &str) -> bool {
        self.all().iter().any(|entry| entry.id == id)
    }

    /// Adds an admin-created broker (after it was stored).
    pub fn add(&self, spec: BrokerSpec) -> Result<(), CredentialError> {
        let entry = entries(&self.inner.settings, vec![spec], false)?;
        self.inner.added.write().unwrap_or_else(PoisonError::into_inner).extend(entry);
        Ok(())
    }

    /// Removes an admin-created broker (after it was deleted from the
    /// store); its sessions keep their credentials until they end.
    pub fn remove(&self, id: &str) {
        self.inner.added.write().unwrap_or_else(PoisonError::into_inner).retain(|entry| entry.id != id);
    }

    /// Every broker with its live-session count, built-ins first.
    pub fn list(&self) -> Vec<BrokerView> {
        let counts = self.counts();
        self.all()
            .into_iter()
            .map(|entry| BrokerView {
                address: address_of(entry.broker.urls()),
                urls: entry.broker.urls().to_vec(),
                active_sessions: counts.get(&entry.id).copied().unwrap_or(0),
                built_in: entry.built_in,
                id: entry.id,
            })
            .collect()
    }

    /// The TURN server for session `session_id` with a fresh credential, and
    /// the broker's `host:port`; `None` when there are no brokers. See the
    /// module doc for how the broker is chosen.
    pub fn turn_for(&self, session_id: &str, choice: Option<&str>) -> Result<Option<(IceServer, String)>, BrokerError> {
        let all = self.all();
        let counts = self.counts();
        let mut assignments = self.inner.assignments.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = match choice {
            Some(id) => all.iter().find(|entry| entry.id == id).ok_or_else(|| BrokerError::Unknown(id.to_owned()))?,
            None => {
                let kept = assignments.get(session_id).and_then(|id| all.iter().find(|entry| &entry.id == id));
                match kept.or_else(|| least_loaded(&all, &counts)) {
                    Some(entry) => entry,
                    None => return Ok(None),
                }
            }
        };
        let server = entry.broker.ice_server(session_id, unix_now())?;
        assignments.insert(session_id.to_owned(), entry.id.clone());
        Ok(Some((server, address_of(entry.broker.urls()))))
    }

    /// `host:port` of the broker live session `session_id` uses, if any.
    pub fn address_for(&self, session_id: &str) -> Option<String> {
        let id = self.inner.assignments.lock().unwrap_or_else(PoisonError::into_inner).get(session_id).cloned()?;
        self.all().into_iter().find(|entry| entry.id == id).map(|entry| address_of(entry.broker.urls()))
    }

    /// Forgets `session_id`'s broker once the session ended.
    pub fn release(&self, session_id: &str) {
        self.inner.assignments.lock().unwrap_or_else(PoisonError::into_inner).remove(session_id);
    }

    fn read_added(&self) -> Vec<Entry> {
        self.inner.added.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn all(&self) -> Vec<Entry> {
        let mut all = self.inner.built_in.clone();
        all.extend(self.read_added());
        all
    }

    fn counts(&self) -> HashMap<String, u32> {
        let assignments = self.inner.assignments.lock().unwrap_or_else(PoisonError::into_inner);
        let mut counts = HashMap::new();
        for id in assignments.values() {
            *counts.entry(id.clone()).or_insert(0_u32) += 1;
        }
        counts
    }
}

impl Entry {
    fn spec(&self) -> BrokerSpec {
        BrokerSpec { id: self.id.clone(), urls: self.broker.urls().to_vec() }
    }
}

/// Longest broker id.
pub const MAX_ID_LEN: usize = 64;
/// Most URLs one broker may have.
pub const MAX_URLS: usize = 8;

/// Checks a broker id: 1–64 of `a-z0-9-`.
pub fn check_id(id: &str) -> Result<(), &'static str> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(()) } else { Err("a broker id is 1 to 64 of a-z, 0-9 and -") }
}

/// Checks a broker's URLs: one to eight `turn:`/`turns:` URLs.
pub fn check_urls(urls: &[String]) -> Result<(), crate::ice::IceConfigError> {
    if urls.is_empty() || urls.len() > MAX_URLS {
        return Err(crate::ice::IceConfigError::BadUrl {
            url: urls.join(","),
            problem: "a broker has one to eight URLs",
        });
    }
    urls.iter().try_for_each(|url| crate::ice::check_turn_url(url))
}

fn entries(settings: &BrokerSettings, specs: Vec<BrokerSpec>, built_in: bool) -> Result<Vec<Entry>, CredentialError> {
    specs
        .into_iter()
        .map(|spec| {
            let broker = Broker::new(spec.urls, settings.secret.clone(), settings.lifetime)?;
            Ok(Entry { id: spec.id, broker, built_in })
        })
        .collect()
}

fn least_loaded<'a>(all: &'a [Entry], counts: &HashMap<String, u32>) -> Option<&'a Entry> {
    // `min_by_key` keeps the first of equal minima: the first listed wins ties.
    all.iter().min_by_key(|entry| counts.get(&entry.id).copied().unwrap_or(0))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |now| now.as_secs())
}

/// `host:port` of a broker's first URL (`turn:host:port?transport=udp`), with
/// the scheme's default port (3478, or 5349 for `turns:`) when none is given.
pub fn address_of(urls: &[String]) -> String {
    let Some(url) = urls.first() else {
        return String::new();
    };
    let (scheme, rest) = url.split_once(':').unwrap_or(("turn", url));
    let host_port = rest.split('?').next().unwrap_or(rest);
    let has_port = match host_port.rsplit_once(']') {
        Some((_, after)) => after.starts_with(':'),
        None => host_port.contains(':'),
    };
    if has_port {
        host_port.to_owned()
    } else {
        let port = if scheme.eq_ignore_ascii_case("turns") { 5349 } else { 3478 };
        format!("{host_port}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, url: &str) -> BrokerSpec {
        BrokerSpec { id: id.into(), urls: vec![url.into()] }
    }

    fn registry() -> Brokers {
        let settings = BrokerSettings {
            secret: TurnSecret::new("tether-test-secret").expect("secret"),
            lifetime: Duration::from_secs(60),
            built_in: vec![spec("embedded", "turn:127.0.0.1:3478?transport=udp")],
        };
        Brokers::new(settings, vec![spec("coturn", "turns:relay.example.org")]).expect("registry")
    }

    #[test]
    fn addresses_default_the_port_by_scheme() {
        let urls = |url: &str| vec![url.to_owned()];
        assert_eq!(address_of(&urls("turn:127.0.0.1:3478?transport=udp")), "127.0.0.1:3478");
        assert_eq!(address_of(&urls("turns:relay.example.org")), "relay.example.org:5349");
        assert_eq!(address_of(&urls("turn:[::1]")), "[::1]:3478");
        assert_eq!(address_of(&urls("turn:[::1]:4000")), "[::1]:4000");
        assert_eq!(address_of(&[]), "");
    }

    #[test]
    fn sessions_keep_their_broker_and_spread_by_load() {
        let brokers = registry();
        let (first, address) = brokers.turn_for("s1", None).expect("issue").expect("a broker");
        assert_eq!(address, "127.0.0.1:3478");
        assert!(first.username.as_deref().is_some_and(|name| name.ends_with(":s1")));
        // The other end of s1 gets the same broker; s2 the less loaded one.
        assert_eq!(brokers.turn_for("s1", None).expect("issue").map(|(_, a)| a).as_deref(), Some("127.0.0.1:3478"));
        assert_eq!(
            brokers.turn_for("s2", None).expect("issue").map(|(_, a)| a).as_deref(),
            Some("relay.example.org:5349")
        );
        let counts: Vec<_> = brokers.list().iter().map(|view| (view.id.clone(), view.active_sessions)).collect();
        assert_eq!(counts, vec![("embedded".into(), 1), ("coturn".into(), 1)]);
        brokers.release("s1");
        brokers.release("s2");
        assert!(brokers.list().iter().all(|view| view.active_sessions == 0));
        assert_eq!(brokers.turn_for("s3", Some("nope")), Err(BrokerError::Unknown("nope".into())));
    }

    #[test]
    fn admin_brokers_come_and_go_and_survive_reconfiguration() {
        let brokers = registry();
        brokers.add(spec("extra", "turn:10.0.0.1")).expect("add");
        assert!(brokers.contains("extra") && !brokers.is_built_in("extra") && brokers.is_built_in("embedded"));
        let settings = BrokerSettings::ephemeral().expect("settings");
        let mut settings = settings;
        settings.built_in = vec![spec("extra", "turn:10.0.0.2")];
        let shadowing = brokers.reconfigured(settings.clone()).expect("reconfigure");
        let listed: Vec<_> = shadowing.list().into_iter().map(|view| (view.id, view.built_in)).collect();
        assert_eq!(listed, vec![("extra".into(), true), ("coturn".into(), false)]);
        settings.built_in.clear();
        let again = brokers.reconfigured(settings).expect("reconfigure");
        let ids: Vec<_> = again.list().into_iter().map(|view| view.id).collect();
        assert_eq!(ids, vec!["coturn", "extra"]);
        again.remove("extra");
        assert!(!again.contains("extra"));
        assert_eq!(
            again.turn_for("s1", None).expect("issue").map(|(_, a)| a).as_deref(),
            Some("relay.example.org:5349")
        );
    }
}
