//! The two ways past a mask that DOMAIN.md allows (policy §8, §11): a reveal of one field,
//! with a purpose from a fixed list, audited before the value is decrypted; and a check,
//! which tells only whether a value a caller gave matches. Both are rate-limited, and
//! pushing a limit raises a supervisor notice.

use jiff::SignedDuration;

use crate::crypto::IndexKind;
use crate::domain::account::ContactId;
use crate::domain::normalize;
use crate::domain::personal::{Personal, Secret};
use crate::domain::policy::{Action, Field, FieldContext, Purpose, field_access};
use crate::domain::request::{RequestId, RequestKind};
use crate::domain::staff::{Actor, Role};
use crate::domain::view::{FieldView, Viewer};
use crate::store::audit::Outcome;
use crate::store::{
    AccountRow, AuditFilter, LimitGuard, Mutation, NewNotice, RequestRow, StoreError,
};

use zeroize::Zeroizing;

use super::{Desk, DeskError, Keyring, Result, require};

/// One field of the request's account (or of its contacts, or of its case) to reveal or check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    Email,
    Phone,
    PostalAddress,
    TaxId,
    ContactEmail(ContactId),
    ContactPhone(ContactId),
    ContactPassphrase(ContactId),
    /// An item of verification data collected for this case (§9).
    Verification(i64),
}

impl Target {
    pub fn field(self) -> Field {
        match self {
            Target::Email => Field::Email,
            Target::Phone => Field::Phone,
            Target::PostalAddress => Field::PostalAddress,
            Target::TaxId => Field::TaxId,
            Target::ContactEmail(_) | Target::ContactPhone(_) => Field::ContactChannels,
            Target::ContactPassphrase(_) => Field::ContactPassphrase,
            Target::Verification(_) => Field::VerificationData,
        }
    }

    /// The name an audit record gives the field (never its value).
    fn audit_name(self) -> String {
        match self {
            Target::ContactEmail(c) => format!("contact_email:{}", c.0),
            Target::ContactPhone(c) => format!("contact_phone:{}", c.0),
            Target::ContactPassphrase(c) => format!("contact_passphrase:{}", c.0),
            Target::Verification(i) => format!("verification_data:{i}"),
            other => other.field().as_str().to_owned(),
        }
    }
}

const REVEAL: &str = "field.reveal";
const CHECK: &str = "field.check";

impl Desk {
    /// The request, its account, the role and the field situation for a look past a mask.
    /// A refusal by the queue rule is recorded like any other refused look.
    async fn situation(
        &self,
        actor: &Actor,
        id: RequestId,
        action: &str,
        target: Target,
    ) -> Result<(RequestRow, AccountRow, Role, FieldContext)> {
        let r = self
            .store
            .request(id)
            .await?
            .ok_or_else(|| DeskError::NotFound {
                what: "request",
                id: id.to_string(),
            })?;
        let role = match require(actor, Action::ViewQueue(r.kind.queue())) {
            Ok(role) => role,
            Err(e) => {
                self.refuse(actor, &r, action, target, "not_your_queue", None)
                    .await?;
                return Err(e);
            }
        };
        let a = self
            .store
            .account(r.account)
            .await?
            .ok_or_else(|| DeskError::NotFound {
                what: "account",
                id: r.account.to_string(),
            })?;
        if a.flags.erased {
            return Err(DeskError::KeyDestroyed(a.id));
        }
        let ctx = FieldContext {
            on_own_queue: true,
            that_case: r.kind == RequestKind::Compromise,
            account_blocked: a.flags.blocked,
            in_own_subject_request: r.kind.is_subject_request(),
        };
        Ok((r, a, role, ctx))
    }

    /// Refuses, recording the refusal (and a notice for supervisors when `notice` says).
    async fn refuse(
        &self,
        actor: &Actor,
        r: &RequestRow,
        action: &str,
        target: Target,
        why: &str,
        notice: Option<NewNotice>,
    ) -> Result<DeskError> {
        let audit = self
            .audit(actor, action)
            .request(r.id)
            .account(r.account)
            .field_names(&[target.field()])
            .outcome(Outcome::Refused)
            .detail(why.to_owned());
        let mutations = notice.into_iter().map(Mutation::InsertNotice).collect();
        self.commit(mutations, audit).await?;
        Ok(DeskError::Denied(match why {
            "rate_limited" => format!(
                "you reached the limit of {} reveals an hour; a supervisor was told",
                self.rules.limits.reveals_per_hour
            ),
            "attempts_exceeded" => format!(
                "this request reached the limit of {} checks; a supervisor was told",
                self.rules.limits.checks_per_request
            ),
            "blocked" => {
                "the account is blocked (§14): its data can be neither revealed nor checked here"
                    .to_owned()
            }
            _ => format!(
                "your role may not {} this field here",
                if action == REVEAL { "reveal" } else { "check" }
            ),
        }))
    }

