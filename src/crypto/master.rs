//! Master keys: the key file, its sources, and the wrapping of data and index keys.
//!
//! # Key file format
//!
//! ```text
//! # privdesk master key — losing this file loses every client's personal data; back it up offline.
//! # Readable by its owner only (chmod 600). Never store it in the database or its backups.
//! privdesk-master-key v1
//! primary 3f9c0d1e2a4b5c6d q83vEjRWeJ...base64 of 32 bytes...=
//! retired 0a1b2c3d4e5f6071 ...
//! ```
//!
//! UTF-8 text, LF or CRLF line ends. Blank lines and lines starting with `#` are ignored. The
//! first other line is the header `privdesk-master-key v1`; every following line is
//! `primary|retired <id> <key>`, fields separated by spaces or tabs, where `<key>` is the
//! standard padded base64 of 32 bytes and `<id>` is the key's id (see [`MasterKey::id`]),
//! checked against the key on load so a damaged line is caught. Exactly one primary key,
//! no key twice.
//!
//! # Sources, in order
//!
//! 1. a key file path (from the configuration or the command line);
//! 2. the environment variable `PRIVDESK_MASTER_KEY`: standard base64 of either the raw
//!    32-byte key (one primary key) or of a whole key file (which can carry retired keys
//!    during a rotation). Environment variables are visible to processes of the same user
//!    and often end up in logs; prefer a key file or a systemd credential;
//! 3. the systemd credential `$CREDENTIALS_DIRECTORY/privdesk-master-key`, whose contents are
//!    a key file (`LoadCredential=privdesk-master-key:/etc/privdesk/master.key`, or
//!    `LoadCredentialEncrypted=` / `SetCredentialEncrypted=` from `systemd-creds encrypt`).
//!    systemd makes the credential directory private to the service, so its mode is not
//!    checked.
//!
//! Only a key file source can be rewritten by a key rotation.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::KeyInit as _;
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::seal::{OpenError, open_with, seal_with};
use super::{Canonical, CryptoError, fill_random};

/// Length of a master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;
/// The environment variable holding a master key (source 2).
pub const ENV_VAR: &str = "PRIVDESK_MASTER_KEY";
/// The name of the systemd credential holding the key file (source 3).
pub const CREDENTIAL_NAME: &str = "privdesk-master-key";

const HEADER: &str = "privdesk-master-key v1";
const HEADER_PREFIX: &str = "privdesk-master-key ";
const FILE_COMMENT: &str = "# privdesk master key — losing this file loses every client's personal \
                            data; back it up offline.\n# Readable by its owner only (chmod 600). \
                            Never store it in the database or its backups.\n";
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;
const ID_DOMAIN: &str = "privdesk/master-key-id/v1";
const ID_LEN: usize = 16;
const WRAP_DOMAIN: &str = "privdesk/wrapped-key/v1";
const WRAPPED_VERSION: u8 = 1;
const WRAPPED_LEN: usize = 1 + 24 + 32 + 16;

/// One master key: 32 random bytes and their public id. Zeroized on drop; `Debug` shows only
/// the id.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct MasterKey {
    #[zeroize(skip)]
    id: String,
    key: [u8; MASTER_KEY_LEN],
}

impl MasterKey {
    /// A fresh random master key.
    pub fn generate() -> Self {
        let mut key = [0; MASTER_KEY_LEN];
        fill_random(&mut key);
        let master = Self::from_bytes(&key);
        key.zeroize();
        master
    }

    fn from_bytes(key: &[u8; MASTER_KEY_LEN]) -> Self {
        Self {
            id: key_id(key),
            key: *key,
        }
    }

    /// The key's id: 16 lower-case hex digits, the first 8 bytes of SHA-256 over a domain
    /// string and the key. It identifies the key without revealing anything about it.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.key).into())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .field("key", &format_args!("<redacted>"))
            .finish()
    }
}

fn key_id(key: &[u8; MASTER_KEY_LEN]) -> String {
    let input = Zeroizing::new(Canonical::new(ID_DOMAIN).bytes(key).finish());
    hex::encode(&Sha256::digest(&*input)[..ID_LEN / 2])
}

/// The loaded master keys: one primary key, which wraps every new key, and the retired keys
/// of an unfinished rotation, which can still unwrap what they wrapped.
pub struct MasterKeySet {
    primary: MasterKey,
    retired: Vec<MasterKey>,
}

impl MasterKeySet {
    /// A new set holding one fresh primary key.
    pub fn generate() -> Self {
        Self {
            primary: MasterKey::generate(),
            retired: Vec::new(),
        }
    }

