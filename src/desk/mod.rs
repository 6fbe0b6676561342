//! The desk: every operation staff perform. Each takes an authenticated [`Actor`], asks the
//! policy (`domain::policy`), runs one store transaction together with its audit record,
//! and lets the store's change notice reach every open screen. The screens (tui) and the
//! server (ssh) reach data only through here: views built by `domain::view`, never rows.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod demo;
pub mod import;
pub mod keyring;
pub mod notices;
pub mod requests;
pub mod reveal;
pub mod staff;
pub mod work;

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::Semaphore;

use crate::config::{Config, Limits};
use crate::crypto::CryptoError;
use crate::domain::account::AccountId;
use crate::domain::calendar::Calendar;
use crate::domain::deadline::{DeadlineError, Deadlines};
use crate::domain::personal::Secret;
use crate::domain::policy::{self, Action};
use crate::domain::staff::{Actor, Principal, Role};
use crate::domain::workflow::TransitionError;
use crate::store::{self, AuditDraft, Commit, DynStore, Mutation, StoreError};

/// Which audit records to list.
pub use crate::store::AuditFilter;
/// An audit record, as the audit screens list it.
pub use crate::store::AuditRecord;
/// What the screens are told when something changed (a hint to refresh).
pub use crate::store::ChangeNotice;
/// A notice for supervisors.
pub use crate::store::NoticeRow as Notice;
pub use keyring::Keyring;

/// The time, passed in so tests control it.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock tests move by hand.
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }

    pub fn advance(&self, by: jiff::SignedDuration) {
        if let Ok(mut t) = self.0.lock() {
            *t = t.checked_add(by).unwrap_or(*t);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.lock().map_or_else(|_| Timestamp::now(), |t| *t)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error("not allowed: {0}")]
    Denied(String),
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Deadline(#[from] DeadlineError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error("{0}")]
    Setup(String),
    #[error(
        "account {0} was erased: its data key is destroyed and its personal data cannot be read"
    )]
    KeyDestroyed(AccountId),
    #[error(
        "a value of account {account} ({what}) does not decrypt: the database was altered or belongs \
         to another desk"
    )]
    Undecryptable {
        account: AccountId,
        what: &'static str,
    },
    #[error("internal error: {0}")]
    Internal(String),
    /// An import that failed part-way; `note` says what became of what it had written.
    #[error("the import stopped and nothing of it was imported{note}: {cause}")]
    ImportFailed {
        cause: Box<DeskError>,
        note: &'static str,
    },
    /// The import's final step committed, but its answer did not arrive (a connection lost
    /// at that moment): the accounts are in the desk.
    #[error(
        "the import finished (its accounts are in the desk), but the connection failed as it ended: {cause}; \
         what it replaced is tidied at the next start of privdesk"
    )]
    ImportFinishedUnconfirmed { cause: Box<DeskError> },
}

impl DeskError {
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DeskError::Store(e) if e.is_unavailable())
    }

    pub fn is_stale(&self) -> bool {
        matches!(self, DeskError::Store(StoreError::Stale { .. }))
    }
}

pub type Result<T, E = DeskError> = std::result::Result<T, E>;

/// What the desk needs besides its store and keyring.
#[derive(Clone, Debug)]
pub struct Rules {
    pub calendar: Arc<Calendar>,
    pub tz: TimeZone,
    pub deadlines: Deadlines,
    pub limits: Limits,
}

impl Rules {
    pub fn from_config(config: &Config, calendar: Calendar) -> Rules {
        Rules {
            calendar: Arc::new(calendar),
            tz: config.time_zone.clone(),
            deadlines: config.deadlines.clone(),
            limits: config.limits.clone(),
        }
    }
}

pub struct Desk {
    store: DynStore,
    keys: Arc<Keyring>,
    rules: Rules,
    clock: Arc<dyn Clock>,
    hashing: Arc<Semaphore>,
    /// The last intact verification of the audit chain, which refreshes of an open audit
    /// screen continue from.
    audit_verified: std::sync::Mutex<Option<crate::store::audit::ChainReport>>,
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").finish_non_exhaustive()
    }
}

