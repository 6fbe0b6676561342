//! Client accounts as the desk layer holds them once opened: personal values in
//! [`Personal`] wrappers, present only when the policy let the desk decrypt them.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::personal::Personal;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(pub i64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "A{}", self.0)
    }
}

impl FromStr for AccountId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.trim().trim_start_matches(['A', 'a']);
        digits.parse().map(AccountId)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContactId(pub i64);

/// An individual or a legal entity (policy, "Terms").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Individual,
    LegalEntity,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Individual => "individual",
            AccountKind::LegalEntity => "legal_entity",
        }
    }

    pub fn parse(s: &str) -> Option<AccountKind> {
        match s {
            "individual" => Some(AccountKind::Individual),
            "legal_entity" => Some(AccountKind::LegalEntity),
            _ => None,
        }
    }
}

/// Three independent flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFlags {
    /// No one can log in (containment of a compromise).
    pub locked: bool,
    /// Its personal data is frozen (§14): views degrade to masked, no reveal.
    pub blocked: bool,
    /// A tombstone after deletion (§14): personal values and the data key are gone.
    pub erased: bool,
}

/// Result of a client's login attempt to the hosted service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginResult {
    Success,
    WrongPassword,
    Locked,
}

impl LoginResult {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginResult::Success => "success",
            LoginResult::WrongPassword => "wrong_password",
            LoginResult::Locked => "locked",
        }
    }

    pub fn parse(s: &str) -> Option<LoginResult> {
        match s {
            "success" => Some(LoginResult::Success),
            "wrong_password" => Some(LoginResult::WrongPassword),
            "locked" => Some(LoginResult::Locked),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct LoginEvent {
    pub at: Timestamp,
    /// The client's source address: personal data.
    pub source: Personal<String>,
    pub result: LoginResult,
}

#[derive(Clone, Debug)]
pub struct ClientSession {
    pub id: i64,
    pub started_at: Timestamp,
    pub source: Personal<String>,
}

/// A person the client named in advance who may ask for a password change (§4).
#[derive(Clone, Debug)]
pub struct DesignatedContact {
    pub id: ContactId,
    pub name: Option<Personal<String>>,
    pub email: Option<Personal<String>>,
    pub phone: Option<Personal<String>>,
    /// Whether a verification passphrase is on file (its hash never leaves the desk layer).
    pub has_passphrase: bool,
    pub has_email: bool,
    pub has_phone: bool,
}

/// An account opened by the desk. A personal field is `None` when it is not held, or when
/// the policy did not let the desk decrypt it for this look.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: AccountId,
    pub kind: AccountKind,
    pub flags: AccountFlags,
    pub name: Option<Personal<String>>,
    pub email: Option<Personal<String>>,
    pub phone: Option<Personal<String>>,
    pub postal_address: Option<Personal<String>>,
    pub tax_id: Option<Personal<String>>,
    /// Admin logins inside the hosted software: only their number is needed by the desk (§5).
    pub admin_login_count: u32,
    pub contacts: Vec<DesignatedContact>,
    pub login_history: Vec<LoginEvent>,
    pub sessions: Vec<ClientSession>,
}

impl Account {
    /// §5: the provider recommends two or more independent admin logins.
    pub fn too_few_admin_logins(&self) -> bool {
        self.admin_login_count < 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_print_and_parse() {
        assert_eq!(AccountId(42).to_string(), "A42");
        assert_eq!("A42".parse::<AccountId>(), Ok(AccountId(42)));
        assert_eq!("42".parse::<AccountId>(), Ok(AccountId(42)));
        assert!("x".parse::<AccountId>().is_err());
    }

    #[test]
    fn flags_too_few_admins() {
        let mut a = Account {
            id: AccountId(1),
            kind: AccountKind::LegalEntity,
            flags: AccountFlags::default(),
            name: None,
            email: None,
            phone: None,
            postal_address: None,
            tax_id: None,
            admin_login_count: 1,
            contacts: vec![],
            login_history: vec![],
            sessions: vec![],
        };
        assert!(a.too_few_admin_logins());
        a.admin_login_count = 2;
        assert!(!a.too_few_admin_logins());
    }
}
