//! Session grants signed by the server and verified by the agent: a good
//! grant verifies, and each way a grant can be wrong is refused with its
//! own reason. Keys come from fixed seeds, so no random source is needed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use ed25519_dalek::{Signer as _, SigningKey};
use tether_shared::access::{Access, AccessSet};
use tether_shared::grant::{
    CLOCK_SKEW_MS, Expectation, Grant, GrantRefusal, SignedGrant, key_fingerprint, key_id, sign, verify,
};
use tether_shared::mode::SessionMode;

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;

fn server_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn other_key() -> SigningKey {
    SigningKey::from_bytes(&[8; 32])
}

fn grant() -> Grant {
    Grant {
        session_id: "session-1".into(),
        technician_id: "tech-42".into(),
        technician_name: "Ada Lovelace".into(),
        target: "agent-7".into(),
        mode: SessionMode::Active,
        access: AccessSet::of(&[Access::View, Access::Control, Access::Chat]),
        controller_fingerprint: Some("sha-256 AB:CD:EF".into()),
        unattended: false,
        allowed_modes: tether_shared::mode::ModeSet::of(&[SessionMode::Active]),
        user_acceptance: true,
        assent_each_time: tether_shared::access::AccessSet::all(),
        acceptance_timeout_secs: 120,
        max_file_mib: Some(10_240),
        issued_at: T0,
        expires_at: T0 + 10 * MINUTE,
        key_id: String::new(),
    }
}

fn expected(now: i64) -> Expectation<'static> {
    Expectation { session_id: "session-1", target: "agent-7", now }
}

fn check(signed: &SignedGrant, now: i64) -> Result<Grant, GrantRefusal> {
    verify(signed, &server_key().verifying_key(), expected(now))
}

/// Signs `payload` bytes as they are, with the server key: a grant the
/// server itself got wrong.
fn sign_bytes(payload: &[u8]) -> SignedGrant {
    let key = server_key();
    SignedGrant {
        payload: BASE64URL.encode(payload),
        signature: BASE64URL.encode(key.sign(payload).to_bytes()),
        key_id: key_id(&key.verifying_key()),
    }
}

fn json_with(change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value =
        serde_json::to_value(Grant { key_id: key_id(&server_key().verifying_key()), ..grant() }).expect("serialize");
    change(&mut value);
    serde_json::to_vec(&value).expect("serialize")
}

#[test]
fn a_good_grant_verifies_and_carries_the_signing_keys_id() {
    let signed = sign(&grant(), &server_key());
    let verified = check(&signed, T0 + MINUTE).expect("valid");
    assert_eq!(verified, Grant { key_id: key_id(&server_key().verifying_key()), ..grant() });
    assert_eq!(signed.key_id, verified.key_id);
}

