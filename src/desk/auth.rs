//! Staff authentication: passwords with exponential lock-out, SSH keys, session checks.

use crate::domain::personal::Secret;
use crate::domain::staff::{Actor, Login, Source, Staff, lockout_after};
use crate::store::{Mutation, StaffChange, StaffRow, audit::Outcome};

use super::{Desk, DeskError, Result};

/// Why a login was refused. An unknown login and a wrong password give the same answer
/// (also on a disabled account: only its right password learns that it is disabled).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("wrong login or password")]
    InvalidCredentials,
    #[error(
        "this staff account is locked after too many failed attempts; try again after {until} or ask an admin to unlock it"
    )]
    LockedOut { until: String },
    #[error("this staff account is disabled; ask an admin")]
    Disabled,
    #[error("this key is not registered for this staff member")]
    UnknownKey,
    #[error("demo logins work only in a demo database")]
    DemoOnly,
}

pub(crate) fn staff_of(row: &StaffRow) -> Result<Staff> {
    Ok(Staff {
        id: row.id,
        login: Login::parse(&row.login)
            .map_err(|e| DeskError::Internal(format!("stored login: {e}")))?,
        display_name: row.display_name.clone(),
        role: row.role,
        lang: row.lang,
        disabled: row.disabled,
        failed_attempts: row.failed_attempts,
        locked_until: row.locked_until,
        last_login_at: row.last_login_at,
        key_count: row.key_count,
    })
}

/// How often a failed login is counted again when other attempts moved the count first.
const COUNT_RETRIES: usize = 64;

/// A fixed argon2id hash of a random password, verified when the login is unknown so that
/// an unknown login takes as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2o7Kb2lB7t7Z7tQm3Lxg2cYv1i2xwC9rPq1J3X0r6aE";

