//! The audit chain: append-only records, each hashed over the previous hash and its own
//! canonical bytes, so an edit, a deletion or a reordering breaks the chain at that record
//! and a truncation shows against a checkpoint kept off-host.
//!
//! Records carry ids, field names, purposes and outcomes, never a client's personal value.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::domain::account::AccountId;
use crate::domain::policy::{Field, Purpose, Visibility};
use crate::domain::request::RequestId;
use crate::domain::staff::Actor;

/// The hash before the first record.
pub const GENESIS: [u8; 32] = [0; 32];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Refused,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Refused => "refused",
        }
    }
}

/// An audit record before the store numbers and chains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditDraft {
    pub at: Timestamp,
    /// Staff login, `os-user@cli`, or `system`.
    pub actor: String,
    /// `local`, `ssh ADDRESS` (a staff session's address), `cli`, `system`.
    pub source: String,
    /// A dotted action name, e.g. `request.open`, `request.take`, `staff.add`.
    pub action: String,
    pub account: Option<AccountId>,
    pub request: Option<RequestId>,
    /// Another target by name: a staff login, a key fingerprint.
    pub target: Option<String>,
    /// Field names and how they were shown: `email:masked,contact_name:clear`.
    pub fields: String,
    pub purpose: Option<String>,
    pub outcome: String,
    /// Non-personal detail: a state change, a reason code, a count.
    pub detail: String,
}

impl AuditDraft {
    pub fn new(actor: &Actor, action: &str, at: Timestamp) -> AuditDraft {
        AuditDraft {
            at,
            actor: actor.label(),
            source: actor.source.as_label(),
            action: action.to_owned(),
            account: None,
            request: None,
            target: None,
            fields: String::new(),
            purpose: None,
            outcome: Outcome::Done.as_str().to_owned(),
            detail: String::new(),
        }
    }

    #[must_use]
    pub fn account(mut self, id: AccountId) -> Self {
        self.account = Some(id);
        self
    }

    #[must_use]
    pub fn request(mut self, id: RequestId) -> Self {
        self.request = Some(id);
        self
    }

    #[must_use]
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    #[must_use]
    pub fn fields(mut self, fields: &[(Field, Visibility)]) -> Self {
        self.fields = format_fields(fields);
        self
    }

    #[must_use]
    pub fn field_names(mut self, fields: &[Field]) -> Self {
        self.fields = fields
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join(",");
        self
    }

    #[must_use]
    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.purpose = Some(purpose.as_str().to_owned());
        self
    }

    #[must_use]
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        outcome.as_str().clone_into(&mut self.outcome);
        self
    }

    #[must_use]
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

pub fn format_fields(fields: &[(Field, Visibility)]) -> String {
    fields
        .iter()
        .map(|(f, v)| format!("{}:{}", f.as_str(), v.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

/// A record as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub draft: AuditDraft,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditHead {
    pub seq: i64,
    pub hash: Vec<u8>,
}

impl AuditHead {
    pub fn genesis() -> AuditHead {
        AuditHead {
            seq: 0,
            hash: GENESIS.to_vec(),
        }
    }

    /// The one-line form `privdesk audit checkpoint` prints and `verify --checkpoint` reads.
    pub fn to_line(&self) -> String {
        format!(
            "privdesk-audit-checkpoint v1 seq={} hash={}",
            self.seq,
            hex::encode(&self.hash)
        )
    }

    pub fn parse_line(line: &str) -> Option<AuditHead> {
        let mut parts = line.split_whitespace();
        if parts.next()? != "privdesk-audit-checkpoint" || parts.next()? != "v1" {
            return None;
        }
        let seq = parts.next()?.strip_prefix("seq=")?.parse().ok()?;
        let hash = hex::decode(parts.next()?.strip_prefix("hash=")?).ok()?;
        (hash.len() == 32).then_some(AuditHead { seq, hash })
    }
}

/// The canonical bytes of a record: a version tag, then every field length-prefixed.
pub fn canonical_bytes(seq: i64, d: &AuditDraft) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, bytes: &[u8]) {
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(bytes);
    }
    fn put_opt_i64(out: &mut Vec<u8>, v: Option<i64>) {
        match v {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
    }
    let mut out = Vec::with_capacity(128);
    put(&mut out, b"privdesk-audit-v1");
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&d.at.as_millisecond().to_be_bytes());
    put(&mut out, d.actor.as_bytes());
    put(&mut out, d.source.as_bytes());
    put(&mut out, d.action.as_bytes());
    put_opt_i64(&mut out, d.account.map(|a| a.0));
    put_opt_i64(&mut out, d.request.map(|r| r.0));
    match &d.target {
        None => out.push(0),
        Some(t) => {
            out.push(1);
            put(&mut out, t.as_bytes());
        }
    }
    put(&mut out, d.fields.as_bytes());
    match &d.purpose {
        None => out.push(0),
        Some(p) => {
            out.push(1);
            put(&mut out, p.as_bytes());
        }
    }
    put(&mut out, d.outcome.as_bytes());
    put(&mut out, d.detail.as_bytes());
    out
}

