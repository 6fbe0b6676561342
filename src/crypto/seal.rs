//! Per-account data keys and the sealing of personal values.
//!
//! A sealed value is `version (1 byte) || nonce (24 bytes) || ciphertext || tag (16 bytes)`,
//! encrypted with XChaCha20-Poly1305 under the account's data key with a fresh random nonce.
//! The associated data is the canonical encoding of [`Aad`] (see [`Aad::encode`]).

use std::fmt;

use chacha20poly1305::aead::{AeadInOut as _, Generate as _, KeyInit as _};
use chacha20poly1305::{Tag, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::master::{KeyPurpose, WrappableKey, sealed::Sealed};
use super::{Canonical, CryptoError, fill_random};

/// Length of a data key in bytes.
pub const DATA_KEY_LEN: usize = 32;

/// Format version of sealed values; the first byte of every blob.
const SEALED_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
const AAD_DOMAIN: &str = "privdesk/sealed-value/v1";

/// One account's data key: seals and opens that account's personal values.
///
/// Zeroized on drop; `Debug` prints no key material. Stored only wrapped by the master key
/// (see [`super::MasterKeySet::wrap`]).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DataKey([u8; DATA_KEY_LEN]);

impl DataKey {
    /// A fresh random data key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut key = Self([0; DATA_KEY_LEN]);
        fill_random(&mut key.0);
        key
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

impl WrappableKey for DataKey {}

impl Sealed for DataKey {
    const PURPOSE: KeyPurpose = KeyPurpose::DataKey;

    fn key_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn from_key_bytes(bytes: &[u8; 32]) -> Self {
        Self(*bytes)
    }
}

/// Where a sealed value lives. Bound into its encryption as associated data, so a ciphertext
/// copied to another account, table, column or row does not open.
///
/// The row id must be the id of the row the value is stored in, known before the value is
/// sealed (allocate the id first, or seal after the insert and update the row in the same
/// transaction).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Aad {
    /// The account whose data key seals the value.
    pub account_id: i64,
    /// The table the value is stored in.
    pub table: &'static str,
    /// The column the value is stored in.
    pub column: &'static str,
    /// The id of the row the value is stored in.
    pub row_id: i64,
}

impl Aad {
    /// The canonical encoding bound as associated data:
    ///
    /// ```text
    /// u64be(24) "privdesk/sealed-value/v1"   domain, with its own length prefix
    /// u8 1                                   sealed-value format version
    /// i64be account_id
    /// u64be(len) table    u64be(len) column  length-prefixed UTF-8
    /// i64be row_id
    /// ```
    pub fn encode(&self) -> Vec<u8> {
        Canonical::new(AAD_DOMAIN)
            .u8(SEALED_VERSION)
            .i64(self.account_id)
            .str(self.table)
            .str(self.column)
            .i64(self.row_id)
            .finish()
    }
}

/// Encrypts `plaintext` under `key`, bound to `aad`. Returns
/// `version || nonce || ciphertext || tag`; each call uses a fresh random nonce, so sealing
/// the same value twice gives different blobs (use a blind index to find values).
///
/// # Panics
/// Panics if the operating system's random number generator fails, or if `plaintext` is
/// larger than XChaCha20-Poly1305 can encrypt (256 GiB).
pub fn seal(key: &DataKey, aad: &Aad, plaintext: &[u8]) -> Vec<u8> {
    seal_with(&key.cipher(), SEALED_VERSION, &aad.encode(), plaintext)
}

/// [`seal`] for text.
pub fn seal_str(key: &DataKey, aad: &Aad, plaintext: &str) -> Vec<u8> {
    seal(key, aad, plaintext.as_bytes())
}

/// Decrypts a blob made by [`seal`] with the same key and the same [`Aad`].
///
/// Fails with [`CryptoError::DecryptionFailed`] if the blob was altered, moved, or sealed
/// under another key, and with [`CryptoError::MalformedCiphertext`] if it is too short or of
/// an unknown version.
pub fn open(key: &DataKey, aad: &Aad, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    open_with(&key.cipher(), SEALED_VERSION, &aad.encode(), blob).map_err(|e| match e {
        OpenError::TooShort => CryptoError::MalformedCiphertext {
            problem: "shorter than nonce and tag",
        },
        OpenError::Version => CryptoError::MalformedCiphertext {
            problem: "unknown format version",
        },
        OpenError::Tag => CryptoError::DecryptionFailed,
    })
}

/// [`open`] for values sealed with [`seal_str`].
pub fn open_str(key: &DataKey, aad: &Aad, blob: &[u8]) -> Result<Zeroizing<String>, CryptoError> {
    let mut bytes = open(key, aad, blob)?;
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(error) => {
            error.into_bytes().zeroize();
            Err(CryptoError::NotUtf8)
        }
    }
}

