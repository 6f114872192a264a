//! TURN brokers with TURN REST credentials, on loopback: the embedded relay
//! and Debian's coturn each relay a datagram both ways for a valid
//! credential, refuse an expired one and a wrong password, and stop
//! accepting a credential once its lifetime is over. The client is the
//! `turn` crate's; over TCP, coturn's own `turnutils_uclient` against the
//! embedded relay. coturn is skipped with a notice when it is not installed,
//! unless `TETHER_TEST_REQUIRE_COTURN=1`.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tether_server::broker::{EmbeddedConfig, EmbeddedRelay, TurnCredential, TurnSecret};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout};
use turn::client::{Client, ClientConfig};
use webrtc_util::Conn;

const SECRET: &str = "turn-relay-test-secret";
const SESSION: &str = "0f9a2b64-3c1d-4e8f-a7b5-6d2c1e0f9a8b";
/// Longest any single exchange with a relay may take.
const STEP: Duration = Duration::from_secs(5);

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn secret() -> TurnSecret {
    TurnSecret::new(SECRET).unwrap()
}

/// A credential valid for `lifetime` from now.
fn credential(lifetime: Duration) -> TurnCredential {
    secret().issue(SESSION, now_unix(), lifetime).unwrap()
}

/// A credential that expired 100 s ago (issued 700 s ago for 600 s).
fn expired_credential() -> TurnCredential {
    secret().issue(SESSION, now_unix() - 700, Duration::from_secs(600)).unwrap()
}

async fn start_embedded(allow_loopback_peers: bool) -> EmbeddedRelay {
    EmbeddedRelay::start(EmbeddedConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        relay_ip: "127.0.0.1".parse().unwrap(),
        relay_ports: None,
        realm: "tether.test".into(),
        secret: secret(),
        allow_loopback_peers,
        tls: None,
    })
    .await
    .unwrap()
}

/// How a relay round trip went.
#[derive(Debug, PartialEq)]
enum Failure {
    /// The relay answered the allocation with an error (or not at all).
    Refused(String),
    /// Allocated, but a datagram did not arrive within the wait.
    Lost(&'static str),
}

/// Allocates a relay on `server` with `username`/`password` and sends one
/// datagram each way between the relayed address and a plain UDP peer,
/// waiting up to `wait` for each.
async fn relay_round_trip(server: SocketAddr, username: &str, password: &str, wait: Duration) -> Result<(), Failure> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let client = Client::new(ClientConfig {
        stun_serv_addr: server.to_string(),
        turn_serv_addr: server.to_string(),
        username: username.into(),
        password: password.into(),
        realm: String::new(),
        software: String::new(),
        rto_in_ms: 0,
        conn: Arc::new(socket),
        vnet: None,
    })
    .await
    .unwrap();
    client.listen().await.unwrap();
    let outcome = match timeout(STEP, client.allocate()).await {
        Ok(Ok(relay)) => {
            let outcome = exchange(&relay, wait).await;
            relay.close().await.unwrap();
            outcome
        }
        Ok(Err(err)) => Err(Failure::Refused(err.to_string())),
        Err(_) => Err(Failure::Refused("no answer to the allocation".into())),
    };
    client.close().await.unwrap();
    outcome
}

/// One datagram from the relayed address to a fresh peer and one back.
async fn exchange(relay: &impl Conn, wait: Duration) -> Result<(), Failure> {
    let relayed = relay.local_addr().unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let mut buf = [0_u8; 1500];

    relay.send_to(b"to the peer", peer_addr).await.unwrap();
    let (len, from) =
        timeout(wait, peer.recv_from(&mut buf)).await.map_err(|_| Failure::Lost("client to peer"))?.unwrap();
    assert_eq!((&buf[..len], from), (&b"to the peer"[..], relayed), "arrives from the relayed address");

    peer.send_to(b"to the client", relayed).await.unwrap();
    let (len, from) =
        timeout(wait, relay.recv_from(&mut buf)).await.map_err(|_| Failure::Lost("peer to client"))?.unwrap();
    assert_eq!((&buf[..len], from), (&b"to the client"[..], peer_addr));
    Ok(())
}

