//! Staff management: add, roles, languages, passwords, disabling, unlocking, SSH keys.
//! From the command line (shell access is admin trust) or by an admin; every change audited.

use crate::domain::personal::Secret;
use crate::domain::staff::{Actor, Lang, Login, Role, Staff};
use crate::store::{Mutation, NewStaff, NewStaffKey, StaffChange, StaffKeyRow};

use super::auth::staff_of;
use super::{Desk, DeskError, Result, require_admin};

/// A staff member's registered SSH key, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffKey {
    pub algorithm: String,
    pub fingerprint: String,
    pub comment: String,
    pub added_at: jiff::Timestamp,
}

impl From<StaffKeyRow> for StaffKey {
    fn from(r: StaffKeyRow) -> Self {
        StaffKey {
            algorithm: r.algorithm,
            fingerprint: r.fingerprint,
            comment: r.comment,
            added_at: r.added_at,
        }
    }
}

/// A public key parsed from an OpenSSH line (`ssh-ed25519 AAAA… comment`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedKey {
    pub algorithm: String,
    pub public_key: String,
    pub fingerprint: String,
    pub comment: String,
}

/// Parses the first key of an OpenSSH public key file.
pub fn parse_public_key(text: &str) -> Result<ParsedKey> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .ok_or_else(|| DeskError::Invalid("the key file holds no public key".to_owned()))?;
    if line.contains("PRIVATE KEY") {
        return Err(DeskError::Invalid(
            "this is a private key: give the public key (the .pub file) instead, and keep the private key secret"
                .to_owned(),
        ));
    }
    let key = russh::keys::PublicKey::from_openssh(line).map_err(|e| {
        DeskError::Invalid(format!(
            "not an OpenSSH public key ({e}); expected a line like `ssh-ed25519 AAAA… name@host`"
        ))
    })?;
    let comment = key.comment().to_string();
    let mut bare = key.clone();
    bare.set_comment("");
    let public_key = bare
        .to_openssh()
        .map_err(|e| DeskError::Invalid(format!("cannot encode the key: {e}")))?
        .trim()
        .to_owned();
    Ok(ParsedKey {
        algorithm: key.algorithm().to_string(),
        public_key,
        fingerprint: key.fingerprint(russh::keys::HashAlg::Sha256).to_string(),
        comment: comment
            .chars()
            .filter(|c| !c.is_control())
            .take(100)
            .collect(),
    })
}

/// An admin working in the desk may not lock themselves out (the last admin would need the
/// command line to get back in); the command line, acting as the shell user, may.
fn refuse_self(actor: &Actor, login: &str, what: &str) -> Result<()> {
    if matches!(&actor.principal, crate::domain::staff::Principal::Staff { login: me, .. } if me.as_str() == login)
    {
        return Err(DeskError::Denied(format!(
            "you may not {what} from the desk; another admin, or `privdesk staff` on the host, can"
        )));
    }
    Ok(())
}

fn login_of(s: &str) -> Result<Login> {
    Login::parse(s).map_err(|e| DeskError::Invalid(e.to_string()))
}

fn check_password_strength(p: &Secret<String>) -> Result<()> {
    let n = p.expose().chars().count();
    if n < 12 {
        return Err(DeskError::Invalid(format!(
            "a staff password needs at least 12 characters (this one has {n}); a passphrase of a few words works well"
        )));
    }
    if n > 1024 {
        return Err(DeskError::Invalid(
            "a staff password is at most 1024 characters".to_owned(),
        ));
    }
    Ok(())
}

/// Why a staff operation was refused, as the audit record's code; `None` for failures that
/// are not a refusal (the database, an internal error).
fn refusal_code(e: &DeskError) -> Option<&'static str> {
    match e {
        DeskError::Denied(_) => Some("denied"),
        DeskError::NotFound { .. } => Some("not_found"),
        DeskError::Invalid(_) => Some("invalid"),
        DeskError::Store(crate::store::StoreError::Conflict(_)) => Some("conflict"),
        _ => None,
    }
}

impl Desk {
    /// Runs a staff operation; a refusal (not allowed, no such member, bad input) is
    /// recorded with outcome `refused`, so the log shows attempts as well as changes.
    async fn recording_refusal<T>(
        &self,
        actor: &Actor,
        action: &str,
        login: &str,
        op: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let result = op.await;
        if let Err(e) = &result
            && let Some(why) = refusal_code(e)
        {
            let target =
                Login::parse(login).map_or_else(|_| "(not a login)".to_owned(), |l| l.to_string());
            let audit = self
                .audit(actor, action)
                .target(target.as_str())
                .outcome(crate::store::audit::Outcome::Refused)
                .detail(why.to_owned());
            if let Err(failed) = self.commit(vec![], audit).await {
                tracing::warn!(action, error = %failed, "a refused staff operation could not be recorded");
            }
        }
        result
    }

