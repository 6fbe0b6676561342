//! The shapes rows take going in and out of the store. Personal values are sealed bytes.

use jiff::Timestamp;

use crate::domain::account::{AccountFlags, AccountId, AccountKind, ContactId, LoginResult};
use crate::domain::request::{Channel, Queue, RequestId, RequestKind};
use crate::domain::staff::{Lang, Role, StaffId};
use crate::domain::view::EntryKind;
use crate::domain::workflow::State;

use super::audit::AuditDraft;

/// Tables whose ids the desk reserves before sealing rows for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdTable {
    Accounts,
    Contacts,
    AdminLogins,
    LoginHistory,
    ClientSessions,
    Requests,
    Entries,
    Verification,
}

impl IdTable {
    pub fn name(self) -> &'static str {
        match self {
            IdTable::Accounts => "accounts",
            IdTable::Contacts => "contacts",
            IdTable::AdminLogins => "admin_logins",
            IdTable::LoginHistory => "login_history",
            IdTable::ClientSessions => "client_sessions",
            IdTable::Requests => "requests",
            IdTable::Entries => "request_entries",
            IdTable::Verification => "verification_data",
        }
    }
}

/// The kind of a blind index row (HMAC of a normalised value).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexKindTag {
    Email,
    Phone,
    TaxId,
    ExternalId,
    ContactEmail,
    ContactPhone,
}