    /// The key that wraps new keys.
    pub fn primary(&self) -> &MasterKey {
        &self.primary
    }

    /// The retired keys, newest first.
    pub fn retired(&self) -> &[MasterKey] {
        &self.retired
    }

    /// The key with this id, primary or retired.
    pub fn get(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.primary)
            .chain(&self.retired)
            .find(|key| key.id == id)
    }

    /// Starts a rotation: generates a new primary key and keeps the old primary as a retired
    /// key. Returns the new key's id. Write the set with [`write_key_file_atomically`], then
    /// re-wrap every key in the key store ([`Self::rewrap`]).
    pub fn add_new_primary(&mut self) -> String {
        let mut new = MasterKey::generate();
        while self.get(&new.id).is_some() {
            new = MasterKey::generate();
        }
        let old = std::mem::replace(&mut self.primary, new);
        self.retired.insert(0, old);
        self.primary.id.clone()
    }

    /// Finishes a rotation: removes every retired key, once no wrapped key in the key store
    /// names one any more. Returns the ids removed. Write the set afterwards.
    pub fn retire_all_but_primary(&mut self) -> Vec<String> {
        self.retired.drain(..).map(|key| key.id.clone()).collect()
    }

    /// Wraps a data key or index key under the primary master key, bound to `context` and
    /// to the primary key's id.
    ///
    /// # Panics
    /// Panics if `context` is for another kind of key than `K` (a programming error).
    pub fn wrap<K: WrappableKey>(&self, key: &K, context: &WrapContext) -> WrappedKey {
        assert_eq!(
            context.purpose,
            K::PURPOSE,
            "wrap context is for another kind of key"
        );
        let master = &self.primary;
        let aad = wrap_aad(&master.id, context);
        let blob = seal_with(&master.cipher(), WRAPPED_VERSION, &aad, key.key_bytes());
        WrappedKey {
            master_key_id: master.id.clone(),
            blob,
        }
    }

    /// Unwraps a key wrapped by [`Self::wrap`], with the master key whose id it records.
    ///
    /// Fails with [`CryptoError::UnknownMasterKey`] when that key is not in the set and with
    /// [`CryptoError::WrongMasterKey`] when it does not open the blob with this context.
    ///
    /// # Panics
    /// Panics if `context` is for another kind of key than `K` (a programming error).
    pub fn unwrap<K: WrappableKey>(
        &self,
        wrapped: &WrappedKey,
        context: &WrapContext,
    ) -> Result<K, CryptoError> {
        assert_eq!(
            context.purpose,
            K::PURPOSE,
            "wrap context is for another kind of key"
        );
        let Some(master) = self.get(&wrapped.master_key_id) else {
            return Err(CryptoError::UnknownMasterKey {
                id: printable_id(&wrapped.master_key_id),
            });
        };
        if wrapped.blob.len() != WRAPPED_LEN {
            return Err(CryptoError::MalformedWrappedKey {
                problem: "wrong length",
            });
        }
        let aad = wrap_aad(&master.id, context);
        let bytes =
            open_with(&master.cipher(), WRAPPED_VERSION, &aad, &wrapped.blob).map_err(|error| {
                match error {
                    OpenError::TooShort => CryptoError::MalformedWrappedKey {
                        problem: "too short",
                    },
                    OpenError::Version => CryptoError::MalformedWrappedKey {
                        problem: "unknown format version",
                    },
                    OpenError::Tag => CryptoError::WrongMasterKey {
                        id: master.id.clone(),
                    },
                }
            })?;
        let key: &[u8; 32] =
            bytes
                .as_slice()
                .try_into()
                .map_err(|_| CryptoError::MalformedWrappedKey {
                    problem: "wrong key length",
                })?;
        Ok(K::from_key_bytes(key))
    }

    /// Unwraps with whichever key wrapped it and wraps again under the primary key (for a
    /// rotation). Wrapped keys whose `master_key_id` is already the primary's need no rewrap.
    pub fn rewrap<K: WrappableKey>(
        &self,
        wrapped: &WrappedKey,
        context: &WrapContext,
    ) -> Result<WrappedKey, CryptoError> {
        let key: K = self.unwrap(wrapped, context)?;
        Ok(self.wrap(&key, context))
    }

    /// The set as key file text (see the module documentation).
    pub fn to_key_file_text(&self) -> Zeroizing<String> {
        let lines = 1 + self.retired.len();
        // Reserve everything up front so no reallocation leaves a copy of a key behind.
        let mut text = Zeroizing::new(String::with_capacity(FILE_COMMENT.len() + 32 + lines * 96));
        text.push_str(FILE_COMMENT);
        text.push_str(HEADER);
        text.push('\n');
        let roles = std::iter::once(("primary", &self.primary))
            .chain(self.retired.iter().map(|key| ("retired", key)));
        for (role, key) in roles {
            text.push_str(role);
            text.push(' ');
            text.push_str(&key.id);
            text.push(' ');
            let encoded = Zeroizing::new(STANDARD.encode(key.key.as_slice()));
            text.push_str(&encoded);
            text.push('\n');
        }
        text
    }

    /// Parses key file text; `source_name` says where it came from, for error messages.
    fn parse(text: &[u8], source_name: &str) -> Result<Self, CryptoError> {
        let malformed = |line: usize, problem: &'static str| CryptoError::KeyFileMalformed {
            source_name: source_name.to_owned(),
            line,
            problem,
        };
        let mut header_seen = false;
        let mut primary: Option<MasterKey> = None;
        let mut retired: Vec<MasterKey> = Vec::new();
        for (index, raw) in text.split(|&byte| byte == b'\n').enumerate() {
            let number = index + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let line = std::str::from_utf8(raw)
                .map_err(|_| malformed(number, "not valid UTF-8 text"))?
                .trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if !header_seen {
                if line == HEADER {
                    header_seen = true;
                    continue;
                }
                return Err(malformed(
                    number,
                    if line.starts_with(HEADER_PREFIX) {
                        "unsupported key file version; this privdesk reads \
                         `privdesk-master-key v1`"
                    } else {
                        "expected the header `privdesk-master-key v1`; is this a privdesk master \
                         key file?"
                    },
                ));
            }
            let mut fields = line.split_ascii_whitespace();
            let (Some(role), Some(id), Some(encoded), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(malformed(
                    number,
                    "expected `primary|retired <id> <base64 key>`",
                ));
            };
            let is_primary = match role {
                "primary" => true,
                "retired" => false,
                _ => return Err(malformed(number, "expected `primary` or `retired` first")),
            };
            if id.len() != ID_LEN || !id.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(malformed(
                    number,
                    "the key id must be 16 lower-case hex digits",
                ));
            }
            let decoded = Zeroizing::new(
                STANDARD
                    .decode(encoded)
                    .map_err(|_| malformed(number, "the key is not valid base64"))?,
            );
            let bytes: &[u8; MASTER_KEY_LEN] = decoded
                .as_slice()
                .try_into()
                .map_err(|_| malformed(number, "the key is not 32 bytes long"))?;
            let key = MasterKey::from_bytes(bytes);
            if key.id != id {
                return Err(malformed(
                    number,
                    "the key id does not match the key; the line was altered or damaged",
                ));
            }
            if primary
                .iter()
                .chain(&retired)
                .any(|other| other.id == key.id)
            {
                return Err(malformed(number, "the same key appears twice"));
            }
            if is_primary {
                if primary.is_some() {
                    return Err(malformed(
                        number,
                        "a second primary key; exactly one is allowed",
                    ));
                }
                primary = Some(key);
            } else {
                retired.push(key);
            }
        }
        let invalid = |problem| CryptoError::KeyFileInvalid {
            source_name: source_name.to_owned(),
            problem,
        };
        if !header_seen {
            return Err(invalid("empty; expected a privdesk master key file"));
        }
        let Some(primary) = primary else {
            return Err(invalid("no `primary` key line"));
        };
        Ok(Self { primary, retired })
    }
}

