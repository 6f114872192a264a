//! The session grant: the server's signed statement of what one technician
//! may do on one computer in one session — mode, kinds of access, the
//! controller's DTLS fingerprint, until when. The agent believes it only
//! after [`verify`] checks the signature with the server key it pinned, the
//! session, the computer and the time; the server's word alone never
//! unlocks a machine.
//!
//! The signature covers the exact bytes of the grant's JSON, carried beside
//! it in base64url (like a JWS): the agent verifies the bytes it received,
//! then parses them, so no two sides ever have to serialize a grant the same
//! way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::access::AccessSet;
use crate::mode::{ModeSet, SessionMode};

/// Largest grant JSON accepted, in bytes (before base64url). A grant is a
/// few hundred bytes; the cap bounds what an agent decodes and hashes.
pub const MAX_PAYLOAD_BYTES: usize = 4096;
/// How far the agent's clock may be from the server's, in milliseconds:
/// a grant is taken from this long before its `issued_at` until this long
/// after its `expires_at`. Enrolled computers keep time by NTP; half a
/// minute covers a drifting one without stretching a grant's life much.
pub const CLOCK_SKEW_MS: i64 = 30_000;

/// Longest `payload` string, in base64url characters.
const MAX_PAYLOAD_CHARS: usize = MAX_PAYLOAD_BYTES.div_ceil(3) * 4;
/// Longest `signature` string: an Ed25519 signature is 64 bytes, 86
/// characters.
const MAX_SIGNATURE_CHARS: usize = 128;
/// Longest `key_id` string.
const MAX_KEY_ID_CHARS: usize = 64;

/// What the server allows in one session. Times are Unix milliseconds by
/// the server's clock. Unknown fields are refused: a field an older agent
/// does not know might be a restriction it cannot honour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The session this grant is for, and no other.
    pub session_id: String,
    /// The technician's account id.
    pub technician_id: String,
    /// The technician's name as the person at the computer sees it.
    pub technician_name: String,
    /// The computer (agent id) this grant is for.
    pub target: String,
    /// The mode the session runs in.
    pub mode: SessionMode,
    /// The kinds of access granted: at most the mode's.
    pub access: AccessSet,
    /// The controller's DTLS certificate fingerprint as an SDP names it
    /// (`sha-256 ab:cd:…`), binding the grant to one browser; `None` when
    /// the server did not know it, and then it matches no controller.
    pub controller_fingerprint: Option<String>,
    /// Whether the policy allows this session without anyone at the
    /// computer having accepted it (unattended access). The agent starts
    /// an unasked session only when this and its own local opt-in both
    /// say so. Absent reads as `false`.
    #[serde(default)]
    pub unattended: bool,
    /// The modes the policy allows: the person may accept the session in
    /// one of them that asks for less than `mode`
    /// ([`crate::mode::choices_for_person`]). Absent reads as none.
    #[serde(default)]
    pub allowed_modes: ModeSet,
    /// Whether the policy wants the person at the computer to accept the
    /// session (the agent may ask anyway; it never skips asking on this
    /// say-so for an enrolled computer without its own unattended opt-in).
    /// Absent reads as `true`.
    #[serde(default = "yes")]
    pub user_acceptance: bool,
    /// The kinds of access the policy wants the person to assent to each
    /// time they are asked for: a change of mode that adds one is put to
    /// the person (`crate::mode_change`). Absent reads as every kind.
    #[serde(default = "AccessSet::all")]
    pub assent_each_time: AccessSet,
    /// How long the person has to answer, in seconds; no answer is a
    /// refusal. Absent reads as two minutes.
    #[serde(default = "default_acceptance_timeout_secs")]
    pub acceptance_timeout_secs: u32,
    /// The largest file either way, in MiB; `None` for no limit. Absent
    /// reads as the default policy's. (v10)
    #[serde(default = "default_max_file_mib")]
    pub max_file_mib: Option<u32>,
    /// When the server issued the grant.
    pub issued_at: i64,
    /// When the grant stops being valid.
    pub expires_at: i64,
    /// The id of the key that signed it ([`key_id`]); set by [`sign`].
    pub key_id: String,
}

fn yes() -> bool {
    true
}

fn default_max_file_mib() -> Option<u32> {
    crate::access_policy::AccessRules::default().max_file_mib
}

