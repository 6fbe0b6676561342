//! The keyring: the master key set, the key store, the index key, and the data keys of the
//! accounts in use. It seals and opens personal values and computes blind indexes and word
//! tokens; the store never sees a plaintext personal value.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use zeroize::Zeroizing;

use crate::crypto::{
    self, Aad, CryptoError, DataKey, IndexKey, IndexKind, MasterKeySet, MasterKeySource,
    TokenScope, WrapContext, WrappedKey,
};
use crate::domain::account::AccountId;
use crate::domain::normalize;
use crate::domain::personal::Personal;
use crate::store::keystore::{KeyOwner, KeyStore, StoredKey};

use super::DeskError;

/// The id of the desk's single index key in the key store.
const INDEX_KEY_ID: i64 = 1;
/// Data keys kept unwrapped in memory at most.
const CACHE_LIMIT: usize = 4096;

pub struct Keyring {
    source: MasterKeySource,
    masters: RwLock<MasterKeySet>,
    keystore: Box<dyn KeyStore>,
    index: IndexKey,
    cache: Mutex<HashMap<i64, Arc<DataKey>>>,
    desk_id: String,
    #[cfg(any(test, feature = "fault-injection"))]
    faults: FaultPoints,
}

/// Fault-injection points (test builds only, feature `fault-injection`): they stop a
/// rotation, an erasure or an import half-way, as a crash would, so the tests can show that
/// what is left behind still opens (or stays invisible) and is finished later; and they
/// pause an import between its batches, so a test can work the desk meanwhile.
///
/// Each desk's keyring has its own, so tests running in parallel threads do not disturb
/// one another. A process started by a test (the real binary) arms them from its
/// environment instead: `PRIVDESK_FAULT_ROTATE_AFTER=N`, `PRIVDESK_FAULT_ERASE_CRASH=1`,
/// `PRIVDESK_FAULT_IMPORT_CRASH_AFTER=N` (batches).
#[cfg(any(test, feature = "fault-injection"))]
#[derive(Debug, Default)]
pub struct FaultPoints {
    /// `rewrap_all` fails after re-wrapping this many keys; 0 is off.
    rotate_after: std::sync::atomic::AtomicU64,
    /// `Desk::erase_account` fails after its commit, before the key is destroyed.
    erase_crash: std::sync::atomic::AtomicBool,
    /// `Desk::import_accounts` stops after writing this many batches, as a crash would
    /// (nothing cleaned up, its claim let go); 0 is off.
    import_crash_after: std::sync::atomic::AtomicU64,
    /// `Desk::import_accounts` stops after its final step, before sweeping, as a crash would.
    import_crash_before_sweep: std::sync::atomic::AtomicBool,
    /// `Desk::import_accounts` waits after writing this many batches.
    import_pause: std::sync::Mutex<Option<(u64, Arc<ImportPause>)>>,
}

/// Where a paused import and its test meet (test builds only).
#[cfg(any(test, feature = "fault-injection"))]
#[derive(Debug, Default)]
pub struct ImportPause {
    reached: tokio::sync::Notify,
    resume: tokio::sync::Notify,
}

#[cfg(any(test, feature = "fault-injection"))]
impl ImportPause {
    /// Waits until the import has written its batches and paused.
    pub async fn reached(&self) {
        self.reached.notified().await;
    }

    /// Lets the paused import go on.
    pub fn resume(&self) {
        self.resume.notify_one();
    }

    pub(crate) async fn pause(&self) {
        self.reached.notify_one();
        self.resume.notified().await;
    }
}

#[cfg(any(test, feature = "fault-injection"))]
impl FaultPoints {
    fn from_env() -> FaultPoints {
        let f = FaultPoints::default();
        let after = std::env::var("PRIVDESK_FAULT_ROTATE_AFTER")
            .ok()
            .and_then(|v| v.parse::<u64>().ok());
        f.stop_rotation_after(after);
        f.crash_erasure_before_key_deletion(
            std::env::var_os("PRIVDESK_FAULT_ERASE_CRASH").is_some(),
        );
        let crash = std::env::var("PRIVDESK_FAULT_IMPORT_CRASH_AFTER")
            .ok()
            .and_then(|v| v.parse::<u64>().ok());
        f.crash_import_after(crash);
        f
    }