    async fn staff_row(&self, login: &str) -> Result<crate::store::StaffRow> {
        self.store
            .staff_by_login(login)
            .await?
            .ok_or_else(|| DeskError::NotFound {
                what: "staff member",
                id: login.chars().take(40).collect(),
            })
    }

    pub async fn add_staff(
        &self,
        actor: &Actor,
        login: &str,
        display_name: &str,
        role: Role,
        lang: Option<Lang>,
        password: Secret<String>,
    ) -> Result<Staff> {
        self.recording_refusal(actor, "staff.add", login, async {
            self.add_staff_inner(actor, login, display_name, role, lang, password, false)
                .await
        })
        .await
    }

    /// Adds a demo staff member (password `demo`); such logins work only in demo databases.
    pub async fn add_demo_staff(&self, actor: &Actor, role: Role) -> Result<Staff> {
        self.add_staff_inner(
            actor,
            role.as_str(),
            &format!("Demo {role}"),
            role,
            None,
            Secret::from("demo".to_owned()),
            true,
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn add_staff_inner(
        &self,
        actor: &Actor,
        login: &str,
        display_name: &str,
        role: Role,
        lang: Option<Lang>,
        password: Secret<String>,
        demo: bool,
    ) -> Result<Staff> {
        require_admin(actor)?;
        let login = login_of(login)?;
        if !demo {
            check_password_strength(&password)?;
        }
        let display_name: String = display_name
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        let hash = self.hash_password(password).await?;
        let new = NewStaff {
            login: login.to_string(),
            display_name: if display_name.trim().is_empty() {
                login.to_string()
            } else {
                display_name
            },
            role,
            lang,
            password_hash: hash,
            demo,
        };
        let audit = self
            .audit(actor, "staff.add")
            .target(login.as_str())
            .detail(format!("role={role}"));
        let out = self.commit(vec![Mutation::InsertStaff(new)], audit).await?;
        let id = out
            .staff_ids
            .first()
            .copied()
            .ok_or_else(|| DeskError::Internal("no staff id".into()))?;
        let row = self
            .store
            .staff_by_id(id)
            .await?
            .ok_or_else(|| DeskError::Internal("staff vanished".into()))?;
        staff_of(&row)
    }

    pub async fn list_staff(&self, actor: &Actor) -> Result<Vec<Staff>> {
        require_admin(actor)?;
        self.store
            .list_staff()
            .await?
            .iter()
            .map(staff_of)
            .collect()
    }

    pub async fn staff_keys(&self, actor: &Actor, login: &str) -> Result<Vec<StaffKey>> {
        require_admin(actor)?;
        let row = self.staff_row(login).await?;
        Ok(self
            .store
            .staff_keys(row.id)
            .await?
            .into_iter()
            .map(StaffKey::from)
            .collect())
    }

    async fn change_staff(
        &self,
        actor: &Actor,
        login: &str,
        change: StaffChange,
        action: &str,
        detail: String,
    ) -> Result<()> {
        require_admin(actor)?;
        let row = self.staff_row(login).await?;
        let audit = self
            .audit(actor, action)
            .target(row.login.as_str())
            .detail(detail);
        self.commit(vec![Mutation::UpdateStaff { id: row.id, change }], audit)
            .await?;
        Ok(())
    }

    /// Changes a role; the member's live sessions end.
    pub async fn set_role(&self, actor: &Actor, login: &str, role: Role) -> Result<()> {
        self.recording_refusal(actor, "staff.set_role", login, async {
            refuse_self(actor, login, "change your own role")?;
            let change = StaffChange {
                role: Some(role),
                bump_generation: true,
                ..StaffChange::default()
            };
            self.change_staff(
                actor,
                login,
                change,
                "staff.set_role",
                format!("role={role}"),
            )
            .await
        })
        .await
    }

    pub async fn set_lang(&self, actor: &Actor, login: &str, lang: Option<Lang>) -> Result<()> {
        self.recording_refusal(actor, "staff.set_lang", login, async {
            let change = StaffChange {
                lang: Some(lang),
                ..StaffChange::default()
            };
            let detail = format!("lang={}", lang.map_or("none", Lang::as_str));
            self.change_staff(actor, login, change, "staff.set_lang", detail)
                .await
        })
        .await
    }

    pub async fn set_password(
        &self,
        actor: &Actor,
        login: &str,
        password: Secret<String>,
    ) -> Result<()> {
        self.recording_refusal(actor, "staff.passwd", login, async {
            check_password_strength(&password)?;
            let hash = self.hash_password(password).await?;
            let change = StaffChange {
                password_hash: Some(hash),
                failed_attempts: Some(0),
                locked_until: Some(None),
                ..StaffChange::default()
            };
            self.change_staff(actor, login, change, "staff.passwd", String::new())
                .await
        })
        .await
    }

    /// Disables a member (or enables again); disabling ends their live sessions.
    pub async fn set_disabled(&self, actor: &Actor, login: &str, disabled: bool) -> Result<()> {
        self.recording_refusal(
            actor,
            if disabled {
                "staff.disable"
            } else {
                "staff.enable"
            },
            login,
            async {
                if disabled {
                    refuse_self(actor, login, "disable your own account")?;
                }
                let change = StaffChange {
                    disabled: Some(disabled),
                    bump_generation: disabled,
                    ..StaffChange::default()
                };
                let action = if disabled {
                    "staff.disable"
                } else {
                    "staff.enable"
                };
                self.change_staff(actor, login, change, action, String::new())
                    .await
            },
        )
        .await
    }

    /// Clears a lock-out after failed logins.
    pub async fn unlock_staff(&self, actor: &Actor, login: &str) -> Result<()> {
        self.recording_refusal(actor, "staff.unlock", login, async {
            let change = StaffChange {
                failed_attempts: Some(0),
                locked_until: Some(None),
                ..StaffChange::default()
            };
            self.change_staff(actor, login, change, "staff.unlock", String::new())
                .await
        })
        .await
    }

    pub async fn add_staff_key(
        &self,
        actor: &Actor,
        login: &str,
        key_text: &str,
    ) -> Result<ParsedKey> {
        self.recording_refusal(actor, "staff.add_key", login, async {
            require_admin(actor)?;
            let key = parse_public_key(key_text)?;
            let row = self.staff_row(login).await?;
            // One key, one person: a key shared between staff would hide who connected. Only
            // the demo logins of a demo database may share one (`privdesk demo --ssh-key`).
            for held in self
                .store
                .staff_keys_by_fingerprint(&key.fingerprint)
                .await?
            {
                if held.staff_id == row.id {
                    return Err(DeskError::Store(crate::store::StoreError::Conflict(
                        format!(
                            "the key {} is already registered for {}",
                            key.fingerprint, row.login
                        ),
                    )));
                }
                let holder = self.store.staff_by_id(held.staff_id).await?;
                let both_demo =
                    row.demo && holder.as_ref().is_some_and(|h| h.demo) && self.is_demo().await?;
                if !both_demo {
                    let who = holder.map_or_else(|| "another staff member".to_owned(), |h| h.login);
                    return Err(DeskError::Store(crate::store::StoreError::Conflict(
                        format!(
                            "the key {} is already registered for {who}: each staff member needs a key of their own \
                         (a shared key would hide who connected)",
                            key.fingerprint
                        ),
                    )));
                }
            }
            let new = NewStaffKey {
                staff: row.id,
                algorithm: key.algorithm.clone(),
                public_key: key.public_key.clone(),
                fingerprint: key.fingerprint.clone(),
                comment: key.comment.clone(),
            };
            let audit = self
                .audit(actor, "staff.add_key")
                .target(row.login.as_str())
                .detail(key.fingerprint.clone());
            self.commit(vec![Mutation::AddStaffKey(new)], audit).await?;
            Ok(key)
        })
        .await
    }

    /// Removes a key by its fingerprint (`SHA256:…`); the member's live sessions end.
    pub async fn remove_staff_key(
        &self,
        actor: &Actor,
        login: &str,
        fingerprint: &str,
    ) -> Result<()> {
        self.recording_refusal(actor, "staff.remove_key", login, async {
            require_admin(actor)?;
            let row = self.staff_row(login).await?;
            let audit = self
                .audit(actor, "staff.remove_key")
                .target(row.login.as_str())
                .detail(fingerprint.to_owned());
            self.commit(
                vec![Mutation::RemoveStaffKey {
                    staff: row.id,
                    fingerprint: fingerprint.to_owned(),
                }],
                audit,
            )
            .await?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_parse_and_private_keys_are_refused() {
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq7Dp2tIYbB8b2QH0mFfN4Eh3Sl3bW3d0yJ3oO0nRr6 desk@host";
        let k = parse_public_key(line).unwrap();
        assert_eq!(k.algorithm, "ssh-ed25519");
        assert!(k.fingerprint.starts_with("SHA256:"));
        assert_eq!(k.comment, "desk@host");
        assert!(!k.public_key.contains("desk@host"));
        assert!(parse_public_key("").is_err());
        assert!(parse_public_key("ssh-ed25519 notbase64").is_err());
        let err = parse_public_key("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("private key"), "{err}");
    }
}