fn default_acceptance_timeout_secs() -> u32 {
    crate::policy::SessionPolicy::default().acceptance_timeout_secs
}

impl Grant {
    /// This grant as the person at the computer limited it: when they
    /// accepted the session in `limit` (a mode after the grant's), no more
    /// than `limit` allows. The mode is the later of the two in precedence
    /// and the access what both allow; never wider than the grant.
    #[must_use]
    pub fn narrowed_to(&self, limit: SessionMode) -> Grant {
        Grant { mode: self.mode.max_by_rank(limit), access: self.access.intersection(limit.access()), ..self.clone() }
    }

    /// Whether a controller offering this DTLS fingerprint (as
    /// [`crate::signal::dtls_fingerprint`] reads it from its SDP) is the
    /// one the grant was issued to. Spacing and letter case do not matter;
    /// a grant without a fingerprint matches nothing.
    pub fn matches_controller(&self, offered: &str) -> bool {
        let normal = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase();
        self.controller_fingerprint
            .as_deref()
            .is_some_and(|bound| !offered.is_empty() && normal(bound) == normal(offered))
    }
}

/// A grant as it travels: the signed JSON bytes and their signature, each
/// base64url without padding, and the signing key's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedGrant {
    /// The grant's JSON, exactly the bytes signed.
    pub payload: String,
    /// The Ed25519 signature of those bytes.
    pub signature: String,
    /// Which key signed: picks the pinned key to verify with.
    pub key_id: String,
}

/// The server's grant-verifying key as it travels (in the enrollment's
/// answer and `GET /api/grant-key`) and as an agent pins it: the 32-byte
/// Ed25519 public key in base64url, its [`key_id`] and its
/// [`key_fingerprint`] for people to compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicGrantKey {
    pub public_key: String,
    pub key_id: String,
    pub fingerprint: String,
}

/// Why a [`PublicGrantKey`] cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BadPublicKey {
    /// Not base64url of 32 bytes, or not a valid Ed25519 point.
    #[error("the server's grant key is not an Ed25519 public key")]
    Malformed,
    /// Its id or fingerprint is not the key's own.
    #[error("the server's grant key does not match its id or fingerprint")]
    Mismatch,
}

impl PublicGrantKey {
    /// The travelling form of `key`.
    pub fn of(key: &VerifyingKey) -> Self {
        PublicGrantKey {
            public_key: BASE64URL.encode(key.as_bytes()),
            key_id: key_id(key),
            fingerprint: key_fingerprint(key),
        }
    }

    /// The key, if it decodes and its id and fingerprint are its own.
    pub fn verifying_key(&self) -> Result<VerifyingKey, BadPublicKey> {
        let bytes = BASE64URL.decode(&self.public_key).map_err(|_| BadPublicKey::Malformed)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| BadPublicKey::Malformed)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| BadPublicKey::Malformed)?;
        if key_id(&key) != self.key_id || key_fingerprint(&key) != self.fingerprint {
            return Err(BadPublicKey::Mismatch);
        }
        Ok(key)
    }
}

/// The computer a connection code's session's grant names: the code's
/// target has no agent id, so it is named after its session,
/// `broker:<session id>` (the server's hub id for it).
pub fn code_target(session_id: &str) -> String {
    format!("broker:{session_id}")
}

/// What the agent expects of a grant before it believes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectation<'a> {
    /// The session the agent is being asked to run.
    pub session_id: &'a str,
    /// The agent's own id.
    pub target: &'a str,
    /// The agent's clock, Unix milliseconds.
    pub now: i64,
}

/// Why a grant was not believed. Checked in this order: size, key,
/// encoding, signature, contents, session, computer, time — nothing in an
/// unsigned payload is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantRefusal {
    /// Larger than any real grant.
    #[error("the grant is too large")]
    TooLarge,
    /// Signed by a key other than the one this agent pinned (by key id, or
    /// the signed payload names another key).
    #[error("the grant was signed by an unknown key")]
    WrongKey,
    /// Not base64url, not a 64-byte signature, or (once the signature
    /// holds) not a well-formed grant, or one that expires before it is
    /// issued.
    #[error("the grant is malformed")]
    Malformed,
    /// The signature does not match the payload and the pinned key.
    #[error("the grant's signature is not valid")]
    BadSignature,
    /// It grants access its mode does not include.
    #[error("the grant gives more access than its mode allows")]
    AccessBeyondMode,
    /// It is for another session.
    #[error("the grant is for another session")]
    OtherSession,
    /// It is for another computer.
    #[error("the grant is for another computer")]
    OtherTarget,
    /// Its `issued_at` is more than the allowed clock skew ahead.
    #[error("the grant is not valid yet")]
    NotYetValid,
    /// Its `expires_at` (plus the allowed clock skew) has passed.
    #[error("the grant has expired")]
    Expired,
}

