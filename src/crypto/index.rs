//! The desk's index key: keyed blind indexes for exact look-ups and keyed word tokens for
//! word search, so the store can find values it holds only as ciphertext.
//!
//! The caller normalises values (e-mail case folding, phone number canonical form, …) and
//! folds words before calling; this module only keys them. Both are HMAC-SHA256 over a
//! canonical encoding that starts with a versioned domain string and the kind's or scope's
//! label, so an e-mail blind index never equals a contact e-mail blind index or a word token,
//! and equal values are linkable only within one kind.

use std::fmt;

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::master::{KeyPurpose, WrappableKey, sealed::Sealed};
use super::{Canonical, fill_random};

/// Length of the index key in bytes.
pub const INDEX_KEY_LEN: usize = 32;

/// Bytes of HMAC output kept in a word token (hex-encoded to twice as many characters).
pub const WORD_TOKEN_BYTES: usize = 12;

const BLIND_INDEX_DOMAIN: &str = "privdesk/blind-index/v1";
const WORD_TOKEN_DOMAIN: &str = "privdesk/word-token/v1";

/// What a blind index is computed for. Each kind has its own domain-separation label, so
/// indexes of different kinds never collide or link.
///
/// The set is closed on purpose: a new kind is one reviewed line here, not a free string
/// chosen at a call site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IndexKind {
    /// An account's e-mail address.
    Email,
    /// An account's phone number.
    Phone,
    /// An account's tax id.
    TaxId,
    /// A designated contact's e-mail address.
    ContactEmail,
    /// A designated contact's phone number.
    ContactPhone,
    /// An account's id in the hosted software.
    ExternalId,
    /// An identity-verification answer.
    VerificationValue,
}

impl IndexKind {
    /// Every kind, for tests and migrations.
    pub const ALL: [Self; 7] = [
        Self::Email,
        Self::Phone,
        Self::TaxId,
        Self::ContactEmail,
        Self::ContactPhone,
        Self::ExternalId,
        Self::VerificationValue,
    ];

    /// The domain-separation label (stable; changing one invalidates stored indexes).
    pub const fn label(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::TaxId => "tax-id",
            Self::ContactEmail => "contact-email",
            Self::ContactPhone => "contact-phone",
            Self::ExternalId => "external-id",
            Self::VerificationValue => "verification-value",
        }
    }
}

/// Which text a word token indexes. Each scope has its own label, so the same word in an
/// account name and in a subject gives different tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenScope {
    /// Words of an account holder's name.
    AccountName,
    /// Words of a designated contact's name.
    ContactName,
    /// Words of a request's subject.
    Subject,
}

impl TokenScope {
    /// Every scope, for tests and migrations.
    pub const ALL: [Self; 3] = [Self::AccountName, Self::ContactName, Self::Subject];

    /// The domain-separation label (stable; changing one invalidates stored tokens).
    pub const fn label(self) -> &'static str {
        match self {
            Self::AccountName => "account-name",
            Self::ContactName => "contact-name",
            Self::Subject => "subject",
        }
    }
}

/// The desk's blind-index key (one per desk). Zeroized on drop; `Debug` prints no key
/// material. Stored only wrapped by the master key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct IndexKey([u8; INDEX_KEY_LEN]);

impl IndexKey {
    /// A fresh random index key from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut key = Self([0; INDEX_KEY_LEN]);
        fill_random(&mut key.0);
        key
    }

    /// The blind index of an already normalised value:
    /// `HMAC-SHA256(key, canonical("privdesk/blind-index/v1", kind label, value))`.
    ///
    /// Deterministic, so equal values of one kind have equal indexes; store it beside the
    /// sealed value and look values up by it.
    pub fn blind_index(&self, kind: IndexKind, normalized: &str) -> [u8; 32] {
        let input = Canonical::new(BLIND_INDEX_DOMAIN)
            .str(kind.label())
            .str(normalized)
            .finish();
        self.mac(&input)
    }

    /// The token of one already folded word, for exact-word search: the first
    /// [`WORD_TOKEN_BYTES`] bytes of
    /// `HMAC-SHA256(key, canonical("privdesk/word-token/v1", scope label, word))`
    /// as lower-case hex (24 characters of `[0-9a-f]`, a plain word for SQLite FTS5 and an
    /// ordinary element of a PostgreSQL text array). The caller skips empty words.
    pub fn word_token(&self, scope: TokenScope, folded_word: &str) -> String {
        let input = Canonical::new(WORD_TOKEN_DOMAIN)
            .str(scope.label())
            .str(folded_word)
            .finish();
        hex::encode(&self.mac(&input)[..WORD_TOKEN_BYTES])
    }

    fn mac(&self, input: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of every length, so this cannot fail.
        let Ok(mut mac) = <Hmac<Sha256>>::new_from_slice(&self.0) else {
            unreachable!("HMAC-SHA256 accepts 32-byte keys")
        };
        mac.update(input);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IndexKey(<redacted>)")
    }
}

impl WrappableKey for IndexKey {}

impl Sealed for IndexKey {
    const PURPOSE: KeyPurpose = KeyPurpose::IndexKey;

    fn key_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn from_key_bytes(bytes: &[u8; 32]) -> Self {
        Self(*bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn blind_index_is_stable_and_keyed() {
        let key = IndexKey([7; 32]);
        let a = key.blind_index(IndexKind::Email, "ada@example.org");
        assert_eq!(a, key.blind_index(IndexKind::Email, "ada@example.org"));
        assert_ne!(a, key.blind_index(IndexKind::Email, "bob@example.org"));
        assert_ne!(
            a,
            IndexKey([8; 32]).blind_index(IndexKind::Email, "ada@example.org")
        );
    }

    /// Known answers, computed independently from the documented encoding (Python's hmac);
    /// a change of the encoding would silently break every stored index and token.
    #[test]
    fn known_answers() {
        let key = IndexKey([7; 32]);
        assert_eq!(
            hex::encode(key.blind_index(IndexKind::Email, "ada@example.org")),
            "6aee74850a3166ac9927b1cbeaeacd0b3edc3c3771ad7ee4e98dd9895c624a34"
        );
        assert_eq!(
            key.word_token(TokenScope::Subject, "password"),
            "4a0fc74ec0c50b096c1564e9"
        );
    }

    #[test]
    fn blind_index_is_kind_separated() {
        let key = IndexKey::generate();
        let all: HashSet<_> = IndexKind::ALL
            .iter()
            .map(|&kind| key.blind_index(kind, "+15550100"))
            .collect();
        assert_eq!(all.len(), IndexKind::ALL.len());
    }

    #[test]
    fn word_tokens_are_stable_plain_words_and_scope_separated() {
        let key = IndexKey::generate();
        let token = key.word_token(TokenScope::Subject, "password");
        assert_eq!(token, key.word_token(TokenScope::Subject, "password"));
        assert_ne!(token, key.word_token(TokenScope::Subject, "passwords"));
        assert_eq!(token.len(), WORD_TOKEN_BYTES * 2);
        assert!(
            token
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        let all: HashSet<_> = TokenScope::ALL
            .iter()
            .map(|&scope| key.word_token(scope, "smith"))
            .collect();
        assert_eq!(all.len(), TokenScope::ALL.len());
        assert!(!all.contains(&hex::encode(
            &key.blind_index(IndexKind::Email, "smith")[..12]
        )));
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(
            format!("{:?}", IndexKey([0xAB; 32])),
            "IndexKey(<redacted>)"
        );
    }
}
