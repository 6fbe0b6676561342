//! `privdesk demo`: a desk of its own, full of realistic invented data.
//!
//! The demo lives in a directory of its own (default `$XDG_DATA_HOME/privdesk/demo/`) with
//! its own master key, key store and database, marked as a demo database so that its staff
//! logins (`agent`, `oncall`, `supervisor`, `auditor`, `admin`, password `demo`) work there
//! and nowhere else. It never touches the production database: a directory whose database
//! is not marked demo is refused.
//!
//! The data is reproducible from `--seed`: every account and every request is drawn from
//! its own random stream (`rng::Rng::stream`), so the same seed, counts and clock give the
//! same plaintext (ciphertexts differ: nonces are random). Accounts are sealed like an
//! import (`Desk::seal_accounts`); requests walk their state machines (`plan`); erased
//! accounts go through the real crypto-shredding path (`Desk::erase_account`).
//!
//! Cost: designated-contact passphrases are argon2id hashes (~15 ms and 19 MiB each), so the
//! demo hashes a pool of eight passphrases once ("demo passphrase one" … "eight") and gives
//! each contact with a passphrase one of them; a million requests are written with the
//! store's bulk path in transactions of a few thousand requests.

mod accounts;
mod digest;
mod generate;
mod names;
mod plan;
mod requests;
mod rng;
mod texts;
mod walk;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::desk::{Desk, DeskError, Result};
use crate::domain::calendar::Calendar;
use crate::domain::staff::{Actor, Role, StaffId};
use crate::store::{AccountCounts, QueueCount};

pub use digest::content_digest;
pub use texts::{COMMON_WORD, RARE_WORD};

/// Requests per bulk transaction.
const REQUEST_BATCH: u64 = 4_000;
/// Accounts per bulk transaction.
const ACCOUNT_BATCH: u64 = 1_000;

pub const DEFAULT_SEED: u64 = 1;
pub const DEFAULT_ACCOUNTS: u32 = 200;
pub const DEFAULT_REQUESTS: u32 = 500;

const PASSPHRASES: [&str; 8] = [
    "demo passphrase one",
    "demo passphrase two",
    "demo passphrase three",
    "demo passphrase four",
    "Демо кодовое слово пять",
    "Демо кодовое слово шесть",
    "Демо кодовое слово семь",
    "Демо кодовое слово восемь",
];

/// What `privdesk demo` was asked for. `None`: the default, or what an existing demo holds.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    pub seed: Option<u64>,
    pub accounts: Option<u32>,
    pub requests: Option<u32>,
    /// The demo's "now" (default: the current time); requests are received before it.
    pub now: Option<Timestamp>,
    /// The demo directory (default: `demo/` in the data directory).
    pub dir: Option<PathBuf>,
    /// Delete an existing demo in the directory and build it again.
    pub fresh: bool,
    /// An OpenSSH public key to register for every demo staff member.
    pub ssh_key: Option<String>,
    /// PostgreSQL (database, key store) URLs instead of SQLite files in the directory (which
    /// then holds only the master key): for measuring the store on PostgreSQL. Both must be
    /// empty databases, or hold this demo.
    pub postgres: Option<(String, String)>,
}

/// What a demo was generated with (kept in the demo database).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoParams {
    pub seed: u64,
    pub accounts: u32,
    pub requests: u32,
    pub at: Timestamp,
}

/// What the generator wrote.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DemoStats {
    pub accounts: u64,
    pub requests: u64,
    pub entries: u64,
    pub erased: u64,
    /// kind → state → requests.
    pub states: BTreeMap<String, BTreeMap<String, u64>>,
    pub seconds: f64,
}

/// What the demo database holds now.
#[derive(Clone, Debug)]
pub struct DemoHoldings {
    pub accounts: AccountCounts,
    pub queues: Vec<QueueCount>,
    pub stats: Option<DemoStats>,
    /// Demo staff logins (login = role) and how many SSH keys each has.
    pub staff: Vec<(String, Role, u32)>,
}

/// A ready demo desk: what the CLI prints and what the TUI needs to open it.
pub struct DemoDesk {
    /// The demo's configuration: `Desk::open(&config, calendar)` opens it again.
    pub config: Config,
    pub dir: PathBuf,
    pub desk: Desk,
    /// Generated now (false: an existing demo was reused).
    pub created: bool,
    pub params: DemoParams,
    pub holdings: DemoHoldings,
    /// What `--ssh-key` did, when given.
    pub ssh_key: Option<KeyOutcome>,
}