pub fn chain_hash(prev: &[u8], seq: i64, d: &AuditDraft) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical_bytes(seq, d));
    h.finalize().to_vec()
}

/// What checking the chain found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    pub records: u64,
    pub head: AuditHead,
    /// The first record that does not fit, and why.
    pub first_bad: Option<(i64, String)>,
}

impl ChainReport {
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}

/// Why an intact chain does not match a checkpoint kept off-host.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointMismatch {
    /// Records the checkpoint saw are gone from the end (and the head was moved back).
    #[error(
        "audit chain TRUNCATED: the checkpoint names record {checkpoint} but the chain ends at {chain_end}"
    )]
    Truncated { checkpoint: i64, chain_end: i64 },
    /// The record at the checkpoint's sequence is not the one the checkpoint saw: the chain
    /// was rebuilt from an earlier record.
    #[error("audit chain REWRITTEN: record {seq} does not match the checkpoint")]
    Rewritten { seq: i64 },
}

/// The chain checked from its first record, and against a checkpoint when one was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditVerdict {
    pub chain: ChainReport,
    /// Only compared when the chain itself is intact.
    pub checkpoint: Option<CheckpointMismatch>,
}

impl AuditVerdict {
    pub fn is_intact(&self) -> bool {
        self.chain.is_intact() && self.checkpoint.is_none()
    }
}

/// Compares a checkpoint with an intact chain ending at `chain_end`, given the record the
/// chain holds at the checkpoint's sequence (`None` if it holds none).
pub fn compare_checkpoint(
    checkpoint: &AuditHead,
    chain_end: i64,
    at_checkpoint: Option<&AuditRecord>,
) -> Option<CheckpointMismatch> {
    if checkpoint.seq > chain_end {
        return Some(CheckpointMismatch::Truncated {
            checkpoint: checkpoint.seq,
            chain_end,
        });
    }
    let matches = if checkpoint.seq <= 0 {
        checkpoint.seq == 0 && checkpoint.hash == GENESIS
    } else {
        at_checkpoint.is_some_and(|r| r.seq == checkpoint.seq && r.hash == checkpoint.hash)
    };
    (!matches).then_some(CheckpointMismatch::Rewritten {
        seq: checkpoint.seq,
    })
}

/// Incremental verification over records in ascending order, so a chain of millions of
/// records is checked in pages without holding it in memory.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    prev: Vec<u8>,
    pub records: u64,
    pub first_bad: Option<(i64, String)>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev: GENESIS.to_vec(),
            records: 0,
            first_bad: None,
        }
    }
}

impl ChainVerifier {
    /// Goes on from an intact report: the next record must follow its head.
    pub fn resume(intact: &ChainReport) -> ChainVerifier {
        ChainVerifier {
            expected_seq: intact.head.seq + 1,
            prev: intact.head.hash.clone(),
            records: intact.records,
            first_bad: None,
        }
    }

    /// Feeds the next record; returns false once a bad record was found.
    pub fn feed(&mut self, r: &AuditRecord) -> bool {
        if self.first_bad.is_some() {
            return false;
        }
        let bad = if r.seq != self.expected_seq {
            Some(if r.seq > self.expected_seq {
                format!(
                    "record {} is missing (the next record is {})",
                    self.expected_seq, r.seq
                )
            } else {
                format!("record {} appears out of order", r.seq)
            })
        } else if r.prev_hash != self.prev {
            Some(
                "its previous-hash does not match the record before it (reordered or edited)"
                    .to_owned(),
            )
        } else if chain_hash(&r.prev_hash, r.seq, &r.draft) != r.hash {
            Some("its content does not match its hash (edited)".to_owned())
        } else {
            None
        };
        if let Some(reason) = bad {
            self.first_bad = Some((r.seq.min(self.expected_seq), reason));
            return false;
        }
        self.prev.clone_from(&r.hash);
        self.expected_seq += 1;
        self.records += 1;
        true
    }