    /// The sealed value of a target, with where it was sealed (table, column, row).
    async fn sealed(
        &self,
        r: &RequestRow,
        a: &AccountRow,
        target: Target,
    ) -> Result<Option<(Vec<u8>, &'static str, &'static str, i64)>> {
        let contact = |c: ContactId| async move {
            self.store
                .contact(c.0)
                .await?
                .filter(|row| row.account == a.id && row.active)
                .ok_or_else(|| DeskError::NotFound {
                    what: "designated contact",
                    id: c.0.to_string(),
                })
        };
        Ok(match target {
            Target::Email => a.email.clone().map(|b| (b, "accounts", "email_ct", a.id.0)),
            Target::Phone => a.phone.clone().map(|b| (b, "accounts", "phone_ct", a.id.0)),
            Target::PostalAddress => a
                .postal_address
                .clone()
                .map(|b| (b, "accounts", "postal_ct", a.id.0)),
            Target::TaxId => a.tax_id.clone().map(|b| (b, "accounts", "tax_ct", a.id.0)),
            Target::ContactEmail(c) => contact(c)
                .await?
                .email
                .map(|b| (b, "contacts", "email_ct", c.0)),
            Target::ContactPhone(c) => contact(c)
                .await?
                .phone
                .map(|b| (b, "contacts", "phone_ct", c.0)),
            Target::ContactPassphrase(c) => contact(c)
                .await?
                .passphrase
                .map(|b| (b, "contacts", "passphrase_ct", c.0)),
            Target::Verification(item) => self
                .store
                .verification_items(r.id)
                .await?
                .into_iter()
                .find(|v| v.id == item)
                .map(|v| (v.value, "verification_data", "value_ct", v.id)),
        })
    }

    /// Reveals one field of one request's account, for `purpose` (§11). The reveal is
    /// audited before the value is decrypted: if the record cannot be written, nothing is
    /// shown. Refused beyond the role's cells and beyond the hourly limit (which raises a
    /// supervisor notice).
    pub async fn reveal(
        &self,
        actor: &Actor,
        id: RequestId,
        target: Target,
        purpose: Purpose,
    ) -> Result<FieldView> {
        let (r, a, role, ctx) = self.situation(actor, id, REVEAL, target).await?;
        if matches!(target, Target::ContactPassphrase(_)) {
            return Err(self
                .refuse(actor, &r, REVEAL, target, "never_revealed", None)
                .await?);
        }
        if !field_access(role, target.field(), ctx).reveal {
            let why = if a.flags.blocked {
                "blocked"
            } else {
                "not_allowed"
            };
            return Err(self.refuse(actor, &r, REVEAL, target, why, None).await?);
        }
        let label = actor.label();
        let since = self
            .now()
            .checked_sub(SignedDuration::from_hours(1))
            .unwrap_or(self.now());
        let done = self
            .store
            .audit_count(&AuditFilter {
                actor: Some(label.clone()),
                action: Some(REVEAL.to_owned()),
                outcome: Some(Outcome::Done.as_str().to_owned()),
                since: Some(since),
                ..AuditFilter::default()
            })
            .await?;
        let over_limit = |label: String| NewNotice {
            at: self.now(),
            kind: "reveal_limit".to_owned(),
            staff: Some(label),
            request: Some(id),
            detail: format!("limit={}/h", self.rules.limits.reveals_per_hour),
        };
        if done >= u64::from(self.rules.limits.reveals_per_hour) {
            return Err(self
                .refuse(
                    actor,
                    &r,
                    REVEAL,
                    target,
                    "rate_limited",
                    Some(over_limit(label)),
                )
                .await?);
        }
        let Some((blob, table, column, row)) = self.sealed(&r, &a, target).await? else {
            return Err(DeskError::Invalid("this field holds no value".to_owned()));
        };
        // First the record, then the value.
        let audit = self
            .audit(actor, REVEAL)
            .request(id)
            .account(r.account)
            .target(target.audit_name())
            .field_names(&[target.field()])
            .purpose(purpose);
        // Counted again inside the record's transaction: a reveal in another session at
        // the same moment cannot take the last one allowed as well.
        let guard = Mutation::Guard(LimitGuard {
            key: format!("reveal:{label}"),
            action: REVEAL.to_owned(),
            actor: Some(label.clone()),
            request: None,
            since: Some(since),
            max: u64::from(self.rules.limits.reveals_per_hour),
        });
        match self.commit(vec![guard], audit).await {
            Err(DeskError::Store(StoreError::LimitReached { .. })) => {
                return Err(self
                    .refuse(
                        actor,
                        &r,
                        REVEAL,
                        target,
                        "rate_limited",
                        Some(over_limit(label)),
                    )
                    .await?);
            }
            other => other?,
        };
        let key = self.keys.data_key(r.account).await?;
        let value = Keyring::open_value(&key, r.account, table, column, row, &blob)?;
        Viewer::new(role, ctx)
            .revealed(target.field(), &value)
            .ok_or_else(|| {
                DeskError::Internal("a reveal allowed by the table was not built".to_owned())
            })
    }