impl fmt::Debug for MasterKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeySet")
            .field("primary", &self.primary)
            .field("retired", &self.retired)
            .finish()
    }
}

/// An id from the key store, made safe to print (it could be anything if the store was
/// altered).
fn printable_id(id: &str) -> String {
    if id.len() == ID_LEN && id.bytes().all(|c| c.is_ascii_hexdigit()) {
        id.to_owned()
    } else {
        "(an invalid id)".to_owned()
    }
}

/// The kind of key a wrapped key holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyPurpose {
    /// An account's data key.
    DataKey,
    /// The desk's index key.
    IndexKey,
}

impl KeyPurpose {
    const fn label(self) -> &'static str {
        match self {
            Self::DataKey => "data-key",
            Self::IndexKey => "index-key",
        }
    }
}

/// What a wrapped key belongs to; bound to the wrapping as associated data, so a wrapped key
/// copied to another account (or used as another kind of key) does not unwrap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WrapContext {
    purpose: KeyPurpose,
    owner_id: i64,
}

impl WrapContext {
    /// The context of an account's data key.
    pub const fn data_key(account_id: i64) -> Self {
        Self {
            purpose: KeyPurpose::DataKey,
            owner_id: account_id,
        }
    }

    /// The context of an index key; `key_id` is its id in the key store (a new index key after
    /// an index rotation gets a new id).
    pub const fn index_key(key_id: i64) -> Self {
        Self {
            purpose: KeyPurpose::IndexKey,
            owner_id: key_id,
        }
    }
}

