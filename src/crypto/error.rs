//! The crypto module's one error type.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the crypto module.
///
/// Messages say what to do next. They name paths, line numbers and key ids, never key
/// material, password hashes' contents or plaintext.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The configured master key file does not exist.
    #[error(
        "no master key file at {}; run `privdesk init` to create one, or point the \
         configuration at your existing key file",
        path.display()
    )]
    KeyFileMissing { path: PathBuf },

    /// The master key file is readable or writable by users other than its owner.
    #[error(
        "master key file {} is accessible to other users (mode {mode:04o}); \
         run `chmod 600 {}` and try again",
        path.display(),
        path.display()
    )]
    KeyFilePermissions { path: PathBuf, mode: u32 },

    /// The master key file is not a regular file.
    #[error("master key path {} is not a regular file", path.display())]
    KeyFileNotRegular { path: PathBuf },

    /// `create_key_file` found a file already at the path.
    #[error(
        "a master key file already exists at {}; refusing to overwrite it (it may be the only \
         copy of the key that opens your data)",
        path.display()
    )]
    KeyFileExists { path: PathBuf },

    /// A line of a key file (or of the key file text in the environment or a credential) is
    /// malformed. `source_name` says where the text came from.
    #[error("{source_name}, line {line}: {problem}")]
    KeyFileMalformed {
        source_name: String,
        line: usize,
        problem: &'static str,
    },

    /// A key file as a whole is unusable (e.g. no primary key).
    #[error("{source_name}: {problem}")]
    KeyFileInvalid {
        source_name: String,
        problem: &'static str,
    },

    /// `PRIVDESK_MASTER_KEY` is set but is not base64 of a key or of a key file.
    #[error(
        "environment variable PRIVDESK_MASTER_KEY is not valid: {problem}; it must hold the \
         base64 of a 32-byte master key or of a whole master key file"
    )]
    EnvKeyInvalid { problem: &'static str },

    /// No master key source was configured or present.
    #[error(
        "no master key: configure a key file, set PRIVDESK_MASTER_KEY, or provide the systemd \
         credential `privdesk-master-key`; run `privdesk init` to create a key file"
    )]
    NoMasterKey,

    /// Reading or writing a key file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A wrapped key names a master key that is not in the loaded set.
    #[error(
        "this key was wrapped by master key {id}, which is not loaded; load the key file that \
         contains it (during a rotation the old key must stay in the file as a retired key)"
    )]
    UnknownMasterKey { id: String },

    /// The master key named by a wrapped key did not open it.
    #[error(
        "the wrapped key could not be opened with master key {id}: the key store record was \
         altered or copied from another account or purpose; restore the key store from a \
         backup"
    )]
    WrongMasterKey { id: String },

    /// A wrapped key blob has the wrong length or version.
    #[error(
        "a wrapped key in the key store is malformed ({problem}); restore the key store from a \
         backup"
    )]
    MalformedWrappedKey { problem: &'static str },

    /// A sealed value is too short or has an unknown format version.
    #[error("a stored encrypted value is malformed ({problem}); the database may be damaged")]
    MalformedCiphertext { problem: &'static str },

    /// A sealed value failed authentication.
    #[error(
        "a stored encrypted value could not be decrypted: it was altered, moved to another row, \
         column or account, or sealed under a different data key"
    )]
    DecryptionFailed,

    /// A sealed value decrypted but is not the UTF-8 text it should be.
    #[error("a stored encrypted value is not valid text; it was not sealed as a string")]
    NotUtf8,

    /// A stored password hash cannot be parsed or uses parameters privdesk does not accept.
    #[error(
        "a stored password hash is malformed or uses unsupported parameters ({problem}); \
         reset the password"
    )]
    MalformedPasswordHash { problem: String },

    /// Hashing a password failed.
    #[error("password hashing failed: {problem}")]
    PasswordHashing { problem: String },
}

impl CryptoError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