/// The id naming a public key in grants: the first 16 hex digits of its
/// SHA-256, i.e. the first four groups of [`key_fingerprint`] without
/// spaces. It chooses a key; the signature, not the id, proves it.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&key_digest(key)[..8])
}

/// The public key's fingerprint for checking it out of band (an admin
/// reads it from the server, an operator compares it on the agent): the
/// first 128 bits of its SHA-256, lowercase hex in eight groups of four,
/// e.g. `3f2a 91c0 5be4 0d17 8a6c 2e93 f041 b7d5`.
pub fn key_fingerprint(key: &VerifyingKey) -> String {
    let hex = hex::encode(&key_digest(key)[..16]);
    hex.as_bytes().chunks(4).map(|group| String::from_utf8_lossy(group)).collect::<Vec<_>>().join(" ")
}

fn key_digest(key: &VerifyingKey) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Signs `grant` with the server's key, first setting its `key_id` to the
/// key's. A grant whose JSON is over [`MAX_PAYLOAD_BYTES`] is signed all
/// the same but every agent refuses it ([`GrantRefusal::TooLarge`]).
pub fn sign(grant: &Grant, key: &SigningKey) -> SignedGrant {
    let key_id = key_id(&key.verifying_key());
    let grant = Grant { key_id: key_id.clone(), ..grant.clone() };
    // Strings, numbers, enums and sets of them always serialize.
    let bytes = serde_json::to_vec(&grant).expect("a grant serializes");
    let signature = key.sign(&bytes);
    SignedGrant { payload: BASE64URL.encode(&bytes), signature: BASE64URL.encode(signature.to_bytes()), key_id }
}

/// The grant in `signed`, if `key` (the server key this agent pinned)
/// signed exactly these bytes and the grant is for `expected`'s session
/// and computer at `expected.now` (give or take [`CLOCK_SKEW_MS`]).
pub fn verify(signed: &SignedGrant, key: &VerifyingKey, expected: Expectation<'_>) -> Result<Grant, GrantRefusal> {
    if signed.payload.len() > MAX_PAYLOAD_CHARS
        || signed.signature.len() > MAX_SIGNATURE_CHARS
        || signed.key_id.len() > MAX_KEY_ID_CHARS
    {
        return Err(GrantRefusal::TooLarge);
    }
    let pinned_id = key_id(key);
    if signed.key_id != pinned_id {
        return Err(GrantRefusal::WrongKey);
    }
    let payload = BASE64URL.decode(&signed.payload).map_err(|_| GrantRefusal::Malformed)?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(GrantRefusal::TooLarge);
    }
    let signature = BASE64URL.decode(&signed.signature).map_err(|_| GrantRefusal::Malformed)?;
    let signature = Signature::from_slice(&signature).map_err(|_| GrantRefusal::Malformed)?;
    key.verify_strict(&payload, &signature).map_err(|_| GrantRefusal::BadSignature)?;

    let grant: Grant = serde_json::from_slice(&payload).map_err(|_| GrantRefusal::Malformed)?;
    if grant.key_id != pinned_id {
        return Err(GrantRefusal::WrongKey);
    }
    if grant.expires_at <= grant.issued_at {
        return Err(GrantRefusal::Malformed);
    }
    if !grant.access.is_subset(grant.mode.access()) {
        return Err(GrantRefusal::AccessBeyondMode);
    }
    if grant.session_id != expected.session_id {
        return Err(GrantRefusal::OtherSession);
    }
    if grant.target != expected.target {
        return Err(GrantRefusal::OtherTarget);
    }
    if expected.now < grant.issued_at.saturating_sub(CLOCK_SKEW_MS) {
        return Err(GrantRefusal::NotYetValid);
    }
    if expected.now >= grant.expires_at.saturating_add(CLOCK_SKEW_MS) {
        return Err(GrantRefusal::Expired);
    }
    Ok(grant)
}