impl IndexKindTag {
    pub fn as_str(self) -> &'static str {
        match self {
            IndexKindTag::Email => "email",
            IndexKindTag::Phone => "phone",
            IndexKindTag::TaxId => "tax_id",
            IndexKindTag::ExternalId => "external_id",
            IndexKindTag::ContactEmail => "contact_email",
            IndexKindTag::ContactPhone => "contact_phone",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffRow {
    pub id: StaffId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub lang: Option<Lang>,
    /// argon2id PHC string. Never leaves the desk layer.
    pub password_hash: String,
    pub disabled: bool,
    pub failed_attempts: u32,
    pub locked_until: Option<Timestamp>,
    pub last_login_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// Demo logins exist only in demo databases.
    pub demo: bool,
    /// Bumped whenever a live session must end (disabled, role changed, key removed).
    pub generation: i64,
    pub key_count: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffKeyRow {
    pub id: i64,
    pub staff_id: StaffId,
    pub algorithm: String,
    /// The key in OpenSSH one-line form without the comment.
    pub public_key: String,
    pub fingerprint: String,
    pub comment: String,
    pub added_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRow {
    pub id: AccountId,
    pub kind: AccountKind,
    pub flags: AccountFlags,
    pub erased_at: Option<Timestamp>,
    pub name: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
    pub postal_address: Option<Vec<u8>>,
    pub tax_id: Option<Vec<u8>>,
    pub admin_login_count: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRow {
    pub id: ContactId,
    pub account: AccountId,
    pub name: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
    /// The sealed argon2id hash of the normalised passphrase.
    pub passphrase: Option<Vec<u8>>,
    pub has_email: bool,
    pub has_phone: bool,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginRow {
    pub id: i64,
    pub account: AccountId,
    pub at: Timestamp,
    pub source: Vec<u8>,
    pub result: LoginResult,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub id: i64,
    pub account: AccountId,
    pub started_at: Timestamp,
    pub source: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequesterTag {
    Contact,
    Other,
    Staff,
}

impl RequesterTag {
    pub fn as_str(self) -> &'static str {
        match self {
            RequesterTag::Contact => "contact",
            RequesterTag::Other => "other",
            RequesterTag::Staff => "staff",
        }
    }

    pub fn parse(s: &str) -> Option<RequesterTag> {
        match s {
            "contact" => Some(RequesterTag::Contact),
            "other" => Some(RequesterTag::Other),
            "staff" => Some(RequesterTag::Staff),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRow {
    pub id: RequestId,
    pub kind: RequestKind,
    pub account: AccountId,
    pub requester: RequesterTag,
    pub requester_contact: Option<ContactId>,
    /// Sealed free-text description of a requester who is not a designated contact.
    pub requester_text: Option<Vec<u8>>,
    pub channel: Channel,
    pub state: State,
    pub assignee: Option<StaffId>,
    pub assignee_login: Option<String>,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub version: i64,
    pub subject: Option<Vec<u8>>,
    pub filed_by: Option<StaffId>,
    pub prepared_by: Option<StaffId>,
    pub prepared_by_login: Option<String>,
    pub severity: Option<u8>,
    pub personal_data_leak: Option<bool>,
    pub identity_verified: bool,
    pub extended: bool,
    pub updated_at: Timestamp,
    pub updated_by: String,
    /// The account's sealed name and kind, joined for list pages.
    pub account_name: Option<Vec<u8>>,
    pub account_kind: AccountKind,
    pub account_blocked: bool,
    pub account_erased: bool,
}

/// One row of a queue page or a search: only what a list shows, so a page carries no
/// subject or requester ciphertext and decodes a dozen columns, not thirty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueRow {
    pub id: RequestId,
    pub kind: RequestKind,
    pub account: AccountId,
    pub state: State,
    pub assignee_login: Option<String>,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub version: i64,
    /// The account's sealed name, kind and flags.
    pub account_name: Option<Vec<u8>>,
    pub account_kind: AccountKind,
    pub account_blocked: bool,
    pub account_erased: bool,
}

impl From<&RequestRow> for QueueRow {
    fn from(r: &RequestRow) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            account: r.account,
            state: r.state,
            assignee_login: r.assignee_login.clone(),
            received_at: r.received_at,
            due_at: r.due_at,
            version: r.version,
            account_name: r.account_name.clone(),
            account_kind: r.account_kind,
            account_blocked: r.account_blocked,
            account_erased: r.account_erased,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    pub id: i64,
    pub request: RequestId,
    pub account: AccountId,
    pub at: Timestamp,
    pub kind: EntryKind,
    pub author: String,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationRow {
    pub id: i64,
    pub request: RequestId,
    pub account: AccountId,
    pub label: String,
    pub value: Vec<u8>,
    pub value_index: Vec<u8>,
    pub created_at: Timestamp,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountCounts {
    pub total: u64,
    pub locked: u64,
    pub blocked: u64,
    pub erased: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueCount {
    pub queue: Queue,
    pub open: u64,
    pub overdue: u64,
}

/// Where a page starts: after (or before) this row in (due, id) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub due_at: Timestamp,
    pub id: RequestId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Rows after the cursor, ascending by (due, id); from the start without a cursor.
    Forward,
    /// Rows before the cursor, returned descending; from the end without a cursor.
    Backward,
}

/// A keyset page of one queue (DESIGN.md: never loading a queue whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub queue: Queue,
    /// `None`: open requests only; `Some(state)`: that state (closed ones too).
    pub state: Option<State>,
    pub assignee: Option<StaffId>,
    pub unassigned: bool,
    /// Only requests due before this instant (overdue).
    pub due_before: Option<Timestamp>,
    /// Only requests filed by this staff member.
    pub filed_by: Option<StaffId>,
    pub cursor: Option<Cursor>,
    pub direction: Direction,
    pub limit: u32,
}

impl ListQuery {
    pub fn first_page(queue: Queue, limit: u32) -> ListQuery {
        ListQuery {
            queue,
            state: None,
            assignee: None,
            unassigned: false,
            due_before: None,
            filed_by: None,
            cursor: None,
            direction: Direction::Forward,
            limit,
        }
    }
}

/// Where an import stands ([`super::Store::begin_import`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportStage {
    /// Batches are landing; nothing of them is visible yet.
    Writing,
    /// It failed (or its process died): what it wrote is being removed.
    Discarding,
    /// Its final step committed: only the rows its replacements superseded remain to sweep.
    Sweeping,
}

impl ImportStage {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStage::Writing => "writing",
            ImportStage::Discarding => "discarding",
            ImportStage::Sweeping => "sweeping",
        }
    }

    pub fn parse(s: &str) -> Option<ImportStage> {
        match s {
            "writing" => Some(ImportStage::Writing),
            "discarding" => Some(ImportStage::Discarding),
            "sweeping" => Some(ImportStage::Sweeping),
            _ => None,
        }
    }
}

/// How many accounts an import's final step must make visible: the counts its batches
/// wrote. A different count means some of them were removed meanwhile (an erasure of a
/// replaced account, or a cleanup that took the import for dead), and the step is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub inserted: u64,
    pub replaced: u64,
}

/// A process's claim on an import: held by the importing process while it runs, or by the
/// process cleaning up after one that died. An import nobody holds is abandoned, and the
/// next start of privdesk finishes it (discards it, or sweeps it if its final step
/// committed). SQLite: an exclusive `flock` on a file beside the database (the kernel lets
/// go when the process dies). PostgreSQL: a session advisory lock on a connection of its
/// own (the server lets go when the session ends).
pub struct ImportClaim {
    pub(crate) id: i64,
    pub(crate) hold: ImportHold,
}

pub(crate) enum ImportHold {
    File {
        file: std::fs::File,
        path: std::path::PathBuf,
    },
    Postgres {
        conn: sqlx::PgConnection,
        key: i64,
    },
}

impl std::fmt::Debug for ImportClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportClaim")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl ImportClaim {
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Lets go: the import is over (or cleaned up), or it failed and what is left of it is
    /// for the next start to remove.
    pub async fn release(self) {
        match self.hold {
            ImportHold::File { file, path } => {
                // Removed while still locked: a process that opened it meanwhile finds the
                // import gone once it gets the lock.
                let _ = std::fs::remove_file(&path);
                drop(file);
            }
            ImportHold::Postgres { mut conn, key } => {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut conn)
                    .await;
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    }

    /// Lets go as a crash would (test builds): the lock ends, and everything the import
    /// wrote stays for the next start to find.
    #[cfg(any(test, feature = "fault-injection"))]
    pub async fn abandon(self) {
        match self.hold {
            ImportHold::File { file, .. } => drop(file),
            ImportHold::Postgres { mut conn, key } => {
                // Ending the session would release the lock too, but only once the server
                // notices; unlocking first makes the next start see it at once.
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .execute(&mut conn)
                    .await;
                let _ = sqlx::Connection::close(conn).await;
            }
        }
    }
}

/// One transaction: mutations, then audit records.
#[derive(Debug, Default)]
pub struct Commit {
    pub mutations: Vec<Mutation>,
    pub audit: Vec<AuditDraft>,
}

impl Commit {
    pub fn audit_only(draft: AuditDraft) -> Commit {
        Commit {
            mutations: vec![],
            audit: vec![draft],
        }
    }
}

#[derive(Debug, Default)]
pub struct CommitOutcome {
    /// The requests after an `UpdateRequest` or `InsertRequest`, in mutation order.
    pub requests: Vec<RequestRow>,
    pub staff_ids: Vec<StaffId>,
    pub key_ids: Vec<i64>,
    /// Sequence numbers of the audit records written.
    pub audit_seqs: Vec<i64>,
}

/// A limit counted inside the transaction that would exceed it: records of `action` with
/// outcome `done` by `actor` (or on `request`) since `since`. Concurrent transactions with
/// the same key are serialised, so two sessions cannot both take the last allowed one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitGuard {
    pub key: String,
    pub action: String,
    pub actor: Option<String>,
    pub request: Option<RequestId>,
    pub since: Option<Timestamp>,
    pub max: u64,
}

#[derive(Debug)]
pub enum Mutation {
    /// Refuses the whole commit ([`super::StoreError::LimitReached`]) when the limit is
    /// already reached. Put it first.
    Guard(LimitGuard),
    InsertStaff(NewStaff),
    UpdateStaff {
        id: StaffId,
        change: StaffChange,
    },
    AddStaffKey(NewStaffKey),
    RemoveStaffKey {
        staff: StaffId,
        fingerprint: String,
    },
    InsertAccount(Box<NewAccount>),
    /// Replaces the sealed personal fields and indexes of an account (import `--update`).
    ReplaceAccount(Box<NewAccount>),
    SetAccountFlags {
        id: AccountId,
        locked: Option<bool>,
        blocked: Option<bool>,
    },
    EndClientSessions {
        account: AccountId,
    },
    InsertRequest(Box<NewRequest>),
    UpdateRequest {
        id: RequestId,
        expected_version: i64,
        change: RequestChange,
        by: String,
    },
    InsertEntry(NewEntry),
    InsertVerification(NewVerification),
    PurgeVerification {
        request: RequestId,
    },
    /// Tombstone an account: drop its sealed values, indexes, tokens, contacts, free text
    /// and verification data, and mark its data key doomed (deleted from the key store next).
    EraseAccount {
        id: AccountId,
    },
    SetMeta {
        key: String,
        value: String,
    },
    /// A notice for supervisors.
    InsertNotice(NewNotice),
    /// Acknowledges a notice; refused if it was acknowledged already.
    AckNotice {
        id: i64,
        by: String,
    },
}

#[derive(Debug, Clone)]
pub struct NewNotice {
    /// When it happened, by the desk's clock (like the audit record beside it).
    pub at: Timestamp,
    /// `reveal_limit`, `check_limit`, … (the screens translate it).
    pub kind: String,
    /// The staff member concerned.
    pub staff: Option<String>,
    pub request: Option<RequestId>,
    /// Non-personal detail (counts, limits).
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeRow {
    pub id: i64,
    pub at: Timestamp,
    pub kind: String,
    pub staff: Option<String>,
    pub request: Option<RequestId>,
    pub detail: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewStaff {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub lang: Option<Lang>,
    pub password_hash: String,
    pub demo: bool,
}

#[derive(Debug, Clone, Default)]
pub struct StaffChange {
    pub role: Option<Role>,
    pub lang: Option<Option<Lang>>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
    pub failed_attempts: Option<u32>,
    pub locked_until: Option<Option<Timestamp>>,
    pub last_login_at: Option<Timestamp>,
    /// Ends the member's live sessions.
    pub bump_generation: bool,
    /// Applies the change only if the failed-login count is still this (a compare-and-set:
    /// login attempts made at the same time must each count towards the lock-out); if it
    /// moved meanwhile, the commit is refused as stale and the caller counts again.
    pub expected_failed_attempts: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct NewStaffKey {
    pub staff: StaffId,
    pub algorithm: String,
    pub public_key: String,
    pub fingerprint: String,
    pub comment: String,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: AccountId,
    pub kind: AccountKind,
    pub flags: AccountFlags,
    pub name: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
    pub postal_address: Option<Vec<u8>>,
    pub tax_id: Option<Vec<u8>>,
    pub indexes: Vec<(IndexKindTag, Vec<u8>)>,
    pub tokens: Vec<String>,
    pub admin_logins: Vec<(i64, Vec<u8>)>,
    pub contacts: Vec<NewContact>,
    pub login_history: Vec<LoginRow>,
    pub sessions: Vec<SessionRow>,
}

#[derive(Debug, Clone)]
pub struct NewContact {
    pub id: ContactId,
    pub name: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
    pub passphrase: Option<Vec<u8>>,
    pub has_email: bool,
    pub has_phone: bool,
}

#[derive(Debug, Clone)]
pub struct NewRequest {
    pub id: RequestId,
    pub kind: RequestKind,
    pub account: AccountId,
    pub requester: RequesterTag,
    pub requester_contact: Option<ContactId>,
    pub requester_text: Option<Vec<u8>>,
    pub channel: Channel,
    pub state: State,
    pub assignee: Option<StaffId>,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub subject: Option<Vec<u8>>,
    pub subject_tokens: Vec<String>,
    pub filed_by: Option<StaffId>,
    pub prepared_by: Option<StaffId>,
    pub severity: Option<u8>,
    pub personal_data_leak: Option<bool>,
    pub identity_verified: bool,
    pub by: String,
}

/// Fields an update sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct RequestChange {
    pub state: Option<State>,
    pub assignee: Option<Option<StaffId>>,
    pub prepared_by: Option<Option<StaffId>>,
    pub severity: Option<u8>,
    pub personal_data_leak: Option<bool>,
    pub identity_verified: Option<bool>,
    pub extended: Option<bool>,
    pub due_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewEntry {
    pub id: i64,
    pub request: RequestId,
    pub account: AccountId,
    pub at: Timestamp,
    pub kind: EntryKind,
    pub author: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct NewVerification {
    pub id: i64,
    pub request: RequestId,
    pub account: AccountId,
    pub label: String,
    pub value: Vec<u8>,
    pub value_index: Vec<u8>,
}