impl Desk {
    fn until_text(&self, until: jiff::Timestamp) -> String {
        until
            .to_zoned_datetime(self.rules.tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    async fn is_demo_database(&self) -> bool {
        matches!(self.store.meta("demo").await, Ok(Some(v)) if v == "true")
    }

    /// Checks a login and password. Failures count towards an exponential lock-out and are
    /// audited; the same error answers an unknown login and a wrong password.
    pub async fn login(
        &self,
        login: &str,
        password: Secret<String>,
        source: Source,
    ) -> Result<Staff> {
        let now = self.now();
        let Some(row) = self.store.staff_by_login(login).await? else {
            let _ = self.check_password(password, DUMMY_HASH.to_owned()).await;
            let actor = Actor {
                principal: crate::domain::staff::Principal::System,
                source,
            };
            self.commit(
                vec![],
                self.audit(&actor, "auth.login")
                    .target("(unknown login)")
                    .outcome(Outcome::Refused)
                    .detail("unknown"),
            )
            .await?;
            return Err(AuthError::InvalidCredentials.into());
        };
        let staff = staff_of(&row)?;
        let actor = Actor::staff(&staff, source);
        if row.disabled {
            // Only the right password learns that the account is disabled: anyone else gets
            // the answer (and the wait) of a wrong password, so a login cannot be probed.
            let right = self
                .check_password(password, row.password_hash.clone())
                .await?;
            self.commit(
                vec![],
                self.audit(&actor, "auth.login")
                    .outcome(Outcome::Refused)
                    .detail(if right {
                        "disabled"
                    } else {
                        "disabled wrong_password"
                    }),
            )
            .await?;
            return Err(if right {
                AuthError::Disabled
            } else {
                AuthError::InvalidCredentials
            }
            .into());
        }
        if row.demo && !self.is_demo_database().await {
            return Err(AuthError::DemoOnly.into());
        }
        if let Some(until) = row.locked_until.filter(|u| *u > now) {
            self.commit(
                vec![],
                self.audit(&actor, "auth.login")
                    .outcome(Outcome::Refused)
                    .detail("locked_out"),
            )
            .await?;
            return Err(AuthError::LockedOut {
                until: self.until_text(until),
            }
            .into());
        }
        if self
            .check_password(password, row.password_hash.clone())
            .await?
        {
            let change = StaffChange {
                failed_attempts: Some(0),
                locked_until: Some(None),
                last_login_at: Some(now),
                ..StaffChange::default()
            };
            self.commit(
                vec![Mutation::UpdateStaff { id: row.id, change }],
                self.audit(&actor, "auth.login"),
            )
            .await?;
            Ok(staff)
        } else {
            self.count_failure(row, &actor, now).await?;
            Err(AuthError::InvalidCredentials.into())
        }
    }

    /// Counts a wrong password towards the lock-out. Guesses made at the same time (many
    /// SSH connections, several hosts) must each count: the new count is written only if
    /// the stored one did not move meanwhile, else it is read again and counted again.
    async fn count_failure(
        &self,
        mut row: StaffRow,
        actor: &Actor,
        now: jiff::Timestamp,
    ) -> Result<()> {
        for _ in 0..COUNT_RETRIES {
            let failed = row.failed_attempts.saturating_add(1);
            let locked_until = lockout_after(failed).and_then(|d| now.checked_add(d).ok());
            let change = StaffChange {
                failed_attempts: Some(failed),
                locked_until: Some(locked_until),
                expected_failed_attempts: Some(row.failed_attempts),
                ..StaffChange::default()
            };
            let detail = if locked_until.is_some() {
                "wrong_password locked_out"
            } else {
                "wrong_password"
            };
            let audit = self
                .audit(actor, "auth.login")
                .outcome(Outcome::Refused)
                .detail(detail);
            match self
                .commit(vec![Mutation::UpdateStaff { id: row.id, change }], audit)
                .await
            {
                Err(e) if e.is_stale() => {
                    let Some(fresh) = self.store.staff_by_id(row.id).await? else {
                        return Ok(());
                    };
                    row = fresh;
                }
                other => return other.map(|_| ()),
            }
        }
        Err(DeskError::Internal(
            "too many login attempts at once to count them; try again".to_owned(),
        ))
    }

    /// Re-checks the password of a signed-in staff member (unlocking an idle screen).
    /// Failures count towards the lock-out like any login.
    pub async fn unlock_screen(
        &self,
        staff: &Staff,
        password: Secret<String>,
        source: Source,
    ) -> Result<Staff> {
        self.login(staff.login.as_str(), password, source).await
    }

    /// The staff member an SSH key belongs to, if the login matches and the member may work.
    pub async fn staff_for_key(&self, login: &str, fingerprint: &str) -> Result<(Staff, i64)> {
        let Some(row) = self.store.staff_by_login(login).await? else {
            return Err(AuthError::UnknownKey.into());
        };
        let keys = self.store.staff_keys_by_fingerprint(fingerprint).await?;
        if !keys.iter().any(|k| k.staff_id == row.id) {
            return Err(AuthError::UnknownKey.into());
        }
        if row.disabled {
            return Err(AuthError::Disabled.into());
        }
        if let Some(until) = row.locked_until.filter(|u| *u > self.now()) {
            return Err(AuthError::LockedOut {
                until: self.until_text(until),
            }
            .into());
        }
        if row.demo && !self.is_demo_database().await {
            return Err(AuthError::DemoOnly.into());
        }
        Ok((staff_of(&row)?, row.generation))
    }

    /// Whether a live session of `staff` (opened at `generation`) may go on: false once the
    /// member is disabled, their role changed or a key was removed.
    pub async fn session_still_valid(&self, staff: &Staff, generation: i64) -> Result<bool> {
        Ok(match self.store.staff_by_id(staff.id).await? {
            Some(row) => !row.disabled && row.generation == generation && row.role == staff.role,
            None => false,
        })
    }

    /// The current generation of a staff member (to compare later with `session_still_valid`).
    pub async fn staff_generation(&self, staff: &Staff) -> Result<i64> {
        Ok(self
            .store
            .staff_by_id(staff.id)
            .await?
            .map_or(-1, |r| r.generation))
    }
}

#[cfg(test)]
mod tests {
    use super::DUMMY_HASH;

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        // An unknown login verifies against it: it must parse and run argon2 with the
        // current parameters, or an unknown login would answer faster than a wrong password.
        assert_eq!(
            crate::crypto::verify_password(b"anything", DUMMY_HASH).ok(),
            Some(false)
        );
        assert!(!crate::crypto::needs_rehash(DUMMY_HASH));
    }
}
