//! The audit log's hash chain: how an entry's hash is computed and how a
//! sequence of stored entries is checked for edits, deletions and reordering.
//!
//! Each entry's hash covers its own content and the previous entry's hash, so
//! changing, removing or moving any entry breaks every link after it. The
//! verifier is streaming: feed entries in `seq` order, one page at a time.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry's content as stored: everything the hash covers except the
/// previous hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryContent<'a> {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<&'a str>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub source: Option<&'a str>,
    /// The details exactly as stored (JSON text).
    pub details: &'a str,
}

/// The hex SHA-256 of `content` chained to `prev_hash`.
///
/// The preimage is a JSON array, so field boundaries are unambiguous.
pub fn entry_hash(content: &EntryContent<'_>, prev_hash: &str) -> String {
    let preimage = serde_json::json!([
        "tether-audit-v1",
        content.seq,
        content.at,
        content.actor_id,
        content.actor,
        content.action,
        content.target,
        content.source,
        content.details,
        prev_hash,
    ]);
    hex::encode(Sha256::digest(preimage.to_string().as_bytes()))
}

/// How the chain was found broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BreakKind {
    /// The entry's stored hash does not match its content: it was edited
    /// (or moved to another position).
    Altered,
    /// Entries before this one are missing: they were deleted.
    Missing,
    /// The entry does not link to the entry before it: entries were
    /// reordered, or the one before was rewritten together with its hash.
    Relinked,
}

/// The first place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainBreak {
    /// The `seq` of the first entry that does not verify.
    pub seq: i64,
    pub kind: BreakKind,
    /// A sentence for the auditor.
    pub message: String,
}

/// Checks stored entries one by one, in `seq` order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS_HASH.to_owned(), checked: 0 }
    }
}

impl ChainVerifier {
    /// Checks the next entry, given its content and its stored link and hash.
    pub fn push(
        &mut self,
        content: &EntryContent<'_>,
        stored_prev_hash: &str,
        stored_hash: &str,
    ) -> Result<(), ChainBreak> {
        let seq = content.seq;
        if seq > self.expected_seq {
            let last_missing = seq - 1;
            let range = if last_missing == self.expected_seq {
                format!("entry {}", self.expected_seq)
            } else {
                format!("entries {} to {}", self.expected_seq, last_missing)
            };
            return Err(ChainBreak {
                seq,
                kind: BreakKind::Missing,
                message: format!("{range} missing before entry {seq}: deleted"),
            });
        }
        if seq < self.expected_seq {
            return Err(ChainBreak {
                seq,
                kind: BreakKind::Relinked,
                message: format!("entry {seq} appears after entry {}: reordered", self.expected_seq - 1),
            });
        }
        if entry_hash(content, stored_prev_hash) != stored_hash {
            return Err(ChainBreak {
                seq,
                kind: BreakKind::Altered,
                message: format!("entry {seq} does not match its hash: edited"),
            });
        }
        if stored_prev_hash != self.prev_hash {
            return Err(ChainBreak {
                seq,
                kind: BreakKind::Relinked,
                message: format!(
                    "entry {seq} does not link to entry {}: reordered, or entry {} was rewritten",
                    seq - 1,
                    seq - 1
                ),
            });
        }
        self.prev_hash = stored_hash.to_owned();
        self.expected_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// Entries verified so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Hash of the last verified entry, if any.
    pub fn head_hash(&self) -> Option<&str> {
        (self.checked > 0).then_some(self.prev_hash.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Stored {
        seq: i64,
        action: String,
        details: String,
        prev_hash: String,
        hash: String,
    }

    impl Stored {
        fn content(&self) -> EntryContent<'_> {
            EntryContent {
                seq: self.seq,
                at: 1_700_000_000_000 + self.seq,
                actor_id: Some("u1"),
                actor: "alice",
                action: &self.action,
                target: None,
                source: Some("127.0.0.1"),
                details: &self.details,
            }
        }
    }

    fn chain(len: i64) -> Vec<Stored> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=len)
            .map(|seq| {
                let mut entry = Stored {
                    seq,
                    action: format!("test.action{seq}"),
                    details: "{}".to_owned(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                entry.hash = entry_hash(&entry.content(), &prev);
                prev = entry.hash.clone();
                entry
            })
            .collect()
    }

    fn verify(entries: &[Stored]) -> Result<u64, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for entry in entries {
            verifier.push(&entry.content(), &entry.prev_hash, &entry.hash)?;
        }
        Ok(verifier.checked())
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn edited_entry_is_named() {
        let mut entries = chain(5);
        entries[2].details = r#"{"forged":true}"#.to_owned();
        let err = verify(&entries).expect_err("edit must be found");
        assert_eq!((err.seq, err.kind), (3, BreakKind::Altered));
    }

    #[test]
    fn deleted_entry_is_named() {
        let mut entries = chain(5);
        entries.remove(1);
        let err = verify(&entries).expect_err("deletion must be found");
        assert_eq!((err.seq, err.kind), (3, BreakKind::Missing));
        assert_eq!(err.message, "entry 2 missing before entry 3: deleted");
    }

    #[test]
    fn swapped_entries_are_named() {
        let mut entries = chain(5);
        // Swap the content of entries 2 and 3 but keep seq in order.
        let (a, b) = (entries[1].action.clone(), entries[2].action.clone());
        entries[1].action = b;
        entries[2].action = a;
        let err = verify(&entries).expect_err("reorder must be found");
        assert_eq!((err.seq, err.kind), (2, BreakKind::Altered));
    }

    #[test]
    fn rehashed_entry_breaks_the_next_link() {
        let mut entries = chain(4);
        entries[1].details = r#"{"x":1}"#.to_owned();
        entries[1].hash = entry_hash(&entries[1].content(), &entries[1].prev_hash);
        let err = verify(&entries).expect_err("rewrite must be found");
        assert_eq!((err.seq, err.kind), (3, BreakKind::Relinked));
    }

    #[test]
    fn hash_separates_fields() {
        let base = EntryContent {
            seq: 1,
            at: 0,
            actor_id: None,
            actor: "ab",
            action: "c",
            target: None,
            source: None,
            details: "{}",
        };
        let shifted = EntryContent { actor: "a", action: "bc", ..base.clone() };
        assert_ne!(entry_hash(&base, GENESIS_HASH), entry_hash(&shifted, GENESIS_HASH));
    }
}
