//! The store: the only code with SQL (DESIGN.md, "Data flow").
//!
//! A [`Store`] holds sealed rows: ciphertexts, blind indexes and keyed tokens, never a
//! plaintext personal value, and it knows no policy. Two native implementations share the
//! trait and one test suite: [`sqlite`] (the embedded default) and [`postgres`] (several
//! hosts sharing one desk). Every write goes through [`Store::commit`]: its mutations and
//! its audit records commit in one transaction or not at all (DESIGN.md principle 2).

pub mod audit;
pub mod keystore;
pub mod postgres;
pub mod sqlite;
mod types;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use tokio::sync::broadcast;

pub use audit::{
    AuditDraft, AuditFilter, AuditHead, AuditRecord, AuditVerdict, ChainReport, CheckpointMismatch,
};
pub use types::*;

use crate::domain::account::AccountId;
use crate::domain::request::{Queue, RequestId};
use crate::domain::staff::StaffId;

/// Why a store call failed. Messages carry ids and table names, never personal values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error(
        "{what} {id} was changed by {changed_by} at {changed_at} since you loaded it \
         (now version {version}); nothing was overwritten: look at the new state and try again"
    )]
    Stale {
        what: &'static str,
        id: String,
        changed_by: String,
        changed_at: Timestamp,
        version: i64,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("the database cannot be reached: {0}")]
    Unavailable(String),
    #[error("the database holds a value privdesk cannot read: {0}")]
    Corrupt(String),
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(String),
    #[error("the audit record could not be written, so nothing was done: {0}")]
    AuditFailed(String),
    #[error("database error: {0}")]
    Database(String),
    /// A [`LimitGuard`] found its limit reached inside the transaction: nothing was done.
    #[error("the limit of {max} was reached; nothing was done")]
    LimitReached { max: u64 },
}

impl StoreError {
    /// A fault worth retrying: the connection went away, the database restarted.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Maps a driver error to a store error. The driver's message names constraints and
/// tables; PostgreSQL's `detail` (which may quote a value) is deliberately not used.
#[allow(clippy::needless_pass_by_value)] // used as `map_err(map_db_error)`
pub(crate) fn map_db_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            // PostgreSQL: 57P01 admin shutdown (pg_terminate_backend), 08xxx connection.
            if code.starts_with("08") || code == "57P01" || code == "57P02" || code == "57P03" {
                StoreError::Unavailable(db.message().to_owned())
            } else if db.is_unique_violation() {
                StoreError::Conflict(format!("already exists ({})", db.message()))
            } else {
                StoreError::Database(db.message().to_owned())
            }
        }
        sqlx::Error::RowNotFound => StoreError::NotFound {
            what: "row",
            id: String::new(),
        },
        _ => StoreError::Database(e.to_string()),
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        map_db_error(e)
    }
}

/// Which engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A notice that something changed; a hint to refresh, never the data itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeNotice {
    /// Requests changed (ids), or were created.
    Requests(Vec<RequestId>),
    Accounts(Vec<AccountId>),
    Staff(Vec<StaffId>),
    Audit,
    Notices,
    /// Something changed that this process did not see in detail (another process, or a
    /// reconnect): refresh everything on screen.
    Everything,
}

#[async_trait]
pub trait Store: Send + Sync {
    fn backend(&self) -> Backend;

    /// Applies the schema migrations this build knows.
    async fn migrate(&self) -> Result<()>;

    async fn meta(&self, key: &str) -> Result<Option<String>>;

    /// Reserves `n` consecutive ids of `table` for rows about to be sealed (the id is part
    /// of every ciphertext's associated data). Returns the first.
    async fn reserve_ids(&self, table: IdTable, n: u32) -> Result<i64>;

    // Staff.
    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffRow>>;
    async fn staff_by_id(&self, id: StaffId) -> Result<Option<StaffRow>>;
    async fn list_staff(&self) -> Result<Vec<StaffRow>>;
    async fn staff_keys(&self, id: StaffId) -> Result<Vec<StaffKeyRow>>;
    /// Every registration of a key (one per staff member holding it).
    async fn staff_keys_by_fingerprint(&self, fingerprint: &str) -> Result<Vec<StaffKeyRow>>;