    /// Checks a value a caller gave against the stored one; learns only match / no match.
    /// Emails, phones and tax ids compare by blind index after normalisation; passphrases
    /// against their argon2id hash. Audited; attempts per request are limited.
    pub async fn check(
        &self,
        actor: &Actor,
        id: RequestId,
        target: Target,
        typed: Secret<String>,
    ) -> Result<bool> {
        let (r, a, role, ctx) = self.situation(actor, id, CHECK, target).await?;
        if !field_access(role, target.field(), ctx).check {
            let why = if a.flags.blocked {
                "blocked"
            } else {
                "not_allowed"
            };
            return Err(self.refuse(actor, &r, CHECK, target, why, None).await?);
        }
        let attempts = self
            .store
            .audit_count(&AuditFilter {
                request: Some(id),
                action: Some(CHECK.to_owned()),
                outcome: Some(Outcome::Done.as_str().to_owned()),
                ..AuditFilter::default()
            })
            .await?;
        if attempts >= u64::from(self.rules.limits.checks_per_request) {
            return Err(self.checks_exhausted(actor, &r, target).await?);
        }
        let matched = match target {
            Target::Email | Target::ContactEmail(_) => {
                self.typed_matches(actor, (&r, &a), target, &typed, Normal::Email)
                    .await?
            }
            Target::Phone | Target::ContactPhone(_) => {
                self.typed_matches(actor, (&r, &a), target, &typed, Normal::Phone)
                    .await?
            }
            Target::TaxId => {
                self.typed_matches(actor, (&r, &a), target, &typed, Normal::TaxId)
                    .await?
            }
            Target::ContactPassphrase(_) => match self.sealed(&r, &a, target).await? {
                None => {
                    return Err(DeskError::Invalid(
                        "this contact has no passphrase on file".to_owned(),
                    ));
                }
                Some((blob, table, column, row)) => {
                    let key = self.keys.data_key(r.account).await?;
                    let hash = Keyring::open_value(&key, r.account, table, column, row, &blob)?;
                    let spoken = Secret::new(normalize::passphrase(typed.expose()));
                    self.check_password(spoken, hash.expose().clone()).await?
                }
            },
            Target::Verification(item) => {
                let stored = self
                    .store
                    .verification_items(r.id)
                    .await?
                    .into_iter()
                    .find(|v| v.id == item);
                let Some(v) = stored else {
                    return Err(DeskError::NotFound {
                        what: "verification item",
                        id: item.to_string(),
                    });
                };
                let h = self.keys.blind(
                    IndexKind::VerificationValue,
                    &verification_key(typed.expose()),
                );
                crate::crypto::constant_time_eq(&h, &v.value_index)
            }
            Target::PostalAddress => {
                return Err(DeskError::Invalid(
                    "a postal address cannot be checked".to_owned(),
                ));
            }
        };
        self.checked(actor, &r, target, matched).await
    }

    /// Records a check's outcome (match or not, never the value) and returns it.
    async fn checked(
        &self,
        actor: &Actor,
        r: &RequestRow,
        target: Target,
        matched: bool,
    ) -> Result<bool> {
        let audit = self
            .audit(actor, CHECK)
            .request(r.id)
            .account(r.account)
            .target(target.audit_name())
            .field_names(&[target.field()])
            .detail(if matched { "match" } else { "no_match" });
        // Counted again inside the record's transaction, so checks in two sessions at the
        // same moment cannot both take the last attempt; the outcome is told only once
        // its record is written.
        let guard = Mutation::Guard(LimitGuard {
            key: format!("check:{}", r.id.0),
            action: CHECK.to_owned(),
            actor: None,
            request: Some(r.id),
            since: None,
            max: u64::from(self.rules.limits.checks_per_request),
        });
        match self.commit(vec![guard], audit).await {
            Err(DeskError::Store(StoreError::LimitReached { .. })) => {
                Err(self.checks_exhausted(actor, r, target).await?)
            }
            Err(e) => Err(e),
            Ok(_) => Ok(matched),
        }
    }