/// Parallel argon2 hashes at most (each takes 19 MiB and a core for ~15 ms).
const HASHING_SLOTS: usize = 2;

impl Desk {
    pub fn new(store: DynStore, keys: Arc<Keyring>, rules: Rules, clock: Arc<dyn Clock>) -> Desk {
        Desk {
            store,
            keys,
            rules,
            clock,
            hashing: Arc::new(Semaphore::new(HASHING_SLOTS)),
            audit_verified: std::sync::Mutex::new(None),
        }
    }

    /// Opens an initialised desk: the keyring first (a wrong master key stops here, having
    /// written nothing), then the database, checked to belong with the key store; then any
    /// key doomed by an interrupted erasure is destroyed, and any import whose process died
    /// is finished (removed, with the keys it made, or swept if it had committed).
    pub async fn open(config: &Config, calendar: Calendar) -> Result<Desk> {
        store::check_scheme(&config.database_url)?;
        store::check_scheme(&config.key_store_url)?;
        let source = keyring::master_key_source(
            config
                .master_key_file_explicit
                .then_some(config.master_key_file.as_path()),
            config.master_key_file.clone(),
        )?;
        let keystore = store::keystore::open(&config.key_store_url, false).await?;
        let keys = Keyring::open(source, keystore).await?;
        let store = store::open(&config.database_url, false).await?;
        let desk_id = store.meta("desk_id").await.ok().flatten();
        match desk_id {
            Some(id) if id == keys.desk_id() => {}
            Some(_) => {
                return Err(DeskError::Setup(
                    "the database and the key store belong to different desks: check database_url and \
                     key_store_url"
                        .to_owned(),
                ));
            }
            None => {
                return Err(DeskError::Setup(format!(
                    "the database {} is not initialised: run `privdesk init`",
                    store::redact_url(&config.database_url)
                )));
            }
        }
        store.migrate().await?;
        let desk = Desk::new(
            store,
            Arc::new(keys),
            Rules::from_config(config, calendar),
            Arc::new(SystemClock),
        );
        desk.destroy_doomed_keys().await?;
        // What an interrupted import wrote is invisible; failing to clean it up now must not
        // keep the desk from starting (the next start, or the next import, tries again).
        if let Err(e) = desk.clean_abandoned_imports().await {
            tracing::warn!(error = %e, "an interrupted import could not be cleaned up at start");
        }
        Ok(desk)
    }