    // Accounts.
    async fn account(&self, id: AccountId) -> Result<Option<AccountRow>>;
    async fn accounts_by_ids(&self, ids: &[AccountId]) -> Result<Vec<AccountRow>>;
    async fn contacts(&self, account: AccountId) -> Result<Vec<ContactRow>>;
    async fn contact(&self, id: i64) -> Result<Option<ContactRow>>;
    async fn login_history(&self, account: AccountId, limit: u32) -> Result<Vec<LoginRow>>;
    async fn client_sessions(&self, account: AccountId) -> Result<Vec<SessionRow>>;
    async fn admin_login_count(&self, account: AccountId) -> Result<u32>;
    async fn accounts_by_index(&self, kind: IndexKindTag, hash: &[u8]) -> Result<Vec<AccountId>>;
    /// Accounts holding every token (exact words of account and contact names).
    async fn accounts_by_tokens(&self, tokens: &[String], limit: u32) -> Result<Vec<AccountId>>;
    async fn account_count(&self) -> Result<AccountCounts>;

    // Requests.
    async fn request(&self, id: RequestId) -> Result<Option<RequestRow>>;
    async fn list_requests(&self, query: &ListQuery) -> Result<Vec<QueueRow>>;
    async fn queue_counts(&self, now: Timestamp) -> Result<Vec<QueueCount>>;
    /// Requests whose subject holds every token, newest first.
    async fn search_subjects(
        &self,
        tokens: &[String],
        queues: &[Queue],
        limit: u32,
    ) -> Result<Vec<QueueRow>>;
    async fn requests_of_account(&self, account: AccountId) -> Result<Vec<RequestRow>>;
    async fn entries(&self, request: RequestId) -> Result<Vec<EntryRow>>;
    async fn verification_items(&self, request: RequestId) -> Result<Vec<VerificationRow>>;

    /// Applies every mutation and appends every audit record in one transaction.
    async fn commit(&self, commit: Commit) -> Result<CommitOutcome>;

    // Audit.
    async fn audit_head(&self) -> Result<AuditHead>;
    async fn audit_records(&self, filter: &AuditFilter, limit: u32) -> Result<Vec<AuditRecord>>;
    /// Recomputes the whole chain from the first record.
    async fn verify_audit(&self) -> Result<ChainReport>;
    /// Checks the records appended after an intact report: a screen that verified the
    /// chain once keeps it current without reading millions of records on every change.
    async fn verify_audit_after(&self, intact: &ChainReport) -> Result<ChainReport>;

    /// [`Store::verify_audit`], then, if the chain is intact, compares it with a
    /// checkpoint printed earlier by `privdesk audit checkpoint`: records removed from the
    /// end together with the head, or a chain rebuilt from an earlier record, show only
    /// against a checkpoint kept off-host.
    async fn verify_audit_against(&self, checkpoint: Option<&AuditHead>) -> Result<AuditVerdict> {
        let chain = self.verify_audit().await?;
        let checkpoint = match checkpoint {
            Some(cp) if chain.is_intact() => {
                let at = if cp.seq > 0 && cp.seq <= chain.head.seq {
                    let filter = AuditFilter {
                        after_seq: Some(cp.seq - 1),
                        ..AuditFilter::default()
                    };
                    self.audit_records(&filter, 1).await?.into_iter().next()
                } else {
                    None
                };
                audit::compare_checkpoint(cp, chain.head.seq, at.as_ref())
            }
            _ => None,
        };
        Ok(AuditVerdict { chain, checkpoint })
    }

    /// How many audit records match (rate limits: reveals per hour, checks per request).
    async fn audit_count(&self, filter: &AuditFilter) -> Result<u64>;

    // Supervisor notices.
    /// Notices, newest first; only those not yet acknowledged when `open_only`.
    async fn notices(&self, open_only: bool, limit: u32) -> Result<Vec<NoticeRow>>;

    // Erasure bookkeeping (crypto-shredding, DESIGN.md principle 7).
    async fn doomed_keys(&self) -> Result<Vec<AccountId>>;
    async fn forget_doomed(&self, account: AccountId) -> Result<()>;

    // Change notices.
    /// A counter bumped by every commit, in any process.
    async fn change_counter(&self) -> Result<i64>;
    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice>;
    /// Starts watching for changes made by other processes or hosts (SQLite: polling the
    /// counter; PostgreSQL: LISTEN/NOTIFY). Needs a tokio runtime.
    fn watch_changes(&self);

