//! Test desks on both backends, in temporary directories, with a clock the test controls.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use privdesk::config::{Config, Overrides};
use privdesk::desk::{Desk, ManualClock};
use privdesk::domain::calendar::Calendar;
use privdesk::domain::staff::{Actor, Role, Source, Staff};
use sqlx::Connection as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server tests create their databases on, e.g.
/// `postgres:///postgres?host=/var/run/postgresql`. Under `CI=true` it must be set.
pub fn pg_admin_url() -> Option<String> {
    let url = std::env::var("PRIVDESK_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    assert!(
        url.is_some() || !std::env::var("CI").is_ok_and(|v| v == "true"),
        "CI=true but PRIVDESK_TEST_PG_URL is not set: the PostgreSQL tests must run in CI"
    );
    url
}

/// The URL of database `name` on the test server.
pub fn pg_url(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, ""), |(b, q)| (b, q));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    if query.is_empty() {
        format!("{base}/{name}")
    } else {
        format!("{base}/{name}?{query}")
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        privdesk::crypto::random_token(6)
            .to_lowercase()
            .replace(['-', '_'], "x")
    )
}

/// Runs `f` once per backend available: always SQLite, PostgreSQL when configured.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let f = $body;
                f($crate::support::TestDesk::new($crate::support::Backend::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::support::pg_admin_url().is_none() {
                    eprintln!("PRIVDESK_TEST_PG_URL is not set: skipping the PostgreSQL run");
                    return;
                }
                let f = $body;
                f($crate::support::TestDesk::new($crate::support::Backend::Postgres).await).await;
            }
        }
    };
}

pub struct TestDesk {
    pub backend: Backend,
    pub desk: Desk,
    pub config: Config,
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub env: BTreeMap<String, String>,
    pg_databases: Vec<String>,
}

/// 2026-03-02 10:00 Moscow, a Monday.
pub fn monday_morning() -> jiff::Timestamp {
    "2026-03-02T07:00:00Z".parse().unwrap()
}

impl TestDesk {
    pub async fn new(backend: Backend) -> TestDesk {
        Self::with_demo(backend, false).await
    }

    pub async fn with_demo(backend: Backend, demo: bool) -> TestDesk {
        let dir = tempfile::tempdir().unwrap();
        let mut env = BTreeMap::new();
        env.insert("HOME".to_owned(), dir.path().display().to_string());
        env.insert(
            "XDG_DATA_HOME".to_owned(),
            dir.path().join("data").display().to_string(),
        );
        env.insert(
            "XDG_STATE_HOME".to_owned(),
            dir.path().join("state").display().to_string(),
        );
        env.insert(
            "XDG_CONFIG_HOME".to_owned(),
            dir.path().join("config").display().to_string(),
        );
        let mut pg_databases = vec![];
        if backend == Backend::Postgres {
            let admin = pg_admin_url().unwrap();
            let db = unique("privdesk_t");
            let keys = unique("privdesk_k");
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            for name in [&db, &keys] {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            conn.close().await.unwrap();
            env.insert("PRIVDESK_DATABASE_URL".to_owned(), pg_url(&admin, &db));
            env.insert("PRIVDESK_KEY_STORE_URL".to_owned(), pg_url(&admin, &keys));
            pg_databases = vec![db, keys];
        }
        let config = Config::load(&Overrides::default(), &env).unwrap();
        let actor = Actor::shell("tester");
        let clock = Arc::new(ManualClock::new(monday_morning()));
        let report = Desk::init_at(
            &config,
            Calendar::embedded().unwrap(),
            &actor,
            demo,
            clock.clone(),
        )
        .await
        .unwrap();
        let desk = report.desk;
        TestDesk {
            backend,
            desk,
            config,
            dir,
            clock,
            env,
            pg_databases,
        }
    }

    /// Opens the same desk again (a restart), reading the config as a new process would.
    pub async fn reopen(&self) -> Result<Desk, privdesk::desk::DeskError> {
        Ok(Desk::open(&self.config, Calendar::embedded().unwrap())
            .await?
            .with_clock(self.clock.clone()))
    }

    #[allow(clippy::unused_self)] // reads as `td.shell()` beside `td.staff(…)`
    pub fn shell(&self) -> Actor {
        Actor::shell("tester")
    }

    /// Adds a staff member with a known password and returns them acting locally.
    pub async fn staff(&self, login: &str, role: Role) -> (Staff, Actor) {
        let s = self
            .desk
            .add_staff(
                &self.shell(),
                login,
                login,
                role,
                None,
                privdesk::domain::personal::Secret::new("correct horse battery".to_owned()),
            )
            .await
            .unwrap();
        let actor = Actor::staff(&s, Source::Local);
        (s, actor)
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("data/privdesk/privdesk.db")
    }

    pub fn keys_path(&self) -> PathBuf {
        self.dir.path().join("data/privdesk/keys.db")
    }

    /// The PostgreSQL database URL of the desk (or the key store with `keys`).
    pub fn pg_url(&self, keys: bool) -> Option<String> {
        let admin = pg_admin_url()?;
        self.pg_databases
            .get(usize::from(keys))
            .map(|n| pg_url(&admin, n))
    }

    /// A raw connection to the desk's database (`keys`: the key store's), for what no user
    /// of the desk can do: tampering, inspecting the bytes at rest, installing triggers.
    pub async fn raw(&self, keys: bool) -> Raw {
        match self.backend {
            Backend::Sqlite => {
                let path = if keys {
                    self.keys_path()
                } else {
                    self.db_path()
                };
                let opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .busy_timeout(std::time::Duration::from_secs(10));
                Raw::Sqlite(sqlx::SqliteConnection::connect_with(&opts).await.unwrap())
            }
            Backend::Postgres => {
                let url = self.pg_url(keys).unwrap();
                Raw::Postgres(sqlx::PgConnection::connect(&url).await.unwrap())
            }
        }
    }

    /// Copies the desk's database (not the key store) as it is now, and returns the URL of
    /// the copy: a backup or replica an attacker might hold. SQLite: the WAL is checkpointed
    /// into the file first. PostgreSQL: a new database from the desk's as template (the
    /// desk's pool is closed for that and the desk reopened: a template must be idle).
    pub async fn copy_database(&mut self) -> String {
        match self.backend {
            Backend::Sqlite => {
                let mut raw = self.raw(false).await;
                raw.exec("PRAGMA wal_checkpoint(TRUNCATE)").await;
                raw.close().await;
                let copy = self.dir.path().join("copy-of-privdesk.db");
                std::fs::copy(self.db_path(), &copy).unwrap();
                let wal = self.db_path().with_extension("db-wal");
                if wal.exists() {
                    std::fs::copy(&wal, copy.with_extension("db-wal")).unwrap();
                }
                format!("sqlite://{}", copy.display())
            }
            Backend::Postgres => {
                let admin = pg_admin_url().unwrap();
                let name = unique("privdesk_c");
                self.desk.store().close().await;
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                let sql = format!("CREATE DATABASE {name} TEMPLATE {}", self.pg_databases[0]);
                // The closed pool's backends may take a moment to leave the template.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                loop {
                    match sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                        .execute(&mut conn)
                        .await
                    {
                        Ok(_) => break,
                        Err(e)
                            if std::time::Instant::now() < deadline
                                && e.to_string().contains("being accessed") =>
                        {
                            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        }
                        Err(e) => panic!("{sql}: {e}"),
                    }
                }
                conn.close().await.unwrap();
                self.pg_databases.push(name.clone());
                self.desk = self.reopen().await.unwrap();
                pg_url(&admin, &name)
            }
        }
    }