    /// The same desk reading time from `clock` (tests).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Desk {
        Desk { clock, ..self }
    }

    /// Notices of changes made by any session, process or host.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ChangeNotice> {
        self.store.subscribe()
    }

    /// Re-reads the master key file (`SIGHUP` during a rolling key rotation).
    pub fn reload_master_key(&self) -> Result<()> {
        self.keys.reload_master()?;
        tracing::info!("master key file re-read");
        Ok(())
    }

    /// Re-reads the master key whenever the process receives `SIGHUP` (until the runtime
    /// ends). A failure is logged and the keys in use stay.
    pub fn reload_master_key_on_sighup(self: &Arc<Self>) {
        let desk = Arc::downgrade(self);
        tokio::spawn(async move {
            let Ok(mut hup) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            else {
                return;
            };
            while hup.recv().await.is_some() {
                let Some(desk) = desk.upgrade() else { break };
                if let Err(e) = desk.reload_master_key() {
                    tracing::warn!(error = %e, "could not re-read the master key; the keys in use stay");
                }
            }
        });
    }

    /// Starts watching for changes made by other processes or hosts.
    pub fn watch_changes(&self) {
        self.store.watch_changes();
    }

    pub fn store(&self) -> &DynStore {
        &self.store
    }

    pub fn keys(&self) -> &Arc<Keyring> {
        &self.keys
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Finishes erasures a crash interrupted: keys marked doomed in the database are
    /// deleted from the key store.
    pub async fn destroy_doomed_keys(&self) -> Result<usize> {
        let doomed = self.store.doomed_keys().await?;
        for account in &doomed {
            self.keys.destroy(*account).await?;
            self.store.forget_doomed(*account).await?;
            tracing::info!(account = %account, "destroyed the data key of an erased account");
        }
        Ok(doomed.len())
    }

    /// Hashes a password off the async threads, a few at a time.
    pub async fn hash_password(&self, password: Secret<String>) -> Result<String> {
        let _slot = self
            .hashing
            .acquire()
            .await
            .map_err(|_| DeskError::Internal("hashing closed".into()))?;
        tokio::task::spawn_blocking(move || {
            crate::crypto::hash_password(password.expose().as_bytes())
        })
        .await
        .map_err(|e| DeskError::Internal(format!("hashing task failed: {e}")))?
        .map_err(DeskError::from)
    }

    /// Checks a password against a PHC hash off the async threads.
    pub async fn check_password(&self, password: Secret<String>, phc: String) -> Result<bool> {
        let _slot = self
            .hashing
            .acquire()
            .await
            .map_err(|_| DeskError::Internal("hashing closed".into()))?;
        tokio::task::spawn_blocking(move || {
            crate::crypto::verify_password(password.expose().as_bytes(), &phc)
        })
        .await
        .map_err(|e| DeskError::Internal(format!("hashing task failed: {e}")))?
        .map_err(DeskError::from)
    }

    /// Commits mutations with their audit record.
    pub async fn commit(
        &self,
        mutations: Vec<Mutation>,
        audit: AuditDraft,
    ) -> Result<store::CommitOutcome> {
        Ok(self
            .store
            .commit(Commit {
                mutations,
                audit: vec![audit],
            })
            .await?)
    }

    pub fn audit(&self, actor: &Actor, action: &str) -> AuditDraft {
        AuditDraft::new(actor, action, self.now())
    }
}

/// The role of a staff actor allowed `action`, or why not.
pub fn require(actor: &Actor, action: Action) -> Result<Role> {
    match &actor.principal {
        Principal::Staff { role, .. } if policy::allows(*role, action) => Ok(*role),
        Principal::Staff { role, .. } => Err(DeskError::Denied(format!(
            "the {role} role may not {}",
            action.name().replace('_', " ")
        ))),
        Principal::Shell { .. } => Err(DeskError::Denied(
            "this operation needs a staff member's session, not the command line".to_owned(),
        )),
        Principal::System if action == Action::System => Ok(Role::Supervisor),
        Principal::System => Err(DeskError::Denied(
            "the desk itself may not do this".to_owned(),
        )),
    }
}

/// Administration from the command line (shell access is admin trust) or by an admin.
pub fn require_admin(actor: &Actor) -> Result<()> {
    match &actor.principal {
        Principal::Shell { .. } => Ok(()),
        Principal::Staff { role, .. } if policy::allows(*role, Action::ManageStaff) => Ok(()),
        _ => Err(DeskError::Denied(
            "only an admin may manage staff accounts".to_owned(),
        )),
    }
}

/// Reading the audit log from the command line, or by a supervisor or auditor.
pub fn require_audit_reader(actor: &Actor) -> Result<()> {
    match &actor.principal {
        Principal::Shell { .. } => Ok(()),
        Principal::Staff { role, .. } if policy::allows(*role, Action::ReadAudit) => Ok(()),
        _ => Err(DeskError::Denied(
            "only a supervisor or an auditor may read the audit log".to_owned(),
        )),
    }
}

/// What `privdesk init` did.
#[derive(Debug)]
pub struct InitReport {
    /// The master key file created now, if one was.
    pub key_file_created: Option<std::path::PathBuf>,
    pub key_source: String,
    pub already_initialised: bool,
    pub desk: Desk,
}