    /// Bulk path for demo data: many rows, few transactions, one audit record
    /// per batch. Same semantics as `commit`.
    async fn commit_bulk(&self, commit: Commit) -> Result<CommitOutcome> {
        self.commit(commit).await
    }

    // Imports in short transactions (desk/import; the states in `ImportStage`).
    /// Registers a new import and claims it. Refused (`Conflict`) while another one runs:
    /// one import at a time.
    async fn begin_import(&self, now: Timestamp) -> Result<ImportClaim>;
    /// Imports nobody holds (their process died), each claimed now for its cleanup, with
    /// its stage.
    async fn abandoned_imports(&self) -> Result<Vec<(ImportClaim, ImportStage)>>;
    /// Reserves `n` account ids for an import and records them with it in the same
    /// transaction, before their data keys are made: a failure destroys those keys.
    async fn reserve_import_accounts(&self, import: i64, n: u32) -> Result<i64>;
    /// Writes one batch of an import in one short transaction: `new` accounts invisible
    /// until the final step, and the new rows of the accounts `replacing` replaces staged
    /// beside their current ones. Returns how long the transaction held the write lock.
    async fn write_import_batch(
        &self,
        import: i64,
        new: &[NewAccount],
        replacing: &[NewAccount],
    ) -> Result<std::time::Duration>;
    /// The final step, one short transaction with the audit records: every batch becomes
    /// visible at once, or (counts that do not match what was written) nothing does. Its
    /// work does not grow with the new accounts (the import's state decides whether its
    /// marked accounts are visible), only with the replaced ones.
    async fn finish_import(
        &self,
        import: i64,
        counts: ImportCounts,
        audit: Vec<AuditDraft>,
    ) -> Result<std::time::Duration>;
    /// After the final step: clears the marks of up to `limit` new accounts, or removes the
    /// rows the replacements superseded for that many, in one short transaction; once none is
    /// left, forgets the import in the same transaction. Returns whether it is done.
    async fn sweep_import(&self, import: i64, limit: u32) -> Result<(bool, std::time::Duration)>;
    /// A failed import: marks it discarding (no batch or final step of it is accepted from
    /// then on), then removes up to `limit` of its pending accounts and staged replacements
    /// with their rows, in one short transaction. Returns how many it removed (0: none is
    /// left). Refused for an import whose final step committed.
    async fn discard_import(&self, import: i64, limit: u32) -> Result<(u64, std::time::Duration)>;
    /// The account ids an import reserved, as (first, count) runs.
    async fn import_ranges(&self, import: i64) -> Result<Vec<(i64, i64)>>;
    /// Forgets a discarded import (its reserved ids and its row), once its rows are gone
    /// and the keys of its reserved ids destroyed.
    async fn forget_import(&self, import: i64) -> Result<()>;

    async fn close(&self);
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store a database URL names: `sqlite://PATH` (or a bare path) or
/// `postgres://…`. Applies migrations when `migrate` is set.
pub async fn open(url: &str, migrate: bool) -> Result<DynStore> {
    check_scheme(url)?;
    let store: DynStore = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Arc::new(postgres::PgStore::connect(url).await?)
    } else {
        Arc::new(sqlite::SqliteStore::open(&sqlite::path_of(url), true).await?)
    };
    if migrate {
        store.migrate().await?;
    }
    Ok(store)
}

/// Refuses a URL of an engine privdesk does not speak (rather than taking it for a path).
pub fn check_scheme(url: &str) -> Result<()> {
    match url.split_once("://").map(|(scheme, _)| scheme) {
        None | Some("sqlite" | "postgres" | "postgresql") => Ok(()),
        Some(other) => Err(StoreError::Unavailable(format!(
            "{other}:// is not a database privdesk can use: give sqlite://PATH (or a path) or postgres://…"
        ))),
    }
}

/// A database URL with any password removed, for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_passwords() {
        assert_eq!(
            redact_url("postgres://desk:s3cret@db:5432/x"),
            "postgres://desk:***@db:5432/x"
        );
        assert_eq!(
            redact_url("postgres:///x?host=/run"),
            "postgres:///x?host=/run"
        );
        assert_eq!(redact_url("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }
}