/// The associated data of a wrapped key:
/// `canonical("privdesk/wrapped-key/v1", u8 1, purpose label, i64be owner id, master key id)`.
fn wrap_aad(master_key_id: &str, context: &WrapContext) -> Vec<u8> {
    Canonical::new(WRAP_DOMAIN)
        .u8(WRAPPED_VERSION)
        .str(context.purpose.label())
        .i64(context.owner_id)
        .str(master_key_id)
        .finish()
}

/// A data or index key wrapped by a master key, as the key store keeps it.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The id of the master key that wrapped it.
    pub master_key_id: String,
    /// `version (1) || nonce (24) || encrypted key (32) || tag (16)`: 73 bytes.
    pub blob: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("master_key_id", &self.master_key_id)
            .field("blob", &format_args!("<{} bytes>", self.blob.len()))
            .finish()
    }
}

pub(super) mod sealed {
    /// Implemented by the key types a master key may wrap; not implementable elsewhere, and
    /// its methods are not reachable outside the crypto module.
    pub trait Sealed: Sized {
        const PURPOSE: super::KeyPurpose;
        fn key_bytes(&self) -> &[u8; 32];
        fn from_key_bytes(bytes: &[u8; 32]) -> Self;
    }
}

/// A key that a master key can wrap: [`super::DataKey`] or [`super::IndexKey`].
pub trait WrappableKey: sealed::Sealed {}

/// Where the master keys come from. `Debug` never shows the environment variable's value.
pub enum MasterKeySource {
    /// A key file.
    File(PathBuf),
    /// The value of `PRIVDESK_MASTER_KEY`.
    Environment(Zeroizing<String>),
    /// A systemd credential file.
    Credential(PathBuf),
}

impl MasterKeySource {
    /// Picks the first configured source: the key file `path`, then the environment value
    /// `env_value` (of `PRIVDESK_MASTER_KEY`; empty counts as unset), then
    /// `credentials_dir/privdesk-master-key` (`$CREDENTIALS_DIRECTORY`) if that file exists.
    ///
    /// A given `path` is used even if it does not exist, so a mistyped path is reported by
    /// [`Self::load`] rather than silently replaced by another key. Pass a default path only
    /// when neither of the other sources is set.
    pub fn resolve(
        path: Option<&Path>,
        env_value: Option<&str>,
        credentials_dir: Option<&Path>,
    ) -> Result<Self, CryptoError> {
        if let Some(path) = path {
            return Ok(Self::File(path.to_owned()));
        }
        if let Some(value) = env_value.map(str::trim).filter(|value| !value.is_empty()) {
            return Ok(Self::Environment(Zeroizing::new(value.to_owned())));
        }
        if let Some(dir) = credentials_dir {
            let credential = dir.join(CREDENTIAL_NAME);
            if credential.is_file() {
                return Ok(Self::Credential(credential));
            }
        }
        Err(CryptoError::NoMasterKey)
    }

    /// [`Self::resolve`] with `PRIVDESK_MASTER_KEY` and `CREDENTIALS_DIRECTORY` read from the
    /// process environment.
    pub fn from_process_env(path: Option<&Path>) -> Result<Self, CryptoError> {
        let env_value = match std::env::var_os(ENV_VAR) {
            None => None,
            Some(value) => Some(Zeroizing::new(value.into_string().map_err(|_| {
                CryptoError::EnvKeyInvalid {
                    problem: "not valid UTF-8",
                }
            })?)),
        };
        let credentials_dir = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
        Self::resolve(
            path,
            env_value.as_ref().map(|v| v.as_str()),
            credentials_dir.as_deref(),
        )
    }

