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
    let url = std::env::var("PRIVDESK_TEST_PG_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true but PRIVDESK_TEST_PG_URL is not set: the PostgreSQL tests must run in CI");
    }
    url
}

/// The URL of database `name` on the test server.
pub fn pg_url(admin: &str, name: &str) -> String {
    let (base, query) = admin.split_once('?').map_or((admin, ""), |(b, q)| (b, q));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    if query.is_empty() { format!("{base}/{name}") } else { format!("{base}/{name}?{query}") }
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), privdesk::crypto::random_token(6).to_lowercase().replace(['-', '_'], "x"))
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
        env.insert("XDG_DATA_HOME".to_owned(), dir.path().join("data").display().to_string());
        env.insert("XDG_STATE_HOME".to_owned(), dir.path().join("state").display().to_string());
        env.insert("XDG_CONFIG_HOME".to_owned(), dir.path().join("config").display().to_string());
        let mut pg_databases = vec![];
        if backend == Backend::Postgres {
            let admin = pg_admin_url().unwrap();
            let db = unique("privdesk_t");
            let keys = unique("privdesk_k");
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            for name in [&db, &keys] {
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
            }
            conn.close().await.unwrap();
            env.insert("PRIVDESK_DATABASE_URL".to_owned(), pg_url(&admin, &db));
            env.insert("PRIVDESK_KEY_STORE_URL".to_owned(), pg_url(&admin, &keys));
            pg_databases = vec![db, keys];
        }
        let config = Config::load(&Overrides::default(), &env).unwrap();
        let actor = Actor::shell("tester");
        let report = Desk::init(&config, Calendar::embedded().unwrap(), &actor, demo).await.unwrap();
        let clock = Arc::new(ManualClock::new(monday_morning()));
        let desk = report.desk.with_clock(clock.clone());
        TestDesk { backend, desk, config, dir, clock, env, pg_databases }
    }

    /// Opens the same desk again (a restart), reading the config as a new process would.
    pub async fn reopen(&self) -> Result<Desk, privdesk::desk::DeskError> {
        Ok(Desk::open(&self.config, Calendar::embedded().unwrap()).await?.with_clock(self.clock.clone()))
    }

    pub fn shell(&self) -> Actor {
        Actor::shell("tester")
    }

    /// Adds a staff member with a known password and returns them acting locally.
    pub async fn staff(&self, login: &str, role: Role) -> (Staff, Actor) {
        let s = self
            .desk
            .add_staff(&self.shell(), login, login, role, None, privdesk::domain::personal::Secret::new("correct horse battery".to_owned()))
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
        self.pg_databases.get(usize::from(keys)).map(|n| pg_url(&admin, n))
    }

    /// Drops the PostgreSQL databases of this test.
    pub async fn finish(self) {
        self.desk.store().close().await;
        if let Some(admin) = pg_admin_url() {
            let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else { return };
            for name in &self.pg_databases {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await;
            }
        }
    }
}