#[test]
fn the_signed_grant_travels_as_json_of_three_strings() {
    let signed = sign(&grant(), &server_key());
    let text = serde_json::to_string(&signed).expect("serialize");
    assert_eq!(serde_json::from_str::<SignedGrant>(&text).expect("parse"), signed);
    assert!(text.starts_with(r#"{"payload":""#), "{text}");
    assert!(serde_json::from_str::<SignedGrant>(r#"{"payload":"","signature":"","key_id":"","alg":"none"}"#).is_err());
}

#[test]
fn the_payload_is_the_grants_json() {
    let signed = sign(&grant(), &server_key());
    let bytes = BASE64URL.decode(&signed.payload).expect("base64url");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(text.contains(r#""mode":"active""#), "{text}");
    assert!(text.contains(r#""access":["view","control","chat"]"#), "{text}");
}

#[test]
fn a_payload_edited_after_signing_is_refused() {
    let signed = sign(&grant(), &server_key());
    let text = String::from_utf8(BASE64URL.decode(&signed.payload).expect("base64url")).expect("utf-8");
    let edited = text.replace("agent-7", "agent-8");
    assert_ne!(edited, text);
    let tampered = SignedGrant { payload: BASE64URL.encode(edited), ..signed };
    let verified = verify(
        &tampered,
        &server_key().verifying_key(),
        Expectation { session_id: "session-1", target: "agent-8", now: T0 },
    );
    assert_eq!(verified, Err(GrantRefusal::BadSignature));
}

#[test]
fn a_signature_from_another_grant_is_refused() {
    let signed = sign(&grant(), &server_key());
    let other =
        sign(&Grant { mode: SessionMode::Monitor, access: AccessSet::of(&[Access::View]), ..grant() }, &server_key());
    let swapped = SignedGrant { signature: other.signature, ..signed };
    assert_eq!(check(&swapped, T0), Err(GrantRefusal::BadSignature));
}

#[test]
fn a_grant_signed_by_another_key_is_refused() {
    let foreign = sign(&grant(), &other_key());
    assert_eq!(check(&foreign, T0), Err(GrantRefusal::WrongKey));
    let relabelled = SignedGrant { key_id: key_id(&server_key().verifying_key()), ..foreign };
    assert_eq!(check(&relabelled, T0), Err(GrantRefusal::BadSignature));
}

#[test]
fn a_signed_payload_naming_another_key_is_refused() {
    let payload = json_with(|value| value["key_id"] = "0000000000000000".into());
    assert_eq!(check(&sign_bytes(&payload), T0), Err(GrantRefusal::WrongKey));
}

#[test]
fn malformed_grants_are_refused() {
    let good = sign(&grant(), &server_key());
    let table = [
        ("payload not base64url", SignedGrant { payload: "not base64!".into(), ..good.clone() }),
        ("payload padded", SignedGrant { payload: format!("{}=", good.payload), ..good.clone() }),
        ("signature not base64url", SignedGrant { signature: "***".into(), ..good.clone() }),
        ("signature too short", SignedGrant { signature: BASE64URL.encode([0_u8; 63]), ..good.clone() }),
        ("signature missing", SignedGrant { signature: String::new(), ..good.clone() }),
        ("signed bytes not JSON", sign_bytes(b"not json")),
        ("signed JSON not a grant", sign_bytes(br#"{"session_id":"session-1"}"#)),
        ("unknown field", sign_bytes(&json_with(|value| value["admin"] = true.into()))),
        ("unknown access", sign_bytes(&json_with(|value| value["access"] = serde_json::json!(["view", "root"])))),
        ("expires before issued", sign_bytes(&json_with(|value| value["expires_at"] = T0.into()))),
    ];
    for (why, signed) in table {
        assert_eq!(check(&signed, T0), Err(GrantRefusal::Malformed), "{why}");
    }
}

#[test]
fn a_grant_giving_more_than_its_mode_is_refused() {
    let chat_with_control =
        Grant { mode: SessionMode::Chat, access: AccessSet::of(&[Access::Chat, Access::Control]), ..grant() };
    assert_eq!(check(&sign(&chat_with_control, &server_key()), T0), Err(GrantRefusal::AccessBeyondMode));
}

#[test]
fn a_grant_for_another_session_is_refused() {
    let signed = sign(&Grant { session_id: "session-2".into(), ..grant() }, &server_key());
    assert_eq!(check(&signed, T0), Err(GrantRefusal::OtherSession));
}

#[test]
fn a_grant_for_another_computer_is_refused() {
    let signed = sign(&Grant { target: "agent-8".into(), ..grant() }, &server_key());
    assert_eq!(check(&signed, T0), Err(GrantRefusal::OtherTarget));
}

#[test]
fn a_grant_is_good_from_its_issue_to_its_expiry_give_or_take_the_clock_skew() {
    let signed = sign(&grant(), &server_key());
    let expires = T0 + 10 * MINUTE;
    let table = [
        (T0 - CLOCK_SKEW_MS - 1, Err(GrantRefusal::NotYetValid)),
        (T0 - CLOCK_SKEW_MS, Ok(())),
        (T0, Ok(())),
        (expires - 1, Ok(())),
        (expires, Ok(())),
        (expires + CLOCK_SKEW_MS - 1, Ok(())),
        (expires + CLOCK_SKEW_MS, Err(GrantRefusal::Expired)),
        (i64::MAX, Err(GrantRefusal::Expired)),
        (i64::MIN, Err(GrantRefusal::NotYetValid)),
    ];
    for (now, expected) in table {
        assert_eq!(check(&signed, now).map(|_| ()), expected, "at T0{:+} ms", now.saturating_sub(T0));
    }
}

#[test]
fn the_clock_skew_is_half_a_minute() {
    assert_eq!(CLOCK_SKEW_MS, 30_000);
}

#[test]
fn an_oversized_grant_is_refused_before_anything_is_decoded() {
    let huge = Grant { technician_name: "A".repeat(5000), ..grant() };
    assert_eq!(check(&sign(&huge, &server_key()), T0), Err(GrantRefusal::TooLarge));
    let good = sign(&grant(), &server_key());
    let long_signature = SignedGrant { signature: "A".repeat(200), ..good.clone() };
    assert_eq!(check(&long_signature, T0), Err(GrantRefusal::TooLarge));
    let long_key_id = SignedGrant { key_id: "0".repeat(100), ..good };
    assert_eq!(check(&long_key_id, T0), Err(GrantRefusal::TooLarge));
}

#[test]
fn the_controller_fingerprint_binds_the_grant_to_one_browser() {
    let bound = grant();
    let table = [("sha-256 ab:cd:ef", true), ("SHA-256  AB:CD:EF", true), ("sha-256 ab:cd:00", false), ("", false)];
    for (offered, expected) in table {
        assert_eq!(bound.matches_controller(offered), expected, "{offered:?}");
    }
    let unbound = Grant { controller_fingerprint: None, ..grant() };
    assert!(!unbound.matches_controller("sha-256 ab:cd:ef"), "an unbound grant matches no controller");
}

#[test]
fn a_key_fingerprint_is_short_grouped_hex_and_the_key_id_is_its_start() {
    let key = server_key().verifying_key();
    let fingerprint = key_fingerprint(&key);
    let groups: Vec<&str> = fingerprint.split(' ').collect();
    assert_eq!(groups.len(), 8, "{fingerprint}");
    assert!(
        groups
            .iter()
            .all(|group| group.len() == 4 && group.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    );
    assert_eq!(key_id(&key), groups[..4].concat());
    assert_ne!(key_fingerprint(&other_key().verifying_key()), fingerprint);
}

#[test]
fn a_key_fingerprint_is_the_start_of_the_public_keys_sha256() {
    use sha2::{Digest as _, Sha256};
    let key = server_key().verifying_key();
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    assert_eq!(key_fingerprint(&key).replace(' ', ""), digest[..32]);
}

#[test]
fn the_public_key_travels_with_its_id_and_fingerprint_and_is_checked_against_them() {
    use tether_shared::grant::{BadPublicKey, PublicGrantKey};
    let key = server_key().verifying_key();
    let public = PublicGrantKey::of(&key);
    assert_eq!(public.verifying_key(), Ok(key));
    let other = PublicGrantKey::of(&other_key().verifying_key());
    let swapped = PublicGrantKey { public_key: other.public_key, ..public.clone() };
    assert_eq!(swapped.verifying_key(), Err(BadPublicKey::Mismatch));
    let short = PublicGrantKey { public_key: "AAAA".into(), ..public };
    assert_eq!(short.verifying_key(), Err(BadPublicKey::Malformed));
}

#[test]
fn a_grant_narrowed_to_the_persons_pick_never_widens() {
    let active = Grant { access: SessionMode::Active.access(), ..grant() };
    let monitor = active.narrowed_to(SessionMode::Monitor);
    assert_eq!(monitor.mode, SessionMode::Monitor);
    assert_eq!(monitor.access, AccessSet::of(&[Access::View, Access::Chat]));
    assert_eq!(monitor.session_id, active.session_id);
    // A "limit" above the grant's own mode changes nothing.
    let watch = Grant { mode: SessionMode::Monitor, access: SessionMode::Monitor.access(), ..grant() };
    assert_eq!(watch.narrowed_to(SessionMode::Active), watch);
    // Access the grant lacks stays out even where the limit's mode has it.
    let view_only = Grant { mode: SessionMode::Active, access: AccessSet::of(&[Access::View]), ..grant() };
    assert_eq!(view_only.narrowed_to(SessionMode::Guidance).access, AccessSet::of(&[Access::View]));
    // Modes that share nothing leave nothing.
    let chat = Grant { mode: SessionMode::Chat, access: SessionMode::Chat.access(), ..grant() };
    let files = chat.narrowed_to(SessionMode::FileTransfer);
    assert_eq!(files.mode, SessionMode::FileTransfer);
    assert_eq!(files.access, AccessSet::of(&[Access::Chat]));
}
