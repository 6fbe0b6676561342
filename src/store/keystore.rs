//! The key store: wrapped per-account data keys and the wrapped blind-index key, kept apart
//! from the database (DESIGN.md principle 7): its own SQLite file next to the master key, or
//! its own PostgreSQL database. A copy of the database alone decrypts nothing; deleting an
//! account's row here makes every copy of its ciphertexts unreadable.
//!
//! The SQLite key store runs with `journal_mode = DELETE` and `secure_delete` on, so a
//! deleted key leaves no old page behind in the file or a lingering WAL.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Result, StoreError};

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/keystore-sqlite");
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/keystore-postgres");

/// What a wrapped key belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyOwner {
    /// The data key of one account.
    Account(i64),
    /// The desk's blind-index key (one; id 1).
    Index(i64),
}

impl KeyOwner {
    fn parts(self) -> (&'static str, i64) {
        match self {
            KeyOwner::Account(id) => ("account", id),
            KeyOwner::Index(id) => ("index", id),
        }
    }

    fn from_parts(kind: &str, id: i64) -> Result<KeyOwner> {
        match kind {
            "account" => Ok(KeyOwner::Account(id)),
            "index" => Ok(KeyOwner::Index(id)),
            other => Err(StoreError::Corrupt(format!(
                "unknown key kind {other:?} in the key store"
            ))),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub owner: KeyOwner,
    pub master_key_id: String,
    pub blob: Vec<u8>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("owner", &self.owner)
            .field("master_key_id", &self.master_key_id)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn migrate(&self) -> Result<()>;
    async fn meta(&self, key: &str) -> Result<Option<String>>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<()>;
    async fn get(&self, owner: KeyOwner) -> Result<Option<StoredKey>>;
    /// Stores a new key; refuses to overwrite one (a data key is created once).
    async fn insert(&self, key: &StoredKey) -> Result<()>;
    async fn insert_many(&self, keys: &[StoredKey]) -> Result<()>;
    /// Replaces a key's wrapping if it is still wrapped by `old_master`; false if not.
    async fn rewrap(&self, owner: KeyOwner, old_master: &str, new: &StoredKey) -> Result<bool>;
    /// Deletes a key for good (crypto-shredding). True if it was there.
    async fn delete(&self, owner: KeyOwner) -> Result<bool>;
    /// Deletes the data keys of the accounts in each inclusive range of ids (ids reserved by
    /// a failed import), in one transaction. Returns how many there were.
    async fn delete_account_ranges(&self, ranges: &[(i64, i64)]) -> Result<u64>;
    /// Keys in owner order after `after`, for paging through all of them.
    async fn page(&self, after: Option<KeyOwner>, limit: u32) -> Result<Vec<StoredKey>>;
    /// How many keys each master key wraps.
    async fn count_by_master(&self) -> Result<Vec<(String, u64)>>;
    async fn close(&self);
}

/// Opens the key store a URL names (`postgres://…`, or a SQLite path).
pub async fn open(url: &str, create: bool) -> Result<Box<dyn KeyStore>> {
    super::check_scheme(url)?;
    let ks: Box<dyn KeyStore> = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Box::new(PgKeyStore::connect(url).await?)
    } else {
        Box::new(SqliteKeyStore::open(&super::sqlite::path_of(url), create).await?)
    };
    if create {
        ks.migrate().await?;
    }
    Ok(ks)
}

pub struct SqliteKeyStore {
    pool: sqlx::SqlitePool,
    path: PathBuf,
}

impl SqliteKeyStore {
    pub async fn open(path: &Path, create: bool) -> Result<SqliteKeyStore> {
        if !create && !path.exists() {
            return Err(StoreError::Unavailable(format!(
                "the key store {} does not exist: run `privdesk init`, or restore it from its backup",
                path.display()
            )));
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Delete)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .pragma("secure_delete", "ON");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot open the key store {}: {e}",
                    path.display()
                ))
            })?;
        #[cfg(unix)]
        if create {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(SqliteKeyStore {
            pool,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

pub struct PgKeyStore {
    pool: sqlx::PgPool,
}

impl PgKeyStore {
    pub async fn connect(url: &str) -> Result<PgKeyStore> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("key store {}: {e}", super::redact_url(url)))
            })?;
        Ok(PgKeyStore { pool })
    }
}