    /// The same desk's configuration with another database.
    pub fn config_with_database(&self, url: &str) -> Config {
        let mut c = self.config.clone();
        url.clone_into(&mut c.database_url);
        c
    }

    /// Drops the PostgreSQL databases of this test.
    pub async fn finish(self) {
        self.desk.store().close().await;
        if let Some(admin) = pg_admin_url() {
            let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else {
                return;
            };
            for name in &self.pg_databases {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await;
            }
        }
    }
}

/// A raw connection to a desk's database or key store.
pub enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// Runs the same expression on whichever connection a `Raw` holds.
macro_rules! on_raw {
    ($raw:expr, $c:ident => $e:expr) => {
        match $raw {
            Raw::Sqlite($c) => $e,
            Raw::Postgres($c) => $e,
        }
    };
}

impl Raw {
    pub async fn try_exec(&mut self, sql: &str) -> Result<u64, sqlx::Error> {
        Ok(
            on_raw!(self, c => sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(c).await?.rows_affected()),
        )
    }

    pub async fn exec(&mut self, sql: &str) -> u64 {
        self.try_exec(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The first column of every row, as text.
    pub async fn texts(&mut self, sql: &str) -> Vec<String> {
        on_raw!(self, c => sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(c).await)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn i64s(&mut self, sql: &str) -> Vec<i64> {
        on_raw!(self, c => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(c).await)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn i64(&mut self, sql: &str) -> i64 {
        self.i64s(sql).await[0]
    }

    pub async fn blobs(&mut self, sql: &str) -> Vec<Vec<u8>> {
        on_raw!(self, c => sqlx::query_scalar::<_, Vec<u8>>(sqlx::AssertSqlSafe(sql.to_owned())).fetch_all(c).await)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The names of the tables the desk created (not sqlx's bookkeeping).
    pub async fn tables(&mut self) -> Vec<String> {
        let sql = match self {
            Raw::Sqlite(_) => {
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Raw::Postgres(_) => {
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            }
        };
        self.texts(sql).await
    }

    /// Every row of every table as text (PostgreSQL only: `SELECT t::text`, which shows
    /// bytea as `\\x…` hex), each line prefixed with its table.
    pub async fn dump(&mut self) -> String {
        assert!(
            self.is_postgres(),
            "dump reads PostgreSQL rows; read a SQLite file's bytes instead"
        );
        let mut out = String::new();
        for t in self.tables().await {
            for row in self.texts(&format!("SELECT t::text FROM {t} t")).await {
                out.push_str(&t);
                out.push_str(": ");
                out.push_str(&row);
                out.push('\n');
            }
        }
        out
    }

    pub async fn close(self) {
        on_raw!(self, c => c.close().await.unwrap());
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Raw::Postgres(_))
    }
}
