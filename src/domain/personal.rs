//! Wrappers that keep personal values and secrets out of every formatted string.
//!
//! `Debug` and `Display` of [`Personal`] and [`Secret`] never print the value, so a value
//! that slips into a log line, a panic message or an error shows only a placeholder. The
//! value is zeroized when the wrapper is dropped. Reading it needs an explicit `expose()`,
//! which is easy to find in review.

use std::fmt;

use zeroize::Zeroize;

/// A client's personal value (policy §8): an email, a phone, a name, free text about an account.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Personal<T: Zeroize>(T);

impl<T: Zeroize> Personal<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself. Every call site is a place where a personal value is handled.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn map<U: Zeroize>(&self, f: impl FnOnce(&T) -> U) -> Personal<U> {
        Personal(f(&self.0))
    }
}

impl<T: Zeroize> Drop for Personal<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personal(‹redacted›)")
    }
}

impl<T: Zeroize> fmt::Display for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("‹personal›")
    }
}

impl From<&str> for Personal<String> {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for Personal<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// A secret: a password, a passphrase, a reset secret, key material (policy §4, §7).
/// Not `Clone`: a secret is moved, never copied around.
#[derive(Default)]
pub struct Secret<T: Zeroize>(T);

impl<T: Zeroize> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: Zeroize> Drop for Secret<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(‹redacted›)")
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("‹secret›")
    }
}

impl From<String> for Secret<String> {
    fn from(value: String) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_prints_the_value() {
        let p = Personal::from("canary-personal@example.org");
        let s = Secret::from("canary-secret".to_owned());
        for out in [
            format!("{p:?}"),
            format!("{p}"),
            format!("{p:#?}"),
            format!("{s:?}"),
            format!("{s}"),
        ] {
            assert!(!out.contains("canary"), "{out}");
        }
        assert_eq!(p.expose(), "canary-personal@example.org");
        assert_eq!(s.expose(), "canary-secret");
    }
}