    /// Loads the master key set from this source.
    pub fn load(&self) -> Result<MasterKeySet, CryptoError> {
        match self {
            Self::File(path) => load_key_file(path),
            Self::Environment(value) => {
                let decoded = Zeroizing::new(STANDARD.decode(value.as_bytes()).map_err(|_| {
                    CryptoError::EnvKeyInvalid {
                        problem: "not valid base64",
                    }
                })?);
                if let Ok(key) = <&[u8; MASTER_KEY_LEN]>::try_from(decoded.as_slice()) {
                    return Ok(MasterKeySet {
                        primary: MasterKey::from_bytes(key),
                        retired: vec![],
                    });
                }
                MasterKeySet::parse(&decoded, "PRIVDESK_MASTER_KEY (decoded)")
            }
            Self::Credential(path) => {
                let file = File::open(path).map_err(|e| CryptoError::io("open", path, e))?;
                let text = read_limited(file, path)?;
                MasterKeySet::parse(&text, &format!("systemd credential {}", path.display()))
            }
        }
    }

    /// The key file a rotation may rewrite; `None` for the environment and credentials.
    pub fn writable_path(&self) -> Option<&Path> {
        match self {
            Self::File(path) => Some(path),
            Self::Environment(_) | Self::Credential(_) => None,
        }
    }

    /// A description for messages: `key file PATH`, `environment variable …`, `systemd …`.
    pub fn describe(&self) -> String {
        match self {
            Self::File(path) => format!("key file {}", path.display()),
            Self::Environment(_) => format!("environment variable {ENV_VAR}"),
            Self::Credential(path) => format!("systemd credential {}", path.display()),
        }
    }
}

impl fmt::Debug for MasterKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Environment(_) => f.write_str("Environment(<redacted>)"),
            Self::Credential(path) => f.debug_tuple("Credential").field(path).finish(),
        }
    }
}

/// Loads a key file, refusing one that other users can read or write, a malformed one and a
/// missing one (with advice to run `privdesk init`).
pub fn load_key_file(path: &Path) -> Result<MasterKeySet, CryptoError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(CryptoError::KeyFileMissing {
                path: path.to_owned(),
            });
        }
        Err(error) => return Err(CryptoError::io("open", path, error)),
    };
    // Checked on the open file, so the file checked is the file read.
    let metadata = file
        .metadata()
        .map_err(|e| CryptoError::io("inspect", path, e))?;
    if !metadata.is_file() {
        return Err(CryptoError::KeyFileNotRegular {
            path: path.to_owned(),
        });
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(CryptoError::KeyFilePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    let text = read_limited(file, path)?;
    MasterKeySet::parse(&text, &format!("master key file {}", path.display()))
}

fn read_limited(file: File, path: &Path) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut text = Zeroizing::new(Vec::with_capacity(4096));
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut text)
        .map_err(|e| CryptoError::io("read", path, e))?;
    if text.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(CryptoError::KeyFileInvalid {
            source_name: format!("file {}", path.display()),
            problem: "too large to be a master key file",
        });
    }
    Ok(text)
}

/// Creates a new key file holding one fresh primary key, with mode 0600. Never overwrites an
/// existing file. Returns the new set.
pub fn create_key_file(path: &Path) -> Result<MasterKeySet, CryptoError> {
    let set = MasterKeySet::generate();
    write_new_file(path, set.to_key_file_text().as_bytes()).map_err(|error| {
        if error.kind() == io::ErrorKind::AlreadyExists {
            CryptoError::KeyFileExists {
                path: path.to_owned(),
            }
        } else {
            CryptoError::io("create", path, error)
        }
    })?;
    sync_dir(path)?;
    Ok(set)
}

/// Replaces the key file at `path` with `set`, atomically: a 0600 temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. A crash leaves either the
/// old file or the new one (and perhaps a stray `.NAME.*.tmp` file).
pub fn write_key_file_atomically(path: &Path, set: &MasterKeySet) -> Result<(), CryptoError> {
    let Some(name) = path.file_name() else {
        return Err(CryptoError::io(
            "write",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
        ));
    };
    let mut suffix = [0_u8; 8];
    fill_random(&mut suffix);
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", hex::encode(suffix)));
    let temp = path.with_file_name(temp_name);
    if let Err(error) = write_new_file(&temp, set.to_key_file_text().as_bytes()) {
        // Best effort: the file may hold part of the keys.
        let _ = fs::remove_file(&temp);
        return Err(CryptoError::io("write", &temp, error));
    }
    if let Err(error) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(CryptoError::io("replace", path, error));
    }
    sync_dir(path)
}

/// Creates `path` (never overwriting), mode 0600, writes `contents` and fsyncs. Removes the
/// file again if writing fails after it was created.
fn write_new_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if written.is_err() {
        drop(file);
        let _ = fs::remove_file(path);
    }
    written
}

