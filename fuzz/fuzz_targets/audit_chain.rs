//! Fuzzes the audit chain verifier with arbitrary stored rows: it must
//! accept or name a break, never panic, and accept an honestly built chain.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tether_shared::audit_chain::{ChainVerifier, EntryContent, GENESIS_HASH, entry_hash};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let fields: Vec<&str> = text.split('\u{1f}').collect();

    // Arbitrary rows: whatever they hold, the verifier must not panic.
    let mut verifier = ChainVerifier::default();
    for (i, chunk) in fields.chunks(3).enumerate() {
        let seq = chunk.first().and_then(|s| s.parse::<i64>().ok()).unwrap_or(i as i64 + 1);
        let content = EntryContent {
            seq,
            at: 0,
            actor_id: None,
            actor: chunk.first().copied().unwrap_or(""),
            action: chunk.get(1).copied().unwrap_or(""),
            target: None,
            source: None,
            details: "{}",
        };
        if verifier.push(&content, chunk.get(2).copied().unwrap_or(""), chunk.get(1).copied().unwrap_or("")).is_err() {
            break;
        }
    }

    // An honest chain over the same strings always verifies.
    let mut verifier = ChainVerifier::default();
    let mut prev = GENESIS_HASH.to_owned();
    for (i, field) in fields.iter().enumerate() {
        let content = EntryContent {
            seq: i as i64 + 1,
            at: i as i64,
            actor_id: Some(field),
            actor: field,
            action: "fuzz",
            target: Some(field),
            source: None,
            details: field,
        };
        let hash = entry_hash(&content, &prev);
        verifier.push(&content, &prev, &hash).expect("honest chain verifies");
        prev = hash;
    }
});