    /// Ends the check against the head the database claims.
    pub fn finish(mut self, stored_head: &AuditHead) -> ChainReport {
        let head = AuditHead {
            seq: self.expected_seq - 1,
            hash: self.prev.clone(),
        };
        if self.first_bad.is_none()
            && (stored_head.seq != head.seq || stored_head.hash != head.hash)
        {
            self.first_bad = Some((
                head.seq + 1,
                format!(
                    "the stored head (record {}) does not match the last record ({}): records \
                     were removed from the end",
                    stored_head.seq, head.seq
                ),
            ));
        }
        ChainReport {
            records: self.records,
            head,
            first_bad: self.first_bad,
        }
    }
}

/// Which records to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub account: Option<AccountId>,
    pub request: Option<RequestId>,
    /// Matches an action or a dotted prefix of one (`request` matches `request.open`).
    pub action: Option<String>,
    pub purpose: Option<String>,
    /// `done` or `refused`.
    pub outcome: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Records with a smaller sequence number (paging backwards, newest first).
    pub before_seq: Option<i64>,
    /// Records with a larger sequence number, oldest first.
    pub after_seq: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(action: &str) -> AuditDraft {
        AuditDraft {
            at: Timestamp::from_millisecond(1_700_000_000_000).unwrap(),
            actor: "agent".into(),
            source: "local".into(),
            action: action.into(),
            account: Some(AccountId(3)),
            request: None,
            target: None,
            fields: "email:masked".into(),
            purpose: None,
            outcome: "done".into(),
            detail: String::new(),
        }
    }

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let d = draft(&format!("a{seq}"));
                let hash = chain_hash(&prev, seq, &d);
                let r = AuditRecord {
                    seq,
                    draft: d,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                r
            })
            .collect()
    }

    fn verify(records: &[AuditRecord], head: &AuditHead) -> ChainReport {
        let mut v = ChainVerifier::default();
        for r in records {
            if !v.feed(r) {
                break;
            }
        }
        v.finish(head)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let head = AuditHead {
            seq: 5,
            hash: c[4].hash.clone(),
        };
        let rep = verify(&c, &head);
        assert!(rep.is_intact(), "{rep:?}");
        assert_eq!(rep.records, 5);
    }

    #[test]
    fn edits_deletions_reorders_and_truncations_are_found() {
        let c = chain(5);
        let head = AuditHead {
            seq: 5,
            hash: c[4].hash.clone(),
        };
        let mut edited = c.clone();
        edited[2].draft.fields = "email:clear".into();
        assert_eq!(verify(&edited, &head).first_bad.map(|b| b.0), Some(3));
        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(verify(&deleted, &head).first_bad.map(|b| b.0), Some(2));
        let mut reordered = c.clone();
        reordered.swap(1, 2);
        assert!(verify(&reordered, &head).first_bad.is_some());
        let truncated = &c[..3];
        assert_eq!(verify(truncated, &head).first_bad.map(|b| b.0), Some(4));
    }

    #[test]
    fn every_field_is_in_the_canonical_bytes() {
        let base = draft("x");
        let variants = [
            AuditDraft {
                actor: "other".into(),
                ..base.clone()
            },
            AuditDraft {
                source: "ssh 10.0.0.1".into(),
                ..base.clone()
            },
            AuditDraft {
                action: "y".into(),
                ..base.clone()
            },
            AuditDraft {
                account: None,
                ..base.clone()
            },
            AuditDraft {
                request: Some(RequestId(1)),
                ..base.clone()
            },
            AuditDraft {
                target: Some("t".into()),
                ..base.clone()
            },
            AuditDraft {
                fields: String::new(),
                ..base.clone()
            },
            AuditDraft {
                purpose: Some("identify_client".into()),
                ..base.clone()
            },
            AuditDraft {
                outcome: "refused".into(),
                ..base.clone()
            },
            AuditDraft {
                detail: "d".into(),
                ..base.clone()
            },
            AuditDraft {
                at: Timestamp::from_millisecond(1).unwrap(),
                ..base.clone()
            },
        ];
        let h = chain_hash(&GENESIS, 1, &base);
        for v in variants {
            assert_ne!(chain_hash(&GENESIS, 1, &v), h, "{v:?}");
        }
        assert_ne!(chain_hash(&GENESIS, 2, &base), h);
    }

    #[test]
    fn checkpoint_lines_round_trip() {
        let head = AuditHead {
            seq: 42,
            hash: vec![7; 32],
        };
        assert_eq!(AuditHead::parse_line(&head.to_line()), Some(head));
        assert_eq!(AuditHead::parse_line("garbage"), None);
    }
}