/// Fsyncs the directory holding `path`, so a new or renamed entry survives a crash.
fn sync_dir(path: &Path) -> Result<(), CryptoError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| CryptoError::io("sync directory", dir, e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::crypto::{Aad, DataKey, IndexKey, open_str, seal_str};

    fn key_line(set: &MasterKeySet) -> (String, String) {
        let text = set.to_key_file_text();
        let line = text
            .lines()
            .find(|l| l.starts_with("primary"))
            .unwrap()
            .to_owned();
        let b64 = line.split(' ').nth(2).unwrap().to_owned();
        (line, b64)
    }

    fn write_mode(path: &Path, text: &str, mode: u32) {
        fs::write(path, text).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn key_id_is_16_hex_and_does_not_contain_key() {
        let key = MasterKey::generate();
        assert_eq!(key.id().len(), 16);
        assert!(key.id().bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(!hex::encode(key.key).contains(key.id()));
        assert_eq!(MasterKey::from_bytes(&key.key).id(), key.id());
    }

    #[test]
    fn key_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let mut set = create_key_file(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# privdesk master key — losing this file"));
        assert!(text.contains("\nprivdesk-master-key v1\nprimary "));

        let loaded = load_key_file(&path).unwrap();
        assert_eq!(loaded.primary().id(), set.primary().id());
        assert!(loaded.retired().is_empty());

        // Rotation: new primary, old retired, written atomically.
        let old_id = set.primary().id().to_owned();
        let new_id = set.add_new_primary();
        assert_ne!(new_id, old_id);
        write_key_file_atomically(&path, &set).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let loaded = load_key_file(&path).unwrap();
        assert_eq!(loaded.primary().id(), new_id);
        assert_eq!(loaded.retired().len(), 1);
        assert_eq!(loaded.retired()[0].id(), old_id);
        assert!(loaded.get(&old_id).is_some());
        // No temporary file left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

        assert_eq!(set.retire_all_but_primary(), vec![old_id.clone()]);
        assert!(set.get(&old_id).is_none());
    }

    #[test]
    fn create_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        fs::write(&path, "precious").unwrap();
        let err = create_key_file(&path).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFileExists { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
    }

    #[test]
    fn missing_file_says_run_init() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_key_file(&dir.path().join("nope.key")).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFileMissing { .. }));
        assert!(err.to_string().contains("privdesk init"), "{err}");
    }

    #[test]
    fn readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let set = MasterKeySet::generate();
        write_mode(&path, &set.to_key_file_text(), 0o644);
        let err = load_key_file(&path).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(err, CryptoError::KeyFilePermissions { mode: 0o644, .. }),
            "{err:?}"
        );
        assert!(message.contains("0644"), "{message}");
        assert!(
            message.contains(&format!("chmod 600 {}", path.display())),
            "{message}"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(load_key_file(&path).is_err());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(load_key_file(&path).is_ok());
    }

    #[test]
    fn malformed_lines_are_refused_with_line_numbers_and_no_key_material() {
        let set = MasterKeySet::generate();
        let (line, b64) = key_line(&set);
        let id = set.primary().id();
        let other_id = MasterKeySet::generate().primary().id().to_owned();
        let truncated = &b64[..40];
        let cases: Vec<(String, usize)> = vec![
            (format!("{line}\n"), 1),
            (format!("# c\nprivdesk-master-key v2\n{line}\n"), 2),
            (format!("{HEADER}\n\n{line} extra\n"), 3),
            (format!("{HEADER}\nbackup {id} {b64}\n"), 2),
            (
                format!("{HEADER}\nprimary {} {b64}\n", id.to_uppercase()),
                2,
            ),
            (format!("{HEADER}\nprimary {other_id} {b64}\n"), 2),
            (format!("{HEADER}\nprimary {id} {truncated}\n"), 2),
            (format!("{HEADER}\nprimary {id} {b64}!\n"), 2),
            (format!("{HEADER}\n{line}\nretired {id} {b64}\n"), 3),
            (format!("{HEADER}\r\n{line}\r\n{line}\r\n"), 3),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        for (text, expected_line) in cases {
            fs::remove_file(&path).ok();
            write_mode(&path, &text, 0o600);
            let err = load_key_file(&path).unwrap_err();
            let CryptoError::KeyFileMalformed { line, .. } = &err else {
                panic!("{text:?}: {err:?}");
            };
            assert_eq!(*line, expected_line, "{text:?}: {err}");
            let (shown, debug) = (err.to_string(), format!("{err:?}"));
            assert!(shown.contains(&path.display().to_string()), "{shown}");
            assert!(shown.contains(&format!("line {expected_line}")), "{shown}");
            for secret in [&b64[..], truncated] {
                assert!(
                    !shown.contains(secret) && !debug.contains(secret),
                    "{shown} / {debug}"
                );
            }
        }
        // File-level problems.
        for text in ["", "# only a comment\n", &format!("{HEADER}\n")] {
            fs::remove_file(&path).ok();
            write_mode(&path, text, 0o600);
            let err = load_key_file(&path).unwrap_err();
            assert!(matches!(err, CryptoError::KeyFileInvalid { .. }), "{err:?}");
        }
        // CRLF line ends and extra whitespace are fine.
        fs::remove_file(&path).ok();
        write_mode(
            &path,
            &format!("{HEADER}\r\n  primary\t{id}  {b64}\r\n"),
            0o600,
        );
        assert_eq!(load_key_file(&path).unwrap().primary().id(), id);
    }

    #[test]
    fn sources_resolve_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("master.key");
        let cred_dir = dir.path().join("creds");
        fs::create_dir(&cred_dir).unwrap();

        let file_set = create_key_file(&file).unwrap();
        let cred_set = MasterKeySet::generate();
        fs::write(
            cred_dir.join(CREDENTIAL_NAME),
            &*cred_set.to_key_file_text(),
        )
        .unwrap();
        let env_set = MasterKeySet::generate();
        let env_raw = STANDARD.encode(env_set.primary().key);

        let all = MasterKeySource::resolve(Some(&file), Some(&env_raw), Some(&cred_dir)).unwrap();
        assert!(matches!(all, MasterKeySource::File(_)));
        assert_eq!(all.load().unwrap().primary().id(), file_set.primary().id());
        assert!(all.writable_path().is_some());

        let env = MasterKeySource::resolve(None, Some(&env_raw), Some(&cred_dir)).unwrap();
        assert_eq!(env.load().unwrap().primary().id(), env_set.primary().id());
        assert!(env.writable_path().is_none());
        let debug = format!("{env:?}");
        assert!(
            !debug.contains(&env_raw) && debug.contains("redacted"),
            "{debug}"
        );

        let cred = MasterKeySource::resolve(None, Some("  "), Some(&cred_dir)).unwrap();
        assert!(matches!(cred, MasterKeySource::Credential(_)), "{cred:?}");
        assert_eq!(cred.load().unwrap().primary().id(), cred_set.primary().id());

        let none = MasterKeySource::resolve(None, None, Some(dir.path()));
        assert!(matches!(none, Err(CryptoError::NoMasterKey)));

        // A configured path that does not exist is reported, not replaced by another source.
        let missing = MasterKeySource::resolve(Some(&dir.path().join("x")), Some(&env_raw), None);
        assert!(matches!(
            missing.unwrap().load(),
            Err(CryptoError::KeyFileMissing { .. })
        ));
    }

    #[test]
    fn env_value_may_hold_a_whole_key_file() {
        let mut set = MasterKeySet::generate();
        set.add_new_primary();
        let value = STANDARD.encode(set.to_key_file_text().as_bytes());
        let loaded = MasterKeySource::resolve(None, Some(&value), None)
            .unwrap()
            .load()
            .unwrap();
        assert_eq!(loaded.primary().id(), set.primary().id());
        assert_eq!(loaded.retired()[0].id(), set.retired()[0].id());

        for bad in ["not base64!", "AAAA"] {
            let err = MasterKeySource::resolve(None, Some(bad), None)
                .unwrap()
                .load()
                .unwrap_err();
            assert!(!err.to_string().contains(bad), "{err}");
        }
        let err = MasterKeySource::resolve(None, Some("not base64!"), None)
            .unwrap()
            .load()
            .unwrap_err();
        assert!(matches!(err, CryptoError::EnvKeyInvalid { .. }), "{err:?}");
    }

    #[test]
    fn wrap_and_unwrap_with_primary_and_retired_keys() {
        let mut set = MasterKeySet::generate();
        let ctx = WrapContext::data_key(7);
        let data_key = DataKey::generate();
        let aad = Aad {
            account_id: 7,
            table: "accounts",
            column: "email",
            row_id: 1,
        };
        let sealed = seal_str(&data_key, &aad, "ada@example.org");

        let wrapped = set.wrap(&data_key, &ctx);
        assert_eq!(wrapped.master_key_id, set.primary().id());
        assert_eq!(wrapped.blob.len(), WRAPPED_LEN);
        let unwrapped: DataKey = set.unwrap(&wrapped, &ctx).unwrap();
        assert_eq!(
            &*open_str(&unwrapped, &aad, &sealed).unwrap(),
            "ada@example.org"
        );

        // After a rotation the retired key still unwraps; rewrap moves it to the primary.
        let old_id = set.primary().id().to_owned();
        set.add_new_primary();
        let still: DataKey = set.unwrap(&wrapped, &ctx).unwrap();
        assert_eq!(
            &*open_str(&still, &aad, &sealed).unwrap(),
            "ada@example.org"
        );
        let rewrapped = set.rewrap::<DataKey>(&wrapped, &ctx).unwrap();
        assert_eq!(rewrapped.master_key_id, set.primary().id());
        assert_ne!(rewrapped.master_key_id, old_id);

        // Once the retired key is gone, the old wrapping names an unknown key.
        set.retire_all_but_primary();
        let err = set.unwrap::<DataKey>(&wrapped, &ctx).unwrap_err();
        assert!(
            matches!(&err, CryptoError::UnknownMasterKey { id } if *id == old_id),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains(&format!("wrapped by master key {old_id}"))
        );
        let again: DataKey = set.unwrap(&rewrapped, &ctx).unwrap();
        assert_eq!(
            &*open_str(&again, &aad, &sealed).unwrap(),
            "ada@example.org"
        );
    }

    #[test]
    fn wrong_context_or_key_fails() {
        let set = MasterKeySet::generate();
        let wrapped = set.wrap(&DataKey::generate(), &WrapContext::data_key(7));

        let other_account = set.unwrap::<DataKey>(&wrapped, &WrapContext::data_key(8));
        assert!(matches!(
            other_account,
            Err(CryptoError::WrongMasterKey { .. })
        ));

        // A different key that claims the same id (the record or the file was tampered with).
        let impostor = MasterKeySet {
            primary: MasterKey {
                id: set.primary().id().to_owned(),
                key: [9; 32],
            },
            retired: vec![],
        };
        let err = impostor
            .unwrap::<DataKey>(&wrapped, &WrapContext::data_key(7))
            .unwrap_err();
        assert!(matches!(err, CryptoError::WrongMasterKey { .. }), "{err:?}");

        let mut flipped = wrapped.clone();
        flipped.blob[30] ^= 1;
        assert!(matches!(
            set.unwrap::<DataKey>(&flipped, &WrapContext::data_key(7)),
            Err(CryptoError::WrongMasterKey { .. })
        ));
        let mut short = wrapped.clone();
        short.blob.pop();
        assert!(matches!(
            set.unwrap::<DataKey>(&short, &WrapContext::data_key(7)),
            Err(CryptoError::MalformedWrappedKey { .. })
        ));
        let mut garbage_id = wrapped;
        garbage_id.master_key_id = "\u{1b}[31mevil".to_owned();
        let err = set
            .unwrap::<DataKey>(&garbage_id, &WrapContext::data_key(7))
            .unwrap_err();
        assert!(!err.to_string().contains('\u{1b}'));
    }

    #[test]
    fn index_keys_wrap_with_their_own_context() {
        let set = MasterKeySet::generate();
        let key = IndexKey::generate();
        let wrapped = set.wrap(&key, &WrapContext::index_key(1));
        let back: IndexKey = set.unwrap(&wrapped, &WrapContext::index_key(1)).unwrap();
        assert_eq!(
            back.blind_index(crate::crypto::IndexKind::Email, "a@b"),
            key.blind_index(crate::crypto::IndexKind::Email, "a@b")
        );
        assert!(
            set.unwrap::<IndexKey>(&wrapped, &WrapContext::index_key(2))
                .is_err()
        );
    }

    #[test]
    #[should_panic(expected = "another kind of key")]
    fn wrapping_under_the_wrong_purpose_panics() {
        let set = MasterKeySet::generate();
        let _ = set.wrap(&DataKey::generate(), &WrapContext::index_key(1));
    }

    #[test]
    fn debug_is_redacted() {
        let set = MasterKeySet::generate();
        let b64 = STANDARD.encode(set.primary().key);
        let hex_key = hex::encode(set.primary().key);
        let shown = format!("{set:?} {:?}", set.primary());
        assert!(
            shown.contains(set.primary().id()) && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(
            !shown.contains(&b64) && !shown.contains(&hex_key),
            "{shown}"
        );
        let wrapped = set.wrap(&DataKey::generate(), &WrapContext::data_key(1));
        assert!(format!("{wrapped:?}").contains("<73 bytes>"));
    }
}