impl std::fmt::Debug for DemoDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoDesk")
            .field("dir", &self.dir)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// Progress of a long generation (the CLI draws a bar; tests pass [`NoProgress`]).
pub trait Progress: Send + Sync {
    fn stage(&self, name: &str, total: u64);
    fn advance(&self, n: u64);
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// The default demo directory: `demo/` in the data directory.
pub fn default_dir(base: &Config) -> PathBuf {
    base.data_dir.join("demo")
}

/// The configuration of the demo in `dir`: its own database, key store and master key
/// file (named explicitly, so `PRIVDESK_MASTER_KEY` of a production desk never applies).
pub fn demo_config(base: &Config, dir: &Path) -> Config {
    let mut c = base.clone();
    c.database_url = format!("sqlite://{}", dir.join("privdesk.db").display());
    c.key_store_url = format!("sqlite://{}", dir.join("keys.db").display());
    c.master_key_file = dir.join("master.key");
    c.master_key_file_explicit = true;
    c
}

const DEMO_FILES: [&str; 8] = [
    "privdesk.db",
    "privdesk.db-wal",
    "privdesk.db-shm",
    "keys.db",
    "keys.db-journal",
    "keys.db-wal",
    "keys.db-shm",
    "master.key",
];

/// Whether the database in `dir` is a demo database (`None`: there is none).
async fn is_demo_dir(dir: &Path) -> Result<Option<bool>> {
    let db = dir.join("privdesk.db");
    if !db.exists() {
        return Ok(None);
    }
    let store = crate::store::sqlite::SqliteStore::open(&db, false).await?;
    let demo = crate::store::Store::meta(&store, "demo")
        .await
        .ok()
        .flatten();
    crate::store::Store::close(&store).await;
    Ok(Some(demo.as_deref() == Some("true")))
}

/// Whether a database (any URL) is a demo database (`None`: not initialised).
async fn is_demo_database(url: &str) -> Result<Option<bool>> {
    let store = crate::store::open(url, false).await?;
    let desk_id = store.meta("desk_id").await.ok().flatten();
    let demo = store.meta("demo").await.ok().flatten();
    store.close().await;
    Ok(desk_id.map(|_| demo.as_deref() == Some("true")))
}

/// Deletes a demo's files (only a demo's: checked by the caller).
fn remove_demo_files(dir: &Path) -> Result<()> {
    for f in DEMO_FILES {
        let p = dir.join(f);
        if p.exists() {
            std::fs::remove_file(&p)
                .map_err(|e| DeskError::Setup(format!("cannot remove {}: {e}", p.display())))?;
        }
    }
    Ok(())
}

fn meta_json<T: for<'de> Deserialize<'de>>(v: Option<String>) -> Option<T> {
    v.and_then(|s| serde_json::from_str(&s).ok())
}

/// Creates the demo desk, or reuses the one already in its directory, and makes sure its
/// staff logins (and `ssh_key`) are there. Returns what opening it on a screen needs.
pub async fn prepare_demo(
    base: &Config,
    calendar: Calendar,
    actor: &Actor,
    opts: &DemoOptions,
    progress: &dyn Progress,
) -> Result<DemoDesk> {
    let dir = opts.dir.clone().unwrap_or_else(|| default_dir(base));
    let mut config = demo_config(base, &dir);
    let on_pg = opts.postgres.is_some();
    if let Some((db, keys)) = &opts.postgres {
        config.database_url.clone_from(db);
        config.key_store_url.clone_from(keys);
        if opts.fresh {
            return Err(DeskError::Invalid(
                "--fresh cannot empty PostgreSQL databases: drop and create them again instead"
                    .into(),
            ));
        }
        if is_demo_database(db).await? == Some(false) {
            return Err(DeskError::Setup(format!(
                "{} is not a demo database: privdesk demo never touches it",
                crate::store::redact_url(db)
            )));
        }
    }
    match if on_pg {
        Ok(None)
    } else {
        is_demo_dir(&dir).await
    }? {
        Some(false) => {
            return Err(DeskError::Setup(format!(
                "{} holds a database that is not a demo: privdesk demo never touches it; choose another \
                 directory with --data-dir",
                dir.display()
            )));
        }
        Some(true) if opts.fresh => remove_demo_files(&dir)?,
        _ => {}
    }
    if !on_pg && dir.join("privdesk.db").exists() && !dir.join("master.key").exists() {
        return Err(DeskError::Setup(format!(
            "the demo in {} lost its master key: rebuild it with --fresh",
            dir.display()
        )));
    }
    let mut desk = Desk::init(&config, calendar.clone(), actor, true)
        .await?
        .desk;
    let stored: Option<DemoParams> = meta_json(desk.store().meta("demo.params").await?);
    let (params, created) = if let Some(p) = stored {
        let differs = opts.seed.is_some_and(|s| s != p.seed)
            || opts.accounts.is_some_and(|a| a != p.accounts)
            || opts.requests.is_some_and(|r| r != p.requests);
        if differs {
            return Err(DeskError::Invalid(format!(
                "the demo in {} was made with --seed {} --accounts {} --requests {}; add --fresh to \
                 rebuild it with the new values",
                dir.display(),
                p.seed,
                p.accounts,
                p.requests
            )));
        }
        (p, false)
    } else {
        if desk.store().account_count().await?.total > 0 {
            // An earlier generation was interrupted: start again from nothing.
            if on_pg {
                return Err(DeskError::Setup(
                    "an earlier demo generation in these PostgreSQL databases was interrupted: drop and \
                     create them again"
                        .into(),
                ));
            }
            tracing::warn!("an interrupted demo generation was found; rebuilding the demo");
            desk.store().close().await;
            drop(desk);
            remove_demo_files(&dir)?;
            desk = Desk::init(&config, calendar, actor, true).await?.desk;
        }
        let params = DemoParams {
            seed: opts.seed.unwrap_or(DEFAULT_SEED),
            accounts: opts.accounts.unwrap_or(DEFAULT_ACCOUNTS).max(1),
            requests: opts.requests.unwrap_or(DEFAULT_REQUESTS),
            at: opts.now.unwrap_or_else(Timestamp::now),
        };
        generate::generate(&desk, actor, &params, progress).await?;
        (params, true)
    };
    ensure_staff(&desk, actor).await?;
    let ssh_key = match &opts.ssh_key {
        Some(k) => Some(register_key(&desk, actor, k).await?),
        None => None,
    };
    let holdings = holdings(&desk, params.at).await?;
    Ok(DemoDesk {
        config,
        dir,
        desk,
        created,
        params,
        holdings,
        ssh_key,
    })
}

/// The demo staff, one per role (login = role name, password `demo`).
async fn ensure_staff(desk: &Desk, actor: &Actor) -> Result<HashMap<Role, StaffId>> {
    let mut out = HashMap::new();
    for role in Role::ALL {
        let id = match desk.store().staff_by_login(role.as_str()).await? {
            Some(row) => row.id,
            None => desk.add_demo_staff(actor, role).await?.id,
        };
        out.insert(role, id);
    }
    Ok(out)
}

/// What `--ssh-key` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyOutcome {
    pub fingerprint: String,
    /// Demo staff who hold the key now (registered now or before).
    pub holders: Vec<Role>,
    /// Demo staff it could not be registered for (none, unless the database was changed
    /// by hand: in a demo database the demo logins may share a key).
    pub refused: Vec<Role>,
}