/// Asserts that the relay answered, and not with an allocation: an error
/// response, or (when a credential expires between the challenge and the
/// authenticated retry) a challenge the client cannot use — its "attribute
/// not found". Silence is not a refusal.
fn assert_refused(outcome: Result<(), Failure>) {
    match outcome {
        Err(Failure::Refused(text)) if text.contains("error") || text.contains("attribute not found") => {
            eprintln!("refused as expected: {text}");
        }
        other => panic!("expected an error response from the relay, got {other:?}"),
    }
}

/// Tries a credential until the relay refuses it, within `deadline`.
/// Returns how long after the credential's expiry the refusal came.
async fn wait_for_refusal(server: SocketAddr, credential: &TurnCredential, deadline: Duration) -> Duration {
    let give_up = Instant::now() + deadline;
    loop {
        match relay_round_trip(server, &credential.username, &credential.password, STEP).await {
            Ok(()) => {
                assert!(Instant::now() < give_up, "the credential still worked {deadline:?} later");
                // Poll again shortly; the condition waited for is the refusal.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            refused => {
                assert_refused(refused);
                let expired = UNIX_EPOCH + Duration::from_secs(credential.expires_at);
                return SystemTime::now().duration_since(expired).unwrap_or_default();
            }
        }
    }
}

#[tokio::test]
async fn embedded_relay_relays_for_a_valid_credential() {
    let relay = start_embedded(true).await;
    let valid = credential(Duration::from_secs(600));
    assert_eq!(relay_round_trip(relay.local_addr(), &valid.username, &valid.password, STEP).await, Ok(()));
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn embedded_relay_refuses_expired_and_wrong_credentials() {
    let relay = start_embedded(true).await;
    let addr = relay.local_addr();
    let expired = expired_credential();
    assert_refused(relay_round_trip(addr, &expired.username, &expired.password, STEP).await);
    let valid = credential(Duration::from_secs(600));
    let wrong = TurnSecret::new("some-other-secret-entirely").unwrap().password(&valid.username);
    assert_refused(relay_round_trip(addr, &valid.username, &wrong, STEP).await);
    assert_refused(relay_round_trip(addr, "alice", &valid.password, STEP).await);
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn embedded_relay_credential_stops_working_after_its_lifetime() {
    let relay = start_embedded(true).await;
    let short = credential(Duration::from_secs(2));
    let late = wait_for_refusal(relay.local_addr(), &short, Duration::from_secs(10)).await;
    assert!(late < Duration::from_secs(2), "refused {late:?} after expiry");
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn embedded_relay_drops_loopback_peers_unless_allowed() {
    let relay = start_embedded(false).await;
    let valid = credential(Duration::from_secs(600));
    // A negative: nothing may arrive within a second.
    let outcome = relay_round_trip(relay.local_addr(), &valid.username, &valid.password, Duration::from_secs(1)).await;
    assert_eq!(outcome, Err(Failure::Lost("client to peer")));
    relay.stop().await.unwrap();
}

#[tokio::test]
async fn embedded_relay_stops_and_frees_its_port() {
    let relay = start_embedded(true).await;
    let addr = relay.local_addr();
    relay.stop().await.unwrap();
    let give_up = Instant::now() + STEP;
    while let Err(err) = std::net::UdpSocket::bind(addr) {
        assert!(Instant::now() < give_up, "port {addr} still held after stop: {err}");
        tokio::task::yield_now().await;
    }
}

/// Debian's coturn on loopback with a generated configuration, stopped by
/// PID when dropped.
struct Coturn {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

impl Coturn {
    /// Starts coturn, or returns None (after a notice) when it is missing
    /// and not required.
    async fn start() -> Option<Coturn> {
        let binary =
            ["/usr/bin/turnserver", "/usr/local/bin/turnserver"].into_iter().map(Path::new).find(|p| p.exists());
        let Some(binary) = binary else {
            assert!(
                std::env::var("TETHER_TEST_REQUIRE_COTURN").as_deref() != Ok("1"),
                "coturn (turnserver) is not installed but TETHER_TEST_REQUIRE_COTURN=1; install Debian's coturn"
            );
            eprintln!("NOTICE: coturn (turnserver) is not installed; skipping the coturn broker test");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("tether-coturn-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let min_port = 20_000 + (port % 20_000);
        let mut config = String::new();
        for line in [
            "listening-ip=127.0.0.1".to_owned(),
            "relay-ip=127.0.0.1".to_owned(),
            format!("listening-port={port}"),
            format!("min-port={min_port}"),
            format!("max-port={}", min_port + 200),
            "use-auth-secret".to_owned(),
            format!("static-auth-secret={SECRET}"),
            "realm=tether.test".to_owned(),
            "allow-loopback-peers".to_owned(),
            "no-cli".to_owned(),
            "no-tls".to_owned(),
            "no-dtls".to_owned(),
            "no-tcp-relay".to_owned(),
            "fingerprint".to_owned(),
            "simple-log".to_owned(),
            format!("userdb={}", dir.join("turndb").display()),
            format!("pidfile={}", dir.join("turnserver.pid").display()),
            format!("log-file={}", dir.join("turnserver.log").display()),
        ] {
            writeln!(config, "{line}").unwrap();
        }
        let conf = dir.join("turnserver.conf");
        std::fs::write(&conf, config).unwrap();
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let coturn = Coturn { child, dir, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        coturn.wait_until_answering().await;
        Some(coturn)
    }

    /// Sends STUN binding requests until one is answered (30 s deadline: coturn
    /// starts slowly while the whole suite runs on two cores).
    async fn wait_until_answering(&self) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut request = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
        request.extend_from_slice(b"tether-probe");
        let give_up = Instant::now() + Duration::from_secs(30);
        let mut buf = [0_u8; 1500];
        loop {
            socket.send_to(&request, self.addr).await.unwrap();
            if let Ok(Ok((len, _))) = timeout(Duration::from_millis(200), socket.recv_from(&mut buf)).await
                && len >= 20
                && buf[..2] == [0x01, 0x01]
            {
                return;
            }
            assert!(Instant::now() < give_up, "coturn did not answer on {}; log:\n{}", self.addr, self.log());
        }
    }

    fn log(&self) -> String {
        std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().contains(".log"))
            .map(|entry| std::fs::read_to_string(entry.path()).unwrap_or_default())
            .collect()
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        // Child::kill signals this process by its PID.
        if let Err(err) = self.child.kill() {
            eprintln!("could not stop coturn (pid {}): {err}", self.child.id());
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn coturn_takes_the_same_credentials_and_refuses_bad_ones() {
    let Some(coturn) = Coturn::start().await else { return };
    let valid = credential(Duration::from_secs(600));
    let outcome = relay_round_trip(coturn.addr, &valid.username, &valid.password, STEP).await;
    assert_eq!(outcome, Ok(()), "coturn log:\n{}", coturn.log());
    let expired = expired_credential();
    assert_refused(relay_round_trip(coturn.addr, &expired.username, &expired.password, STEP).await);
    let wrong = TurnSecret::new("some-other-secret-entirely").unwrap().password(&valid.username);
    assert_refused(relay_round_trip(coturn.addr, &valid.username, &wrong, STEP).await);
}

#[tokio::test]
async fn coturn_credential_stops_working_after_its_lifetime() {
    let Some(coturn) = Coturn::start().await else { return };
    let short = credential(Duration::from_secs(2));
    let late = wait_for_refusal(coturn.addr, &short, Duration::from_secs(10)).await;
    assert!(late < Duration::from_secs(3), "refused {late:?} after expiry\n{}", coturn.log());
}

/// coturn's own test client and echo peer (Debian's coturn package), or
/// None (after a notice) when they are missing and not required.
fn coturn_tools() -> Option<(&'static Path, &'static Path)> {
    let client = Path::new("/usr/bin/turnutils_uclient");
    let peer = Path::new("/usr/bin/turnutils_peer");
    if client.exists() && peer.exists() {
        return Some((client, peer));
    }
    assert!(
        std::env::var("TETHER_TEST_REQUIRE_COTURN").as_deref() != Ok("1"),
        "coturn's turnutils are not installed but TETHER_TEST_REQUIRE_COTURN=1; install Debian's coturn"
    );
    eprintln!("NOTICE: coturn's turnutils are not installed; skipping the TURN-over-TCP test");
    None
}

/// coturn's echo peer on a free loopback UDP port: the port, and the
/// process (stopped when dropped).
fn echo_peer(peer: &Path) -> (u16, Stopped) {
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(peer)
        .args(["-L", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (port, Stopped(child))
}

/// Stops a child process by its PID when dropped.
struct Stopped(Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn embedded_relay_serves_turn_over_tcp_to_coturns_own_client() {
    let Some((client, peer)) = coturn_tools() else { return };
    let relay = start_embedded(true).await;
    let (peer_port, _peer) = echo_peer(peer);
    let run = |username: String, password: String| {
        let relay_port = relay.local_addr().port().to_string();
        let peer_port = peer_port.to_string();
        tokio::task::spawn_blocking(move || {
            let mut command = Command::new(client);
            command.args(["-t", "-D", "-n", "20", "-l", "171", "-z", "5", "-u", &username, "-w", &password]);
            command.args(["-e", "127.0.0.1", "-r", &peer_port, "-p", &relay_port, "127.0.0.1"]);
            let output = command.stdin(Stdio::null()).output().unwrap();
            format!(
                "{}{}({})",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                output.status
            )
        })
    };
    let valid = credential(Duration::from_secs(600));
    let report = timeout(Duration::from_secs(60), run(valid.username, valid.password)).await.unwrap().unwrap();
    // Every message sent came back from the echo peer, relayed over UDP and carried over TCP both ways.
    assert!(report.contains("Total lost packets 0 (0.000000%)"), "the client said:\n{report}");
    assert!(report.contains("Total transmit time"), "{report}");
    // The first client's allocations have ended: the listener still serves the next one.
    let again = credential(Duration::from_secs(600));
    let report = timeout(Duration::from_secs(60), run(again.username, again.password)).await.unwrap().unwrap();
    assert!(report.contains("Total lost packets 0 (0.000000%)"), "a second client was not served:\n{report}");
    let expired = expired_credential();
    let refused = timeout(Duration::from_secs(60), run(expired.username, expired.password)).await.unwrap().unwrap();
    assert!(
        !refused.contains("Total lost packets 0 (0.000000%)"),
        "an expired credential relayed over TCP:\n{refused}"
    );
    relay.stop().await.unwrap();
}

/// A self-signed certificate for `ip` (PEM files in a fresh directory),
/// made with the openssl command.
fn self_signed(ip: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("tether-tls-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=tether-test", "-addext", &format!("subjectAltName=IP:{ip}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl could not make a certificate");
    (cert, key)
}

#[tokio::test]
async fn embedded_relay_serves_turn_over_tls_to_coturns_own_client() {
    let Some((client, peer)) = coturn_tools() else { return };
    let (cert, key) = self_signed("127.0.0.1");
    let tls = tether_server::tls::server_config(&cert, &key).unwrap();
    let relay = EmbeddedRelay::start(EmbeddedConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        relay_ip: "127.0.0.1".parse().unwrap(),
        relay_ports: None,
        realm: "tether.test".into(),
        secret: secret(),
        allow_loopback_peers: true,
        tls: Some(("127.0.0.1:0".parse().unwrap(), tls)),
    })
    .await
    .unwrap();
    let tls_addr = relay.tls_addr().unwrap();
    assert!(relay.urls().contains(&format!("turns:{tls_addr}?transport=tcp")), "{:?}", relay.urls());
    let (peer_port, _peer) = echo_peer(peer);
    let valid = credential(Duration::from_secs(600));
    let report = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(client);
        command.args([
            "-t",
            "-S",
            "-D",
            "-n",
            "20",
            "-l",
            "171",
            "-z",
            "5",
            "-u",
            &valid.username,
            "-w",
            &valid.password,
        ]);
        command.args([
            "-e",
            "127.0.0.1",
            "-r",
            &peer_port.to_string(),
            "-p",
            &tls_addr.port().to_string(),
            "127.0.0.1",
        ]);
        let output = command.stdin(Stdio::null()).output().unwrap();
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
    });
    let report = timeout(Duration::from_secs(60), report).await.unwrap().unwrap();
    assert!(report.contains("Total lost packets 0 (0.000000%)"), "the client said:\n{report}");
    relay.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(cert.parent().unwrap());
}