macro_rules! key_store_impl {
    ($ty:ty, $migrator:expr, $after_delete:expr) => {
        #[async_trait]
        impl KeyStore for $ty {
            async fn migrate(&self) -> Result<()> {
                $migrator.run(&self.pool).await.map_err(|e| StoreError::Migrate(e.to_string()))
            }

            async fn meta(&self, key: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM keystore_meta WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
                sqlx::query(
                    "INSERT INTO keystore_meta (key, value) VALUES ($1, $2) \
                     ON CONFLICT (key) DO UPDATE SET value = $2",
                )
                .bind(key)
                .bind(value)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn get(&self, owner: KeyOwner) -> Result<Option<StoredKey>> {
                let (kind, id) = owner.parts();
                let row = sqlx::query(
                    "SELECT master_key_id, blob FROM wrapped_keys WHERE kind = $1 AND owner_id = $2",
                )
                .bind(kind)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|r| {
                    Ok(StoredKey { owner, master_key_id: r.try_get("master_key_id")?, blob: r.try_get("blob")? })
                })
                .transpose()
            }

            async fn insert(&self, key: &StoredKey) -> Result<()> {
                self.insert_many(std::slice::from_ref(key)).await
            }

            async fn insert_many(&self, keys: &[StoredKey]) -> Result<()> {
                let now = jiff::Timestamp::now().as_millisecond();
                let mut tx = self.pool.begin().await?;
                for key in keys {
                    let (kind, id) = key.owner.parts();
                    sqlx::query(
                        "INSERT INTO wrapped_keys (kind, owner_id, master_key_id, blob, created_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(kind)
                    .bind(id)
                    .bind(key.master_key_id.as_str())
                    .bind(key.blob.as_slice())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match super::map_db_error(e) {
                        StoreError::Conflict(_) => {
                            StoreError::Conflict(format!("the key store already holds a {kind} key {id}"))
                        }
                        other => other,
                    })?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn rewrap(&self, owner: KeyOwner, old_master: &str, new: &StoredKey) -> Result<bool> {
                let (kind, id) = owner.parts();
                let done = sqlx::query(
                    "UPDATE wrapped_keys SET master_key_id = $1, blob = $2 \
                     WHERE kind = $3 AND owner_id = $4 AND master_key_id = $5",
                )
                .bind(new.master_key_id.as_str())
                .bind(new.blob.as_slice())
                .bind(kind)
                .bind(id)
                .bind(old_master)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete(&self, owner: KeyOwner) -> Result<bool> {
                let (kind, id) = owner.parts();
                let done = sqlx::query("DELETE FROM wrapped_keys WHERE kind = $1 AND owner_id = $2")
                    .bind(kind)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                $after_delete(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_account_ranges(&self, ranges: &[(i64, i64)]) -> Result<u64> {
                if ranges.is_empty() {
                    return Ok(0);
                }
                let mut tx = self.pool.begin().await?;
                let mut n = 0;
                for (first, last) in ranges {
                    n += sqlx::query(
                        "DELETE FROM wrapped_keys WHERE kind = 'account' AND owner_id BETWEEN $1 AND $2",
                    )
                    .bind(*first)
                    .bind(*last)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                tx.commit().await?;
                if n > 0 {
                    $after_delete(&self.pool).await?;
                }
                Ok(n)
            }

            async fn page(&self, after: Option<KeyOwner>, limit: u32) -> Result<Vec<StoredKey>> {
                let (kind, id) = after.map_or(("", i64::MIN), KeyOwner::parts);
                let rows = sqlx::query(
                    "SELECT kind, owner_id, master_key_id, blob FROM wrapped_keys \
                     WHERE (kind, owner_id) > ($1, $2) ORDER BY kind, owner_id LIMIT $3",
                )
                .bind(kind)
                .bind(id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let kind: String = r.try_get("kind")?;
                        Ok(StoredKey {
                            owner: KeyOwner::from_parts(&kind, r.try_get("owner_id")?)?,
                            master_key_id: r.try_get("master_key_id")?,
                            blob: r.try_get("blob")?,
                        })
                    })
                    .collect()
            }

            async fn count_by_master(&self) -> Result<Vec<(String, u64)>> {
                let rows = sqlx::query(
                    "SELECT master_key_id, count(*) AS n FROM wrapped_keys GROUP BY master_key_id \
                     ORDER BY master_key_id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        let n: i64 = r.try_get("n")?;
                        Ok((r.try_get("master_key_id")?, u64::try_from(n).unwrap_or(0)))
                    })
                    .collect()
            }

            async fn close(&self) {
                self.pool.close().await;
            }
        }
    };
}

fn sqlite_after_delete(_pool: &sqlx::SqlitePool) -> futures::future::BoxFuture<'_, Result<()>> {
    // secure_delete already zeroed the freed cells; nothing else keeps the old page.
    Box::pin(async { Ok(()) })
}

fn pg_after_delete(pool: &sqlx::PgPool) -> futures::future::BoxFuture<'_, Result<()>> {
    // PostgreSQL keeps a deleted row as a dead tuple until vacuumed; rewrite the (small)
    // table so the old key is not left in its data files.
    Box::pin(async move {
        sqlx::query("VACUUM FULL wrapped_keys")
            .execute(pool)
            .await?;
        Ok(())
    })
}

key_store_impl!(SqliteKeyStore, SQLITE_MIGRATOR, sqlite_after_delete);
key_store_impl!(PgKeyStore, PG_MIGRATOR, pg_after_delete);
