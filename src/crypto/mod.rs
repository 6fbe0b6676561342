//! The keyring's building blocks: master keys, data keys, sealing, blind indexes and passwords.
//!
//! This module is pure cryptography plus the loading and writing of the master key file. It
//! knows no SQL and imports nothing else from the crate; the key store's tables live in the
//! store module and the keyring that combines both lives in the desk layer.
//!
//! # Key hierarchy
//!
//! ```text
//! master key set (key file / $PRIVDESK_MASTER_KEY / systemd credential; never in a database)
//!   │  XChaCha20-Poly1305, AAD = purpose + owner id + master key id
//!   ├─> wrapped data key, one per account ──────> key store
//!   │       │  XChaCha20-Poly1305, AAD = account + table + column + row
//!   │       └─> sealed personal values ─────────> main database
//!   └─> wrapped index key, one per desk ────────> key store
//!           │  HMAC-SHA256, domain-separated by kind / scope
//!           └─> blind indexes and word tokens ──> main database
//! ```
//!
//! - The **master key set** ([`MasterKeySet`]) holds one *primary* key, which wraps every new
//!   key, and during a rotation some *retired* keys, which can still unwrap what they wrapped.
//!   Each master key has a public 16-hex-digit id derived from it by a one-way hash, so the
//!   key store can record which master key wrapped a key without revealing anything about it.
//! - A **data key** ([`DataKey`]) belongs to one account. Destroying its wrapped copy in the
//!   key store makes every sealed value of that account unreadable, in every copy of the
//!   database, once the key store's own backups older than the erasure have expired.
//! - The **index key** ([`IndexKey`]) turns normalised values into keyed blind indexes
//!   ([`IndexKey::blind_index`]) and folded words into keyed word tokens
//!   ([`IndexKey::word_token`]), so the store can find a client by e-mail address or a
//!   request by a word of its subject without ever holding the plaintext. Without the index
//!   key an attacker holding the database cannot test guesses against them.
//!
//! # What the associated data binds, and why
//!
//! AEAD associated data is authenticated but not stored; opening needs exactly the same bytes.
//! - A **wrapped key** binds its purpose (data key or index key), its owner (the account id or
//!   the index key's id) and the id of the master key that wrapped it. A wrapped data key
//!   copied onto another account's row in the key store therefore does not open, so an
//!   attacker who can write to the key store cannot make one account's values readable
//!   under another account's (perhaps less protected) key.
//! - A **sealed value** binds the account id, table name, column name and row id ([`Aad`]),
//!   serialised canonically. A ciphertext copied to another row, column, table or account
//!   fails to open, so someone who can write to the database cannot swap a client's e-mail
//!   address into a field a support role may see, or attach one client's phone number to
//!   another client.
//!
//! Every canonical encoding starts with a versioned domain string, writes integers as
//! fixed-width big-endian and strings with a length prefix, so no two different inputs
//! serialise to the same bytes.
//!
//! # Secrets in memory
//!
//! Key types zeroize on drop and print as `<redacted>` in `Debug`; decrypted values are
//! returned as [`Zeroizing`] buffers. Errors never contain key material or plaintext.

mod error;
mod index;
mod master;
mod password;
mod seal;

pub use error::CryptoError;
pub use index::{INDEX_KEY_LEN, IndexKey, IndexKind, TokenScope, WORD_TOKEN_BYTES};
pub use master::{
    CREDENTIAL_NAME, ENV_VAR, MASTER_KEY_LEN, MasterKey, MasterKeySet, MasterKeySource,
    WrapContext, WrappableKey, WrappedKey, create_key_file, load_key_file,
    write_key_file_atomically,
};
pub use password::{
    PASSWORD_M_COST_KIB, PASSWORD_P_COST, PASSWORD_T_COST, hash_password, needs_rehash,
    verify_password,
};
pub use seal::{Aad, DATA_KEY_LEN, DataKey, open, open_str, seal, seal_str};
pub use zeroize::Zeroizing;

use base64::Engine as _;
use rand::TryRng as _;
use sha2::{Digest as _, Sha256};

/// Fills `buf` from the operating system's random number generator.
///
/// # Panics
/// Panics if the operating system cannot provide random bytes (on Linux this does not happen
/// once the kernel's pool is initialised); continuing without randomness would be worse.
fn fill_random(buf: &mut [u8]) {
    if let Err(error) = rand::rngs::SysRng.try_fill_bytes(buf) {
        panic!("the operating system's random number generator failed: {error}");
    }
}

/// Returns a fresh random secret of `bytes` random bytes, encoded as URL-safe base64 without
/// padding (for reset secrets and similar bearer tokens; use at least 32 bytes).
///
/// Store only its hash ([`sha256_hex`]); the token itself is shown to nobody but its owner.
pub fn random_token(bytes: usize) -> String {
    let mut raw = Zeroizing::new(vec![0_u8; bytes]);
    fill_random(&mut raw);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&*raw)
}

/// Lower-case hexadecimal SHA-256 of `data` (64 characters).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}

/// Canonical, unambiguous serialisation used for associated data and MAC inputs.
///
/// Every encoding starts with a domain string (which names its version); integers are
/// fixed-width big-endian; strings and byte strings carry a 64-bit big-endian length prefix.
struct Canonical(Vec<u8>);

impl Canonical {
    fn new(domain: &str) -> Self {
        let mut out = Self(Vec::with_capacity(96));
        out.bytes(domain.as_bytes());
        out
    }

    fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(value.len() as u64).to_be_bytes());
        self.0.extend_from_slice(value);
        self
    }

    fn str(&mut self, value: &str) -> &mut Self {
        self.bytes(value.as_bytes())
    }

    fn i64(&mut self, value: i64) -> &mut Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    fn u8(&mut self, value: u8) -> &mut Self {
        self.0.push(value);
        self
    }

    fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_url_safe_and_distinct() {
        let a = random_token(32);
        let b = random_token(32);
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(random_token(0), "");
    }

    #[test]
    fn sha256_hex_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn canonical_encoding_is_unambiguous() {
        let ab_c = Canonical::new("d").str("ab").str("c").finish();
        let a_bc = Canonical::new("d").str("a").str("bc").finish();
        assert_ne!(ab_c, a_bc);
    }
}