impl Desk {
    /// Initialises a desk (or opens one already initialised): creates the master key file
    /// when there is none, the key store with its index key, the database schema, and pairs
    /// the database with the key store. `demo` marks a demo database (demo logins work only
    /// there).
    pub async fn init(
        config: &Config,
        calendar: Calendar,
        actor: &Actor,
        demo: bool,
    ) -> Result<InitReport> {
        Self::init_at(config, calendar, actor, demo, Arc::new(SystemClock)).await
    }

    /// [`Desk::init`] reading time from `clock` (tests and reproducible demos).
    pub async fn init_at(
        config: &Config,
        calendar: Calendar,
        actor: &Actor,
        demo: bool,
        clock: Arc<dyn Clock>,
    ) -> Result<InitReport> {
        store::check_scheme(&config.database_url)?;
        store::check_scheme(&config.key_store_url)?;
        let source = keyring::master_key_source(
            config
                .master_key_file_explicit
                .then_some(config.master_key_file.as_path()),
            config.master_key_file.clone(),
        )?;
        if let Some(path) = sqlite_path(&config.key_store_url)
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            create_private_dir(dir)?;
        }
        let keystore = store::keystore::open(&config.key_store_url, true).await?;
        let mut key_file_created = None;
        if let crate::crypto::MasterKeySource::File(path) = &source
            && !path.exists()
        {
            if keystore
                .get(crate::store::keystore::KeyOwner::Index(1))
                .await?
                .is_some()
            {
                return Err(DeskError::Setup(format!(
                    "the key store {} is initialised, but its master key file {} is missing: restore the key \
                     file from its backup (a new key could not open the existing data). Nothing was changed.",
                    store::redact_url(&config.key_store_url),
                    path.display()
                )));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir)?;
            }
            crate::crypto::create_key_file(path)?;
            key_file_created = Some(path.clone());
        }
        let key_source = source.describe();
        let keys = Keyring::initialise(source, keystore).await?;
        if let Some(path) = sqlite_path(&config.database_url)
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            create_private_dir(dir)?;
        }
        let store = store::open(&config.database_url, true).await?;
        let existing = store.meta("desk_id").await?;
        let desk = Desk::new(
            store,
            Arc::new(keys),
            Rules::from_config(config, calendar),
            clock,
        );
        let already_initialised = match existing {
            Some(id) if id == desk.keys.desk_id() => true,
            Some(_) => {
                return Err(DeskError::Setup(
                    "this database was initialised with another key store: check key_store_url (nothing was changed)"
                        .to_owned(),
                ));
            }
            None => {
                let mut mutations = vec![Mutation::SetMeta {
                    key: "desk_id".into(),
                    value: desk.keys.desk_id().to_owned(),
                }];
                if demo {
                    mutations.push(Mutation::SetMeta {
                        key: "demo".into(),
                        value: "true".into(),
                    });
                }
                desk.commit(
                    mutations,
                    desk.audit(actor, "desk.init")
                        .detail(if demo { "demo" } else { "" }),
                )
                .await?;
                false
            }
        };
        desk.destroy_doomed_keys().await?;
        // What an interrupted import wrote is invisible; failing to clean it up now must not
        // keep the desk from starting (the next start, or the next import, tries again).
        if let Err(e) = desk.clean_abandoned_imports().await {
            tracing::warn!(error = %e, "an interrupted import could not be cleaned up at start");
        }
        Ok(InitReport {
            key_file_created,
            key_source,
            already_initialised,
            desk,
        })
    }

    /// Whether this is a demo database.
    pub async fn is_demo(&self) -> Result<bool> {
        Ok(self.store.meta("demo").await?.as_deref() == Some("true"))
    }
}

fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    (!url.starts_with("postgres")).then(|| store::sqlite::path_of(url))
}

/// Creates a directory readable by its owner only (it will hold keys and personal data).
fn create_private_dir(dir: &std::path::Path) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir).map_err(|e| {
        DeskError::Setup(format!(
            "cannot create the directory {}: {e}",
            dir.display()
        ))
    })
}