    /// Refuses a check past the request's limit, telling supervisors.
    async fn checks_exhausted(
        &self,
        actor: &Actor,
        r: &RequestRow,
        target: Target,
    ) -> Result<DeskError> {
        let notice = NewNotice {
            at: self.now(),
            kind: "check_limit".to_owned(),
            staff: Some(actor.label()),
            request: Some(r.id),
            detail: format!("limit={}", self.rules.limits.checks_per_request),
        };
        self.refuse(actor, r, CHECK, target, "attempts_exceeded", Some(notice))
            .await
    }

    /// Compares what was typed, normalised as stored values are, with the value stored in
    /// the target itself (this account's field, or this designated contact's), in constant
    /// time. The stored value is opened only here and wiped after the comparison. Typed
    /// text that cannot be such a value is refused, and the refusal recorded.
    async fn typed_matches(
        &self,
        actor: &Actor,
        (r, a): (&RequestRow, &AccountRow),
        target: Target,
        typed: &Secret<String>,
        normal: Normal,
    ) -> Result<bool> {
        let Ok(given) = normal.apply(typed.expose()).map(Zeroizing::new) else {
            self.refuse(actor, r, CHECK, target, "malformed_input", None)
                .await?;
            return Err(DeskError::Invalid(format!(
                "what was typed is not {}; nothing was checked",
                normal.what()
            )));
        };
        let Some((blob, table, column, row)) = self.sealed(r, a, target).await? else {
            return Ok(false);
        };
        let key = self.keys.data_key(r.account).await?;
        let stored = Keyring::open_value(&key, r.account, table, column, row, &blob)?;
        let stored = Zeroizing::new(
            normal
                .apply(stored.expose())
                .unwrap_or_else(|_| stored.expose().clone()),
        );
        Ok(crate::crypto::constant_time_eq(
            stored.as_bytes(),
            given.as_bytes(),
        ))
    }
}

/// How a typed value is normalised before it is compared.
#[derive(Clone, Copy)]
enum Normal {
    Email,
    Phone,
    TaxId,
}

impl Normal {
    fn apply(self, s: &str) -> std::result::Result<String, normalize::NormalizeError> {
        match self {
            Normal::Email => normalize::email(s),
            Normal::Phone => normalize::phone(s),
            Normal::TaxId => normalize::tax_id(s),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Normal::Email => "an email address",
            Normal::Phone => "a phone number",
            Normal::TaxId => "a tax id",
        }
    }
}

/// How a verification answer is normalised before its blind index (case, ё/е, spaces).
pub fn verification_key(value: &str) -> String {
    normalize::fold(
        value
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
    )
}

impl Desk {
    /// Records an answer a client gave to verify a compromise case (§9): sealed under the
    /// account's key, indexed for later checks, tagged with this case and purged when it
    /// closes.
    pub async fn record_verification(
        &self,
        actor: &Actor,
        id: RequestId,
        label: &str,
        value: Personal<String>,
    ) -> Result<i64> {
        let r = self
            .store
            .request(id)
            .await?
            .ok_or_else(|| DeskError::NotFound {
                what: "request",
                id: id.to_string(),
            })?;
        require(actor, Action::ViewQueue(r.kind.queue()))?;
        require(actor, Action::RecordVerificationData)?;
        if r.kind != RequestKind::Compromise || r.state.is_terminal() {
            return Err(DeskError::Invalid(
                "verification data is collected only for an open compromise case (§9)".to_owned(),
            ));
        }
        let label: String = label.chars().filter(|c| !c.is_control()).take(60).collect();
        if label.trim().is_empty() || value.expose().trim().is_empty() {
            return Err(DeskError::Invalid(
                "give a label (what was asked) and the answer".to_owned(),
            ));
        }
        let key = self.keys.data_key(r.account).await?;
        let item = self
            .store
            .reserve_ids(crate::store::IdTable::Verification, 1)
            .await?;
        let sealed = Keyring::seal_value(
            &key,
            r.account,
            "verification_data",
            "value_ct",
            item,
            value.expose(),
        );
        let index = self.keys.blind(
            IndexKind::VerificationValue,
            &verification_key(value.expose()),
        );
        let m = Mutation::InsertVerification(crate::store::NewVerification {
            id: item,
            request: id,
            account: r.account,
            label: label.trim().to_owned(),
            value: sealed,
            value_index: index,
        });
        let audit = self
            .audit(actor, "verification.record")
            .request(id)
            .account(r.account)
            .field_names(&[Field::VerificationData]);
        self.commit(vec![m], audit).await?;
        Ok(item)
    }
}
