//! The PostgreSQL store, for several privdesk hosts sharing one desk.
//!
//! The audit chain stays one chain: an append locks the single `audit_head` row
//! (`SELECT … FOR UPDATE`), so appends from every host are serialised. Change notices
//! cross hosts by `NOTIFY privdesk_changes` inside each write transaction; a listener task
//! turns them into a refresh on every open screen, and after a lost connection asks for a
//! full refresh (a notice is a hint, never the data).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use tokio::sync::broadcast;

use crate::store::{Backend, ImportClaim, ImportHold, ImportStage};

type Db = sqlx::Postgres;
type DbStore = PgStore;
const BACKEND: Backend = Backend::Postgres;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const CHANNEL: &str = "privdesk_changes";

pub struct PgStore {
    pool: sqlx::PgPool,
    notices: broadcast::Sender<ChangeNotice>,
    seen_counter: Arc<AtomicI64>,
    watching: AtomicBool,
    stop: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    pub async fn connect(url: &str) -> Result<PgStore> {
        let opts: PgConnectOptions = url.parse().map_err(|e: sqlx::Error| {
            StoreError::Unavailable(format!(
                "bad PostgreSQL URL {}: {e}",
                crate::store::redact_url(url)
            ))
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("{}: {e}", crate::store::redact_url(url)))
            })?;
        let (notices, _) = broadcast::channel(256);
        Ok(PgStore {
            pool,
            notices,
            seen_counter: Arc::new(AtomicI64::new(-1)),
            watching: AtomicBool::new(false),
            stop: Arc::new(tokio::sync::Notify::new()),
        })
    }

    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    fn reader(&self) -> &sqlx::PgPool {
        &self.pool
    }

    fn writer(&self) -> &sqlx::PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Db>> {
        Ok(self.pool.begin().await?)
    }

    async fn run_migrations(&self) -> Result<()> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    async fn close_pools(&self) {
        self.stop.notify_waiters();
        self.pool.close().await;
    }

    async fn search_subject_tokens(
        &self,
        tokens: &[String],
        queues: &[Queue],
        limit: u32,
    ) -> Result<Vec<QueueRow>> {
        let codes: Vec<i64> = queues.iter().map(|q| i64::from(q.code())).collect();
        let sql = format!(
            "SELECT {QUEUE_COLUMNS}{QUEUE_FROM}WHERE r.subject_tokens @> $1 AND r.queue = ANY($2) \
             ORDER BY r.id DESC LIMIT $3"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tokens)
            .bind(&codes)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(queue_row_from_row)
            .collect()
    }

    /// Listens for `NOTIFY privdesk_changes` from every host; on a lost connection, asks
    /// every screen for a full refresh once it is back.
    fn start_watching(&self) {
        if self.watching.swap(true, Ordering::SeqCst) {
            return;
        }
        let pool = self.pool.clone();
        let seen = self.seen_counter.clone();
        let notices = self.notices.clone();
        let stop = self.stop.clone();
        tokio::spawn(async move {
            loop {
                let Ok(mut listener) = PgListener::connect_with(&pool).await else {
                    tokio::select! {
                        () = stop.notified() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                };
                if listener.listen(CHANNEL).await.is_err() {
                    continue;
                }
                // Anything may have happened while not listening.
                let _ = notices.send(ChangeNotice::Everything);
                loop {
                    let next = tokio::select! {
                        () = stop.notified() => return,
                        n = listener.try_recv() => n,
                    };
                    match next {
                        Ok(Some(n)) => {
                            let counter: i64 = n.payload().parse().unwrap_or(-1);
                            if seen.load(Ordering::SeqCst) != counter {
                                let _ = notices.send(ChangeNotice::Everything);
                            }
                        }
                        // The connection dropped: reconnect, then refresh fully.
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        });
    }
}

async fn lock_audit_head(tx: &mut Tx) -> Result<(i64, Vec<u8>)> {
    let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
        .fetch_one(&mut **tx)
        .await
        .map_err(|e| StoreError::AuditFailed(crate::store::map_db_error(e).to_string()))?;
    Ok((r.try_get("seq")?, r.try_get("hash")?))
}

async fn lock_request(tx: &mut Tx, id: RequestId) -> Result<(i64, bool, i64, i64, String, i64)> {
    let r = sqlx::query(
        "SELECT queue, is_open, due_at, version, updated_by, updated_at FROM requests WHERE id = $1 FOR UPDATE",
    )
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
    sqlx::query("UPDATE requests SET subject_tokens = $2 WHERE id = $1")
        .bind(id.0)
        .bind(tokens)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn unindex_subjects_of_account(tx: &mut Tx, account: AccountId) -> Result<()> {
    sqlx::query("UPDATE requests SET subject_tokens = '{}' WHERE account_id = $1")
        .bind(account.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn notify_in_tx(tx: &mut Tx, counter: i64) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(counter.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Serialises transactions on a key until they end (a transaction-scoped advisory lock).
async fn lock_key(tx: &mut Tx, key: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn lock_import_row(tx: &mut Tx, import: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT state FROM imports WHERE id = $1 FOR UPDATE")
            .bind(import)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// The session advisory lock of an import: `pdim` and its id.
fn import_lock_key(import: i64) -> i64 {
    0x7064_696d_0000_0000 | (import & 0xffff_ffff)
}

impl PgStore {
    async fn begin_import_inner(&self, now: i64) -> Result<ImportClaim> {
        // A connection of its own, out of the pool: its session holds the lock, and closes
        // (letting go) when the import ends or its process dies.
        let mut conn = self.pool.acquire().await?.detach();
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        let Some(id) = insert_import(&mut tx, now).await? else {
            drop(tx);
            return Err(self.another_import().await);
        };
        // A session lock taken inside the transaction outlives it; taken before the row is
        // committed, nobody sees the import unclaimed.
        let key = import_lock_key(id);
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ImportClaim {
            id,
            hold: ImportHold::Postgres { conn, key },
        })
    }

    async fn abandoned_imports_inner(&self) -> Result<Vec<(ImportClaim, ImportStage)>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM imports ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let mut out = vec![];
        for id in ids {
            let mut conn = self.pool.acquire().await?.detach();
            let key = import_lock_key(id);
            let free: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut conn)
                .await?;
            if !free {
                // Its process is alive.
                let _ = sqlx::Connection::close(conn).await;
                continue;
            }
            let claim = ImportClaim {
                id,
                hold: ImportHold::Postgres { conn, key },
            };
            match self.claimed_stage(id).await? {
                Some(stage) => out.push((claim, stage)),
                None => claim.release().await,
            }
        }
        Ok(out)
    }
}

include!("shared.rs");
include!("bulk.rs");
include!("imports.rs");
