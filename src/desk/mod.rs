//! The desk: every operation staff perform. Each takes an authenticated [`Actor`], asks the
//! policy (`domain::policy`), runs one store transaction together with its audit record,
//! and lets the store's change notice reach every open screen. The screens (tui) and the
//! server (ssh) reach data only through here: views built by `domain::view`, never rows.

pub mod accounts;
pub mod auth;
pub mod keyring;
pub mod requests;
pub mod staff;

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
        }
    }

    /// Opens an initialised desk: the keyring first (a wrong master key stops here, having
    /// written nothing), then the database, checked to belong with the key store; then any
    /// key doomed by an interrupted erasure is destroyed.
    pub async fn open(
        config: &Config,
        calendar: Calendar,
        explicit_key_file: bool,
    ) -> Result<Desk> {
        let source = keyring::master_key_source(
            explicit_key_file.then(|| config.master_key_file.clone()),
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
        Ok(desk)
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
