//! Sealing planned requests and writing them in big transactions.
//!
//! One blocking thread plans and seals batch after batch (the plan is pure, sealing is
//! per-row XChaCha20-Poly1305 under the account's data key with the row id in the
//! associated data); the async side commits each batch with `Store::commit_bulk`
//! (multi-row inserts, one transaction and one audit record per batch) while the next one
//! is being sealed. Request ids are reserved in one block up front, so they increase with
//! the time of receipt; entry ids come from blocks reserved as needed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::crypto::{DataKey, TokenScope};
use crate::desk::Keyring;
use crate::domain::account::AccountId;
use crate::domain::request::RequestId;
use crate::domain::staff::{Role, StaffId};
use crate::store::{DynStore, IdTable, Mutation, NewEntry, NewRequest, RequesterTag};

use super::plan::{Planned, Requester, Who};
use crate::desk::{DeskError, Result};

/// Entry ids reserved at a time.
const ENTRY_BLOCK: u32 = 262_144;

/// A block of reserved ids handed out one by one; refilled from the store when empty.
struct IdPool {
    next: i64,
    end: i64,
}

impl IdPool {
    fn take(&mut self, n: usize, store: &DynStore, rt: &tokio::runtime::Handle) -> Result<i64> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        if self.end - self.next < n {
            let want = u32::try_from(n).unwrap_or(u32::MAX).max(ENTRY_BLOCK);
            let first = rt.block_on(store.reserve_ids(IdTable::Entries, want))?;
            self.next = first;
            self.end = first + i64::from(want);
        }
        let first = self.next;
        self.next += n;
        Ok(first)
    }
}

/// A sealed batch, ready to commit.
pub struct SealedBatch {
    pub mutations: Vec<Mutation>,
    pub requests: u64,
    pub entries: u64,
    /// (kind, state) → count, for the summary.
    pub states: BTreeMap<(&'static str, &'static str), u64>,
}

pub struct Sealer {
    pub keyring: Arc<Keyring>,
    pub keys: Arc<HashMap<i64, Arc<DataKey>>>,
    pub account_ids: Arc<Vec<AccountId>>,
    pub staff: HashMap<Role, StaffId>,
    pub first_request: i64,
    pub store: DynStore,
    pub rt: tokio::runtime::Handle,
    pool: IdPool,
    tokens: HashMap<String, Vec<String>>,
}

impl Sealer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        keyring: Arc<Keyring>,
        keys: Arc<HashMap<i64, Arc<DataKey>>>,
        account_ids: Arc<Vec<AccountId>>,
        staff: HashMap<Role, StaffId>,
        first_request: i64,
        store: DynStore,
        rt: tokio::runtime::Handle,
    ) -> Sealer {
        Sealer {
            keyring,
            keys,
            account_ids,
            staff,
            first_request,
            store,
            rt,
            pool: IdPool { next: 0, end: 0 },
            tokens: HashMap::new(),
        }
    }

    fn staff_id(&self, role: Role) -> Option<StaffId> {
        self.staff.get(&role).copied()
    }

    fn subject_tokens(&mut self, subject: &str) -> Vec<String> {
        if let Some(t) = self.tokens.get(subject) {
            return t.clone();
        }
        let t = self.keyring.tokens(TokenScope::Subject, subject);
        if self.tokens.len() < 10_000 {
            self.tokens.insert(subject.to_owned(), t.clone());
        }
        t
    }

    /// Seals a batch: its requests first, then their entries (the entries refer to them).
    pub fn seal(&mut self, planned: &[Planned]) -> Result<SealedBatch> {
        let entry_count: usize = planned.iter().map(|p| p.entries.len()).sum();
        let mut next_entry = self.pool.take(entry_count, &self.store, &self.rt)?;
        let mut requests = Vec::with_capacity(planned.len());
        let mut entries = Vec::with_capacity(entry_count);
        let mut states = BTreeMap::new();
        for p in planned {
            let id = RequestId(self.first_request + i64::try_from(p.index).unwrap_or(0));
            let account = self.account_ids[p.account];
            let keys = Arc::clone(&self.keys);
            let key = keys
                .get(&account.0)
                .ok_or_else(|| DeskError::Internal("no data key for a demo account".into()))?;
            let (requester, requester_contact, requester_text) = match &p.requester {
                Requester::Contact(c) => (RequesterTag::Contact, Some(*c), None),
                Requester::Other(text) => (
                    RequesterTag::Other,
                    None,
                    Some(Keyring::seal_value(
                        key,
                        account,
                        "requests",
                        "requester_ct",
                        id.0,
                        text,
                    )),
                ),
                Requester::Staff => (RequesterTag::Staff, None, None),
            };
            let by = p.last_actor.label().to_owned();
            requests.push(Mutation::InsertRequest(Box::new(NewRequest {
                id,
                kind: p.kind,
                account,
                requester,
                requester_contact,
                requester_text,
                channel: p.channel,
                state: p.state,
                assignee: p.assignee.and_then(|r| self.staff_id(r)),
                received_at: p.received_at,
                due_at: p.due_at,
                subject: Some(Keyring::seal_value(
                    key,
                    account,
                    "requests",
                    "subject_ct",
                    id.0,
                    &p.subject,
                )),
                subject_tokens: self.subject_tokens(&p.subject),
                filed_by: self.staff_id(p.filed_by),
                prepared_by: p.prepared_by.and_then(|r| self.staff_id(r)),
                severity: p.severity,
                personal_data_leak: p.leak,
                identity_verified: p.identity_verified,
                by,
            })));
            for e in &p.entries {
                let eid = next_entry;
                next_entry += 1;
                entries.push(Mutation::InsertEntry(NewEntry {
                    id: eid,
                    request: id,
                    account,
                    at: e.at,
                    kind: e.kind,
                    author: author(e.author),
                    body: Keyring::seal_value(
                        key,
                        account,
                        "request_entries",
                        "body_ct",
                        eid,
                        &e.text,
                    ),
                }));
            }
            *states
                .entry((p.kind.as_str(), p.state.as_str()))
                .or_insert(0) += 1;
        }
        let (requests_n, entries_n) = (requests.len() as u64, entries.len() as u64);
        requests.extend(entries);
        Ok(SealedBatch {
            mutations: requests,
            requests: requests_n,
            entries: entries_n,
            states,
        })
    }
}

fn author(who: Who) -> String {
    who.label().to_owned()
}