/// Registers `key` for every demo staff member (demo logins of a demo database may share
/// a key; real staff may not).
async fn register_key(desk: &Desk, actor: &Actor, key: &str) -> Result<KeyOutcome> {
    let parsed = crate::desk::staff::parse_public_key(key)?;
    let mut out = KeyOutcome {
        fingerprint: parsed.fingerprint.clone(),
        ..KeyOutcome::default()
    };
    let mut order = vec![];
    for role in Role::ALL {
        let held = desk.staff_keys(actor, role.as_str()).await?;
        if held.iter().any(|k| k.fingerprint == parsed.fingerprint) {
            out.holders.push(role);
        } else {
            order.push((!held.is_empty(), role));
        }
    }
    order.sort_by_key(|(has_keys, _)| *has_keys);
    for (_, role) in order {
        match desk.add_staff_key(actor, role.as_str(), key).await {
            Ok(_) => out.holders.push(role),
            Err(DeskError::Store(crate::store::StoreError::Conflict(_))) => out.refused.push(role),
            Err(e) => return Err(e),
        }
    }
    out.holders.sort();
    out.refused.sort();
    Ok(out)
}

/// What the demo database holds, counted now.
pub async fn holdings(desk: &Desk, now: Timestamp) -> Result<DemoHoldings> {
    let store = desk.store();
    let mut staff = vec![];
    for row in store.list_staff().await? {
        if row.demo {
            staff.push((row.login.clone(), row.role, row.key_count));
        }
    }
    staff.sort_by_key(|(_, role, _)| *role);
    Ok(DemoHoldings {
        accounts: store.account_count().await?,
        queues: store.queue_counts(now.max(Timestamp::now())).await?,
        stats: meta_json(store.meta("demo.stats").await?),
        staff,
    })
}
