//! Staff members, their five roles, and the actor every desk operation is performed as.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A staff role (policy §8, "need to know"). The access table in `policy.rs` is keyed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Support staff: password resets, contact changes, intake, preparing subject requests.
    Agent,
    /// On-call engineer: the compromise queue.
    Oncall,
    /// All queues; approves what others prepared; reads the audit log.
    Supervisor,
    /// Data-protection officer: the audit log and reports, no personal value.
    Auditor,
    /// Staff accounts, keys, configuration; no queue, no personal value.
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Agent,
        Role::Oncall,
        Role::Supervisor,
        Role::Auditor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Oncall => "oncall",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected one of agent, oncall, supervisor, auditor, admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRole(s.chars().take(32).collect()))
    }
}

/// The language of the desk's own text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
        }
    }

    /// From a POSIX locale such as `ru_RU.UTF-8` or a tag such as `ru`; `None` if unknown.
    pub fn from_locale(locale: &str) -> Option<Lang> {
        let tag = locale
            .split(['_', '-', '.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match tag.as_str() {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: expected en or ru")]
pub struct UnknownLang(pub String);

impl FromStr for Lang {
    type Err = UnknownLang;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "ru" => Ok(Lang::Ru),
            _ => Err(UnknownLang(s.chars().take(16).collect())),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StaffId(pub i64);

impl fmt::Display for StaffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A staff login: also the SSH user name, so it keeps to a conservative character set.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Login(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("a staff login must not be empty")]
    Empty,
    #[error("a staff login is at most 32 characters")]
    TooLong,
    #[error(
        "a staff login starts with a lower-case Latin letter and holds only a-z, 0-9, '.', '_' \
         or '-' (it is also the SSH user name)"
    )]
    BadCharacter,
}

impl Login {
    pub fn parse(s: &str) -> Result<Login, LoginError> {
        if s.is_empty() {
            return Err(LoginError::Empty);
        }
        if s.chars().count() > 32 {
            return Err(LoginError::TooLong);
        }
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok =
            chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !(first_ok && rest_ok) {
            return Err(LoginError::BadCharacter);
        }
        Ok(Login(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A staff member as the desk knows them (no password hash: that stays in the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staff {
    pub id: StaffId,
    pub login: Login,
    pub display_name: String,
    pub role: Role,
    pub lang: Option<Lang>,
    pub disabled: bool,
    pub failed_attempts: u32,
    pub locked_until: Option<Timestamp>,
    pub last_login_at: Option<Timestamp>,
    pub key_count: u32,
}

impl Staff {
    pub fn is_locked_out(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// How long a staff account stays locked after `failed` consecutive failed logins:
/// nothing for the first four, then 1 minute doubling per further failure, capped at a day.
pub fn lockout_after(failed: u32) -> Option<jiff::SignedDuration> {
    const FREE_ATTEMPTS: u32 = 4;
    if failed <= FREE_ATTEMPTS {
        return None;
    }
    let doublings = (failed - FREE_ATTEMPTS - 1).min(11);
    let minutes = (1_i64 << doublings).min(24 * 60);
    Some(jiff::SignedDuration::from_mins(minutes))
}

/// Who performs an operation. Every audit record names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub principal: Principal,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An authenticated staff member, acting under their role.
    Staff {
        id: StaffId,
        login: Login,
        role: Role,
    },
    /// A shell user running the command line: shell access to the desk's host is admin trust.
    Shell { os_user: String },
    /// The desk itself: timed jobs, deliveries, expiries.
    System,
}

/// Where an actor acts from; recorded on every audit record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The local terminal of the host running the desk.
    Local,
    /// An SSH session from this address (a staff session's address, not a client's).
    Ssh { addr: String },
    /// The command line.
    Cli,
    /// A job of the desk's own.
    System,
}

impl Source {
    pub fn as_label(&self) -> String {
        match self {
            Source::Local => "local".to_owned(),
            Source::Ssh { addr } => format!("ssh {addr}"),
            Source::Cli => "cli".to_owned(),
            Source::System => "system".to_owned(),
        }
    }
}

impl Actor {
    pub fn staff(staff: &Staff, source: Source) -> Actor {
        Actor {
            principal: Principal::Staff {
                id: staff.id,
                login: staff.login.clone(),
                role: staff.role,
            },
            source,
        }
    }

    pub fn shell(os_user: impl Into<String>) -> Actor {
        Actor {
            principal: Principal::Shell {
                os_user: os_user.into(),
            },
            source: Source::Cli,
        }
    }

    pub fn system() -> Actor {
        Actor {
            principal: Principal::System,
            source: Source::System,
        }
    }

    pub fn role(&self) -> Option<Role> {
        match &self.principal {
            Principal::Staff { role, .. } => Some(*role),
            _ => None,
        }
    }

    pub fn staff_id(&self) -> Option<StaffId> {
        match &self.principal {
            Principal::Staff { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The name an audit record carries: a staff login, `os-user@cli`, or `system`.
    pub fn label(&self) -> String {
        match &self.principal {
            Principal::Staff { login, .. } => login.to_string(),
            Principal::Shell { os_user } => format!("{os_user}@cli"),
            Principal::System => "system".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_print() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!("Supervisor".parse::<Role>(), Ok(Role::Supervisor));
        assert!("root".parse::<Role>().is_err());
        assert!("".parse::<Role>().is_err());
    }

    #[test]
    fn logins_are_conservative() {
        assert!(Login::parse("agent").is_ok());
        assert!(Login::parse("i.petrova-2").is_ok());
        assert_eq!(Login::parse(""), Err(LoginError::Empty));
        assert_eq!(Login::parse("Agent"), Err(LoginError::BadCharacter));
        assert_eq!(Login::parse("1agent"), Err(LoginError::BadCharacter));
        assert_eq!(Login::parse("агент"), Err(LoginError::BadCharacter));
        assert_eq!(Login::parse("a b"), Err(LoginError::BadCharacter));
        assert_eq!(Login::parse(&"a".repeat(33)), Err(LoginError::TooLong));
    }

    #[test]
    fn lockout_grows_exponentially_and_is_capped() {
        assert_eq!(lockout_after(0), None);
        assert_eq!(lockout_after(4), None);
        assert_eq!(lockout_after(5), Some(jiff::SignedDuration::from_mins(1)));
        assert_eq!(lockout_after(6), Some(jiff::SignedDuration::from_mins(2)));
        assert_eq!(lockout_after(8), Some(jiff::SignedDuration::from_mins(8)));
        assert_eq!(
            lockout_after(100),
            Some(jiff::SignedDuration::from_mins(24 * 60))
        );
    }

    #[test]
    fn lang_from_locale() {
        assert_eq!(Lang::from_locale("ru_RU.UTF-8"), Some(Lang::Ru));
        assert_eq!(Lang::from_locale("en_GB.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_locale("C.UTF-8"), None);
        assert_eq!(Lang::from_locale(""), None);
    }
}
