//! Password hashing: argon2id with the OWASP parameters (m = 19456 KiB, t = 2, p = 1), stored
//! as PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! These functions are synchronous and take about 15 ms (optimised build) and 19 MiB each;
//! the desk layer runs them on blocking threads behind a semaphore.

use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordVerifier as _, Version};

use super::CryptoError;

/// Memory cost in KiB (OWASP: 19 MiB).
pub const PASSWORD_M_COST_KIB: u32 = 19_456;
/// Number of passes (OWASP: 2).
pub const PASSWORD_T_COST: u32 = 2;
/// Parallelism (OWASP: 1).
pub const PASSWORD_P_COST: u32 = 1;
const OUTPUT_LEN: usize = 32;

/// Stored hashes asking for more than this are refused rather than computed, so an altered
/// row cannot make a login allocate gigabytes or spin for minutes.
const MAX_M_COST_KIB: u32 = 256 * 1024;
const MAX_T_COST: u32 = 16;
const MAX_P_COST: u32 = 8;

fn current_params() -> Result<Params, CryptoError> {
    Params::new(
        PASSWORD_M_COST_KIB,
        PASSWORD_T_COST,
        PASSWORD_P_COST,
        Some(OUTPUT_LEN),
    )
    .map_err(|e| CryptoError::PasswordHashing {
        problem: e.to_string(),
    })
}

const SALT_LEN: usize = 16;

thread_local! {
    /// argon2's working memory, kept by each hashing thread and wiped after every hash.
    /// Allocating 19 MiB afresh for every hash makes glibc keep the freed blocks in its heap
    /// (its mmap threshold rises to their size): an import hashing thousands of passphrases
    /// grew to ~0.9 GiB. Reused, it stays at 19 MiB per hashing thread.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Hashes a password with argon2id, the current parameters and a fresh 16-byte random salt.
/// Returns the PHC string.
pub fn hash_password(password: &[u8]) -> Result<String, CryptoError> {
    use base64::Engine as _;
    let params = current_params()?;
    let blocks_needed = params.block_count();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut salt = [0_u8; SALT_LEN];
    super::fill_random(&mut salt);
    let mut out = zeroize::Zeroizing::new([0_u8; OUTPUT_LEN]);
    BLOCKS
        .with(|cell| {
            let mut blocks = cell.borrow_mut();
            blocks.resize(blocks_needed, argon2::Block::new());
            let done =
                argon2.hash_password_into_with_memory(password, &salt, &mut *out, &mut blocks[..]);
            // The blocks are derived from the password: wipe them, as a freed buffer was not.
            blocks.iter_mut().for_each(zeroize::Zeroize::zeroize);
            done
        })
        .map_err(|e| CryptoError::PasswordHashing {
            problem: e.to_string(),
        })?;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    Ok(format!(
        "$argon2id$v=19$m={PASSWORD_M_COST_KIB},t={PASSWORD_T_COST},p={PASSWORD_P_COST}${}${}",
        b64.encode(salt),
        b64.encode(*out)
    ))
}

/// Checks a password against a stored PHC string, in constant time (the comparison is the
/// argon2 crate's). A hash made with other (e.g. older, weaker) argon2 parameters still
/// verifies; see [`needs_rehash`]. A malformed string, or one asking for absurd costs, is an
/// error, not a mismatch.
pub fn verify_password(password: &[u8], phc: &str) -> Result<bool, CryptoError> {
    let hash = parse(phc)?;
    match Argon2::default().verify_password(password, &hash) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(error) => Err(CryptoError::MalformedPasswordHash {
            problem: error.to_string(),
        }),
    }
}

/// Whether a stored hash should be replaced by a fresh [`hash_password`] at the next
/// successful login: true unless it is argon2id, version 0x13, with exactly the current
/// parameters and output length (a malformed string also needs a rehash).
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return true;
    };
    hash.algorithm.as_str() != argon2::ARGON2ID_IDENT.as_str()
        || hash.version != Some(Version::V0x13.into())
        || params.m_cost() != PASSWORD_M_COST_KIB
        || params.t_cost() != PASSWORD_T_COST
        || params.p_cost() != PASSWORD_P_COST
        || hash
            .hash
            .as_ref()
            .map(argon2::password_hash::phc::Output::len)
            != Some(OUTPUT_LEN)
}

fn parse(phc: &str) -> Result<PasswordHash, CryptoError> {
    let malformed = |problem: String| CryptoError::MalformedPasswordHash { problem };
    let hash = PasswordHash::new(phc).map_err(|e| malformed(e.to_string()))?;
    if Algorithm::try_from(hash.algorithm.as_str()).is_err() {
        return Err(malformed("not an argon2 hash".to_owned()));
    }
    let params = Params::try_from(&hash).map_err(|e| malformed(e.to_string()))?;
    if params.m_cost() > MAX_M_COST_KIB
        || params.t_cost() > MAX_T_COST
        || params.p_cost() > MAX_P_COST
    {
        return Err(malformed(
            "cost parameters above privdesk's limits".to_owned(),
        ));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err(malformed("no salt or no hash".to_owned()));
    }
    Ok(hash)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use argon2::PasswordHasher as _;

    #[test]
    fn hash_verify_and_rehash() {
        let phc = hash_password(b"correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(b"correct horse", &phc).unwrap());
        assert!(!verify_password(b"correct horsf", &phc).unwrap());
        assert!(!needs_rehash(&phc));
        assert_ne!(phc, hash_password(b"correct horse").unwrap(), "salted");
    }

    #[test]
    fn weaker_hash_verifies_but_needs_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(1024, 1, 1, Some(32)).unwrap(),
        )
        .hash_password(b"pw")
        .unwrap()
        .to_string();
        assert!(verify_password(b"pw", &weak).unwrap());
        assert!(!verify_password(b"px", &weak).unwrap());
        assert!(needs_rehash(&weak));
        let argon2i = weak.replacen("$argon2id$", "$argon2i$", 1);
        assert!(needs_rehash(&argon2i));
    }

    #[test]
    fn malformed_hash_is_an_error_not_a_panic() {
        for bad in [
            "",
            "plaintext",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
            "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=19456,t=999,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
            "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$???",
        ] {
            let err = verify_password(b"pw", bad).unwrap_err();
            assert!(
                matches!(err, CryptoError::MalformedPasswordHash { .. }),
                "{bad}: {err:?}"
            );
            assert!(!err.to_string().contains("pw\""));
            assert!(needs_rehash(bad), "{bad}");
        }
    }
}