    /// Makes the next imports stop after writing `batches` batches, as a crash would.
    pub fn crash_import_after(&self, batches: Option<u64>) {
        self.import_crash_after
            .store(batches.unwrap_or(0), std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes the next imports stop after their final step, before they sweep what their
    /// replacements superseded, as a crash would.
    pub fn crash_import_before_sweep(&self, on: bool) {
        self.import_crash_before_sweep
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    pub(crate) fn import_crashes_before_sweep(&self) -> bool {
        self.import_crash_before_sweep
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Makes the next import wait after writing `batches` batches, until the test resumes it.
    pub fn pause_import_after(&self, batches: u64) -> Arc<ImportPause> {
        let pause = Arc::new(ImportPause::default());
        if let Ok(mut p) = self.import_pause.lock() {
            *p = Some((batches, pause.clone()));
        }
        pause
    }

    pub(crate) fn import_crashes_at(&self, batches: u64) -> bool {
        self.import_crash_after
            .load(std::sync::atomic::Ordering::SeqCst)
            == batches
            && batches > 0
    }

    /// The pause armed for this many batches, taken (it pauses once).
    pub(crate) fn import_pause_at(&self, batches: u64) -> Option<Arc<ImportPause>> {
        let mut p = self.import_pause.lock().ok()?;
        match p.as_ref() {
            Some((at, _)) if *at == batches => p.take().map(|(_, pause)| pause),
            _ => None,
        }
    }

    /// Makes the next rotations stop with an error after `keys` re-wrapped keys.
    pub fn stop_rotation_after(&self, keys: Option<u64>) {
        self.rotate_after
            .store(keys.unwrap_or(0), std::sync::atomic::Ordering::SeqCst);
    }

    /// Makes erasures stop after their commit, before the account's key is deleted.
    pub fn crash_erasure_before_key_deletion(&self, on: bool) {
        self.erase_crash
            .store(on, std::sync::atomic::Ordering::SeqCst);
    }

    fn rotation_stops_at(&self, done: u64) -> bool {
        self.rotate_after.load(std::sync::atomic::Ordering::SeqCst) == done && done > 0
    }

    pub(crate) fn erasure_crashes(&self) -> bool {
        self.erase_crash.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("source", &self.source.describe())
            .finish_non_exhaustive()
    }
}

/// Where the master key comes from: an explicitly configured file wins, then the
/// environment (`PRIVDESK_MASTER_KEY`), then a systemd credential, then the default file.
pub fn master_key_source(
    explicit_file: Option<&std::path::Path>,
    default_file: PathBuf,
) -> Result<MasterKeySource, DeskError> {
    match MasterKeySource::from_process_env(explicit_file) {
        Ok(s) => Ok(s),
        Err(CryptoError::NoMasterKey) => Ok(MasterKeySource::File(default_file)),
        Err(e) => Err(e.into()),
    }
}

impl Keyring {
    /// Opens the keyring of an initialised desk. Fails, writing nothing, if the master key
    /// does not open the key store's index key.
    pub async fn open(
        source: MasterKeySource,
        keystore: Box<dyn KeyStore>,
    ) -> Result<Keyring, DeskError> {
        let masters = source.load()?;
        let stored = keystore
            .get(KeyOwner::Index(INDEX_KEY_ID))
            .await?
            .ok_or_else(|| {
                DeskError::Setup(
                "the key store holds no index key: it was not initialised (run `privdesk init`) \
                 or it is not this desk's key store"
                    .to_owned(),
            )
            })?;
        let index: IndexKey = masters
            .unwrap(&wrapped(&stored), &WrapContext::index_key(INDEX_KEY_ID))
            .map_err(|e| wrong_master(&e, &source))?;
        let desk_id = keystore.meta("desk_id").await?.unwrap_or_default();
        Ok(Keyring {
            source,
            masters: RwLock::new(masters),
            keystore,
            index,
            cache: Mutex::new(HashMap::new()),
            desk_id,
            #[cfg(any(test, feature = "fault-injection"))]
            faults: FaultPoints::from_env(),
        })
    }

    /// Initialises a new key store: a fresh index key wrapped by the master key, and the
    /// desk id that pairs this key store with its database.
    pub async fn initialise(
        source: MasterKeySource,
        keystore: Box<dyn KeyStore>,
    ) -> Result<Keyring, DeskError> {
        let masters = source.load()?;
        if keystore.get(KeyOwner::Index(INDEX_KEY_ID)).await?.is_none() {
            let index = IndexKey::generate();
            let w = masters.wrap(&index, &WrapContext::index_key(INDEX_KEY_ID));
            keystore
                .insert(&StoredKey {
                    owner: KeyOwner::Index(INDEX_KEY_ID),
                    master_key_id: w.master_key_id,
                    blob: w.blob,
                })
                .await?;
            keystore
                .set_meta("desk_id", &crypto::random_token(16))
                .await?;
        }
        Self::open(source, keystore).await
    }

    pub fn desk_id(&self) -> &str {
        &self.desk_id
    }

    pub fn source(&self) -> &MasterKeySource {
        &self.source
    }

    pub fn keystore(&self) -> &dyn KeyStore {
        self.keystore.as_ref()
    }

    /// This keyring's fault-injection points (test builds only).
    #[cfg(any(test, feature = "fault-injection"))]
    pub fn faults(&self) -> &FaultPoints {
        &self.faults
    }

    /// Re-reads the master key set (SIGHUP during a rolling rotation).
    pub fn reload_master(&self) -> Result<(), DeskError> {
        let set = self.source.load()?;
        *self
            .masters
            .write()
            .map_err(|_| DeskError::Internal("keyring lock poisoned".into()))? = set;
        Ok(())
    }

    fn masters(&self) -> Result<std::sync::RwLockReadGuard<'_, MasterKeySet>, DeskError> {
        self.masters
            .read()
            .map_err(|_| DeskError::Internal("keyring lock poisoned".into()))
    }

    /// Creates data keys for new accounts and stores them wrapped.
    pub async fn create_data_keys(
        &self,
        accounts: &[AccountId],
    ) -> Result<Vec<Arc<DataKey>>, DeskError> {
        let mut keys = Vec::with_capacity(accounts.len());
        let mut stored = Vec::with_capacity(accounts.len());
        {
            let masters = self.masters()?;
            for a in accounts {
                let key = DataKey::generate();
                let w = masters.wrap(&key, &WrapContext::data_key(a.0));
                stored.push(StoredKey {
                    owner: KeyOwner::Account(a.0),
                    master_key_id: w.master_key_id,
                    blob: w.blob,
                });
                keys.push(Arc::new(key));
            }
        }
        self.keystore.insert_many(&stored).await?;
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| DeskError::Internal("keyring cache poisoned".into()))?;
        for (a, k) in accounts.iter().zip(&keys) {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(a.0, k.clone());
        }
        Ok(keys)
    }

    /// The data key of an account; `KeyDestroyed` once the account was erased.
    pub async fn data_key(&self, account: AccountId) -> Result<Arc<DataKey>, DeskError> {
        if let Some(k) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&account.0).cloned())
        {
            return Ok(k);
        }
        let stored = self
            .keystore
            .get(KeyOwner::Account(account.0))
            .await?
            .ok_or(DeskError::KeyDestroyed(account))?;
        let key: DataKey = self
            .masters()?
            .unwrap(&wrapped(&stored), &WrapContext::data_key(account.0))
            .map_err(|e| wrong_master(&e, &self.source))?;
        let key = Arc::new(key);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(account.0, key.clone());
        }
        Ok(key)
    }

    /// Deletes an account's data key for good (crypto-shredding).
    pub async fn destroy(&self, account: AccountId) -> Result<bool, DeskError> {
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(&account.0);
        }
        Ok(self.keystore.delete(KeyOwner::Account(account.0)).await?)
    }

    /// Deletes the data keys of the accounts in runs of ids (`(first, count)`) for good: the
    /// keys a failed import made.
    pub async fn destroy_ranges(&self, ranges: &[(i64, i64)]) -> Result<u64, DeskError> {
        let inclusive: Vec<(i64, i64)> = ranges
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(first, n)| (*first, first + n - 1))
            .collect();
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|id, _| !inclusive.iter().any(|(a, b)| (*a..=*b).contains(id)));
        }
        Ok(self.keystore.delete_account_ranges(&inclusive).await?)
    }

    pub fn seal_value(
        key: &DataKey,
        account: AccountId,
        table: &'static str,
        column: &'static str,
        row: i64,
        value: &str,
    ) -> Vec<u8> {
        crypto::seal_str(
            key,
            &Aad {
                account_id: account.0,
                table,
                column,
                row_id: row,
            },
            value,
        )
    }

    pub fn open_value(
        key: &DataKey,
        account: AccountId,
        table: &'static str,
        column: &'static str,
        row: i64,
        blob: &[u8],
    ) -> Result<Personal<String>, DeskError> {
        let plain: Zeroizing<String> = crypto::open_str(
            key,
            &Aad {
                account_id: account.0,
                table,
                column,
                row_id: row,
            },
            blob,
        )
        .map_err(|_| DeskError::Undecryptable {
            account,
            what: column,
        })?;
        Ok(Personal::new(plain.as_str().to_owned()))
    }

    /// The keyed blind index of an already normalised value.
    pub fn blind(&self, kind: IndexKind, normalized: &str) -> Vec<u8> {
        self.index.blind_index(kind, normalized).to_vec()
    }

    /// Keyed tokens of every word of `text` (folded: case and ё/е).
    pub fn tokens(&self, scope: TokenScope, text: &str) -> Vec<String> {
        normalize::words(text)
            .iter()
            .map(|w| self.index.word_token(scope, w))
            .collect()
    }

    /// Re-wraps every key not wrapped by the primary master key; resumable. Returns how
    /// many keys it re-wrapped.
    pub async fn rewrap_all(&self, progress: &dyn Fn(u64)) -> Result<u64, DeskError> {
        let mut after = None;
        let mut done = 0_u64;
        loop {
            let page = self.keystore.page(after, 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.owner);
            for k in &page {
                let primary_id = self.masters()?.primary().id().to_owned();
                if k.master_key_id == primary_id {
                    continue;
                }
                let new = {
                    let masters = self.masters()?;
                    match k.owner {
                        KeyOwner::Account(id) => {
                            masters.rewrap::<DataKey>(&wrapped(k), &WrapContext::data_key(id))
                        }
                        KeyOwner::Index(id) => {
                            masters.rewrap::<IndexKey>(&wrapped(k), &WrapContext::index_key(id))
                        }
                    }
                    .map_err(|e| wrong_master(&e, &self.source))?
                };
                let stored = StoredKey {
                    owner: k.owner,
                    master_key_id: new.master_key_id,
                    blob: new.blob,
                };
                self.keystore
                    .rewrap(k.owner, &k.master_key_id, &stored)
                    .await?;
                done += 1;
                progress(done);
                #[cfg(any(test, feature = "fault-injection"))]
                if self.faults.rotation_stops_at(done) {
                    return Err(DeskError::Internal(
                        "fault injected: rotation interrupted".into(),
                    ));
                }
            }
        }
        Ok(done)
    }

    /// Opens every wrapped key; returns the owners that fail, with why.
    pub async fn verify_all(&self) -> Result<(u64, Vec<(KeyOwner, String)>), DeskError> {
        let mut after = None;
        let mut checked = 0_u64;
        let mut bad = vec![];
        loop {
            let page = self.keystore.page(after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.owner);
            let masters = self.masters()?;
            for k in &page {
                checked += 1;
                let r = match k.owner {
                    KeyOwner::Account(id) => masters
                        .unwrap::<DataKey>(&wrapped(k), &WrapContext::data_key(id))
                        .map(|_| ()),
                    KeyOwner::Index(id) => masters
                        .unwrap::<IndexKey>(&wrapped(k), &WrapContext::index_key(id))
                        .map(|_| ()),
                };
                if let Err(e) = r {
                    bad.push((k.owner, e.to_string()));
                }
            }
        }
        Ok((checked, bad))
    }

    pub fn primary_master_id(&self) -> Result<String, DeskError> {
        Ok(self.masters()?.primary().id().to_owned())
    }
}

fn wrapped(k: &StoredKey) -> WrappedKey {
    WrappedKey {
        master_key_id: k.master_key_id.clone(),
        blob: k.blob.clone(),
    }
}

fn wrong_master(e: &CryptoError, source: &MasterKeySource) -> DeskError {
    match e {
        CryptoError::WrongMasterKey { .. } | CryptoError::UnknownMasterKey { .. } => {
            DeskError::Setup(format!(
                "the master key from {} does not open this desk's keys ({e}); use the key file this desk \
             was initialised with. Nothing was changed.",
                source.describe()
            ))
        }
        other => DeskError::Setup(other.to_string()),
    }
}