/// Shared by sealing values and wrapping keys: `version || nonce || ciphertext || tag`.
pub(super) fn seal_with(
    cipher: &XChaCha20Poly1305,
    version: u8,
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let nonce = XNonce::generate();
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.push(version);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let Ok(tag) = cipher.encrypt_inout_detached(&nonce, aad, (&mut out[HEADER_LEN..]).into())
    else {
        out.zeroize();
        panic!(
            "XChaCha20-Poly1305 refused a {}-byte message",
            plaintext.len()
        );
    };
    out.extend_from_slice(&tag);
    out
}

pub(super) enum OpenError {
    TooShort,
    Version,
    Tag,
}

/// Inverse of [`seal_with`]; decrypts into a zeroizing buffer (no plaintext copy elsewhere).
pub(super) fn open_with(
    cipher: &XChaCha20Poly1305,
    version: u8,
    aad: &[u8],
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    if blob.len() < HEADER_LEN + TAG_LEN {
        return Err(OpenError::TooShort);
    }
    let (header, rest) = blob.split_at(HEADER_LEN);
    if header[0] != version {
        return Err(OpenError::Version);
    }
    let nonce = XNonce::try_from(&header[1..]).map_err(|_| OpenError::TooShort)?;
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let tag = Tag::try_from(tag).map_err(|_| OpenError::TooShort)?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag)
        .map_err(|_| OpenError::Tag)?;
    Ok(buf)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const AAD: Aad = Aad {
        account_id: 7,
        table: "accounts",
        column: "email",
        row_id: 42,
    };

    #[test]
    fn round_trip() {
        let key = DataKey::generate();
        let blob = seal_str(&key, &AAD, "ada@example.org");
        assert_eq!(blob.len(), 1 + 24 + 15 + 16);
        assert_eq!(blob[0], 1);
        assert_eq!(&*open_str(&key, &AAD, &blob).unwrap(), "ada@example.org");
    }

    #[test]
    fn same_value_seals_differently() {
        let key = DataKey::generate();
        assert_ne!(seal(&key, &AAD, b"x"), seal(&key, &AAD, b"x"));
    }

    #[test]
    fn empty_plaintext_works() {
        let key = DataKey::generate();
        let blob = seal(&key, &AAD, b"");
        assert_eq!(blob.len(), 1 + 24 + 16);
        assert!(open(&key, &AAD, &blob).unwrap().is_empty());
        assert_eq!(
            &*open_str(&key, &AAD, &seal_str(&key, &AAD, "")).unwrap(),
            ""
        );
    }

    #[test]
    fn moved_ciphertext_fails_to_open() {
        let key = DataKey::generate();
        let blob = seal_str(&key, &AAD, "secret");
        let swaps = [
            Aad {
                account_id: 8,
                ..AAD
            },
            Aad {
                table: "contacts",
                ..AAD
            },
            Aad {
                column: "phone",
                ..AAD
            },
            Aad { row_id: 43, ..AAD },
        ];
        for other in swaps {
            let err = open(&key, &other, &blob).unwrap_err();
            assert!(
                matches!(err, CryptoError::DecryptionFailed),
                "{other:?}: {err:?}"
            );
        }
    }

    #[test]
    fn table_column_boundary_is_unambiguous() {
        let a = Aad {
            table: "ab",
            column: "c",
            ..AAD
        };
        let b = Aad {
            table: "a",
            column: "bc",
            ..AAD
        };
        assert_ne!(a.encode(), b.encode());
    }

    #[test]
    fn flipped_bit_fails() {
        let key = DataKey::generate();
        let blob = seal_str(&key, &AAD, "secret");
        for i in 1..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert!(
                matches!(open(&key, &AAD, &bad), Err(CryptoError::DecryptionFailed)),
                "{i}"
            );
        }
        let mut bad_version = blob.clone();
        bad_version[0] ^= 0x01;
        assert!(matches!(
            open(&key, &AAD, &bad_version),
            Err(CryptoError::MalformedCiphertext { .. })
        ));
        assert!(matches!(
            open(&key, &AAD, &blob[..40]),
            Err(CryptoError::MalformedCiphertext { .. })
        ));
    }

    #[test]
    fn wrong_key_fails() {
        let blob = seal_str(&DataKey::generate(), &AAD, "secret");
        let err = open(&DataKey::generate(), &AAD, &blob).unwrap_err();
        assert!(matches!(err, CryptoError::DecryptionFailed));
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn non_utf8_is_an_error() {
        let key = DataKey::generate();
        let blob = seal(&key, &AAD, &[0xff, 0xfe]);
        assert!(matches!(
            open_str(&key, &AAD, &blob),
            Err(CryptoError::NotUtf8)
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let key = DataKey([0xAB; 32]);
        let shown = format!("{key:?}");
        assert_eq!(shown, "DataKey(<redacted>)");
        assert!(!shown.to_lowercase().contains("ab,") && !shown.contains("171"));
    }
}
