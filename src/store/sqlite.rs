//! The embedded SQLite store: one file, WAL, `synchronous = FULL`, `secure_delete` on.
//!
//! Reads use a small pool; writes use one connection and `BEGIN IMMEDIATE`, so a write
//! transaction holds the database's write lock from its first statement (no upgrade
//! deadlocks between processes) and the audit chain is appended by one writer at a time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::broadcast;

use crate::store::{Backend, ImportClaim, ImportHold, ImportStage};

type Db = sqlx::Sqlite;
type DbStore = SqliteStore;
const BACKEND: Backend = Backend::Sqlite;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The file a `sqlite://` URL (or a bare path) names.
pub fn path_of(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

pub struct SqliteStore {
    read: sqlx::SqlitePool,
    write: sqlx::SqlitePool,
    path: PathBuf,
    notices: broadcast::Sender<ChangeNotice>,
    seen_counter: Arc<AtomicI64>,
    watching: AtomicBool,
    stop: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

pub(crate) fn connect_options(path: &Path, create: bool) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("secure_delete", "ON")
}

impl SqliteStore {
    /// Opens (creating if asked) the database file at `path`.
    pub async fn open(path: &Path, create: bool) -> Result<SqliteStore> {
        if create && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create the directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        let opts = connect_options(path, create);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.read_only(false))
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
        #[cfg(unix)]
        if create {
            use std::os::unix::fs::PermissionsExt as _;
            // Ciphertext only, but still nobody else's business.
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        let (notices, _) = broadcast::channel(256);
        Ok(SqliteStore {
            read,
            write,
            path: path.to_owned(),
            notices,
            seen_counter: Arc::new(AtomicI64::new(-1)),
            watching: AtomicBool::new(false),
            stop: Arc::new(tokio::sync::Notify::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn reader(&self) -> &sqlx::SqlitePool {
        &self.read
    }

    fn writer(&self) -> &sqlx::SqlitePool {
        &self.write
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>> {
        Ok(self.write.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn run_migrations(&self) -> Result<()> {
        MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    async fn close_pools(&self) {
        self.stop.notify_waiters();
        self.read.close().await;
        self.write.close().await;
    }

    async fn search_subject_tokens(
        &self,
        tokens: &[String],
        queues: &[Queue],
        limit: u32,
    ) -> Result<Vec<QueueRow>> {
        // Tokens are lower-case hex words; quoting each makes the MATCH an AND of exact terms.
        let matcher = tokens
            .iter()
            .filter(|t| t.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" AND ");
        if matcher.is_empty() {
            return Ok(vec![]);
        }
        // The word index drives the join (CROSS JOIN fixes the order), newest match first in
        // the index's own rowid order, so the LIMIT stops the scan: otherwise SQLite walks a
        // queue's requests and runs the MATCH once per request (seconds at a million).
        let mut q = sqlx::QueryBuilder::<Db>::new(format!(
            "SELECT {QUEUE_COLUMNS} FROM subject_index s CROSS JOIN requests r ON r.id = s.rowid \
             JOIN accounts a ON a.id = r.account_id LEFT JOIN staff sa ON sa.id = r.assignee_id \
             WHERE subject_index MATCH "
        ));
        q.push_bind(matcher).push(" AND r.queue IN (");
        let mut sep = q.separated(", ");
        for queue in queues {
            sep.push_bind(i64::from(queue.code()));
        }
        q.push(") ORDER BY s.rowid DESC LIMIT ")
            .push_bind(i64::from(limit));
        q.build()
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(queue_row_from_row)
            .collect()
    }

    /// SQLite has no notifications across processes: poll the change counter, and tell
    /// this process's screens to refresh when another process moved it.
    fn start_watching(&self) {
        if self.watching.swap(true, Ordering::SeqCst) {
            return;
        }
        let read = self.read.clone();
        let seen = self.seen_counter.clone();
        let notices = self.notices.clone();
        let stop = self.stop.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    () = stop.notified() => break,
                    _ = tick.tick() => {}
                }
                let Ok(counter) =
                    sqlx::query_scalar::<_, i64>("SELECT counter FROM changes WHERE id = 1")
                        .fetch_one(&read)
                        .await
                else {
                    continue;
                };
                let before = seen.swap(counter, Ordering::SeqCst);
                if before >= 0 && counter != before {
                    let _ = notices.send(ChangeNotice::Everything);
                }
            }
        });
    }
}

async fn lock_audit_head(tx: &mut Tx) -> Result<(i64, Vec<u8>)> {
    // BEGIN IMMEDIATE already holds the write lock: appends are serialised.
    let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| StoreError::AuditFailed(crate::store::map_db_error(e).to_string()))?;
    Ok((r.try_get("seq")?, r.try_get("hash")?))
}

/// (queue, is_open, due_at, version, updated_by, updated_at) of a request, for an update.
async fn lock_request(tx: &mut Tx, id: RequestId) -> Result<(i64, bool, i64, i64, String, i64)> {
    let r = sqlx::query("SELECT queue, is_open, due_at, version, updated_by, updated_at FROM requests WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound { what: "request", id: id.to_string() })?;
    Ok((
        r.try_get("queue")?,
        r.try_get("is_open")?,
        r.try_get("due_at")?,
        r.try_get("version")?,
        r.try_get("updated_by")?,
        r.try_get("updated_at")?,
    ))
}

async fn index_subject(tx: &mut Tx, id: RequestId, tokens: &[String]) -> Result<()> {
    sqlx::query("INSERT INTO subject_index (rowid, tokens) VALUES ($1, $2)")
        .bind(id.0)
        .bind(tokens.join(" "))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn unindex_subjects_of_account(tx: &mut Tx, account: AccountId) -> Result<()> {
    sqlx::query(
        "DELETE FROM subject_index WHERE rowid IN (SELECT id FROM requests WHERE account_id = $1)",
    )
    .bind(account.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[allow(clippy::unused_async)] // the PostgreSQL twin awaits; both are called alike
async fn notify_in_tx(_tx: &mut Tx, _counter: i64) -> Result<()> {
    Ok(())
}

/// Serialises transactions on a key until they end: `BEGIN IMMEDIATE` already serialises
/// every write transaction.
#[allow(clippy::unused_async)] // the PostgreSQL twin awaits; both are called alike
async fn lock_key(_tx: &mut Tx, _key: &str) -> Result<()> {
    Ok(())
}

/// Locks an import's row and reads its state: `BEGIN IMMEDIATE` already holds the write lock.
async fn lock_import_row(tx: &mut Tx, import: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT state FROM imports WHERE id = $1")
            .bind(import)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// Opens (creating) an import's lock file and takes its exclusive lock, if free.
fn try_lock_file(path: &Path) -> Result<Option<std::fs::File>> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let cannot = |e: &std::io::Error| {
        StoreError::Unavailable(format!(
            "cannot lock {}: {e}; privdesk needs to create files beside its database",
            path.display()
        ))
    };
    let file = opts.open(path).map_err(|e| cannot(&e))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(cannot(&e)),
    }
}

impl SqliteStore {
    /// The file an import's process keeps locked while it runs: `privdesk.db-import-7.lock`.
    fn import_lock_path(&self, import: i64) -> PathBuf {
        let name = self.path.file_name().map_or_else(
            || "privdesk.db".into(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.path
            .with_file_name(format!("{name}-import-{import}.lock"))
    }

    async fn begin_import_inner(&self, now: i64) -> Result<ImportClaim> {
        let mut tx = self.begin_write().await?;
        let Some(id) = insert_import(&mut tx, now).await? else {
            drop(tx);
            return Err(self.another_import().await);
        };
        // Locked before the row is committed: nobody sees the import unclaimed.
        let path = self.import_lock_path(id);
        let file = try_lock_file(&path)?.ok_or_else(|| {
            StoreError::Conflict(format!(
                "{} is locked by another process: remove it if no privdesk runs",
                path.display()
            ))
        })?;
        tx.commit().await?;
        Ok(ImportClaim {
            id,
            hold: ImportHold::File { file, path },
        })
    }

    async fn abandoned_imports_inner(&self) -> Result<Vec<(ImportClaim, ImportStage)>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM imports ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        let mut out = vec![];
        for id in ids {
            let path = self.import_lock_path(id);
            // Locked: its process is alive.
            let Some(file) = try_lock_file(&path)? else {
                continue;
            };
            let claim = ImportClaim {
                id,
                hold: ImportHold::File { file, path },
            };
            match self.claimed_stage(id).await? {
                Some(stage) => out.push((claim, stage)),
                // It ended between the look and the lock.
                None => claim.release().await,
            }
        }
        Ok(out)
    }
}

include!("shared.rs");
include!("bulk.rs");
include!("imports.rs");
