//! Views: the only shapes in which the screens receive accounts and requests.
//!
//! A view is built here, through the access table (`policy.rs`) and the masking functions
//! (`mask.rs`), from values the desk decrypted. A cell that is hidden yields no value
//! whatever was passed in, a masked cell yields only the hint, and every string is passed
//! through the untrusted-text sanitizer, so a screen can neither show more than the policy
//! allows nor receive a raw escape sequence. `Debug` of a view never prints a value.

use std::fmt;

use jiff::Timestamp;

use super::account::{
    Account, AccountFlags, AccountId, AccountKind, ContactId, DesignatedContact, LoginResult,
};
use super::mask;
use super::personal::Personal;
use super::policy::{Access, Field, FieldContext, Visibility, field_access};
use super::request::{Channel, Queue, Request, RequestId, RequestKind};
use super::staff::{Login, Role};
use super::text::{SafeText, sanitize_block, sanitize_line};
use super::workflow::{Severity, State};

/// What a screen may draw for one field.
#[derive(Clone, PartialEq, Eq)]
pub enum Shown {
    /// Not shown to this role (or not held).
    Hidden,
    /// The role may see it, but the account holds no value.
    Absent,
    /// A hint that is not the value.
    Masked(SafeText),
    Clear(Personal<SafeText>),
    /// Revealed on request with a purpose; expires.
    Revealed(Personal<SafeText>),
}

impl Shown {
    pub fn text(&self) -> Option<&str> {
        match self {
            Shown::Hidden | Shown::Absent => None,
            Shown::Masked(t) => Some(t.as_str()),
            Shown::Clear(t) | Shown::Revealed(t) => Some(t.expose().as_str()),
        }
    }

    /// How it was shown, for the audit record of a look.
    pub fn visibility(&self) -> Option<Visibility> {
        match self {
            Shown::Hidden => None,
            Shown::Absent => None,
            Shown::Masked(_) => Some(Visibility::Masked),
            Shown::Clear(_) | Shown::Revealed(_) => Some(Visibility::Clear),
        }
    }
}

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shown::Hidden => "Hidden",
            Shown::Absent => "Absent",
            Shown::Masked(_) => "Masked(‹redacted›)",
            Shown::Clear(_) => "Clear(‹redacted›)",
            Shown::Revealed(_) => "Revealed(‹redacted›)",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldView {
    pub field: Field,
    pub shown: Shown,
    pub can_check: bool,
    pub can_reveal: bool,
}

/// Builds field views for one role in one situation.
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub role: Role,
    pub ctx: FieldContext,
}

impl Viewer {
    pub fn new(role: Role, ctx: FieldContext) -> Viewer {
        Viewer { role, ctx }
    }

    pub fn access(&self, field: Field) -> Access {
        field_access(self.role, field, self.ctx)
    }

    /// Whether the desk needs to decrypt `field` at all for this viewer.
    pub fn needs(&self, field: Field) -> bool {
        self.access(field).visibility != Visibility::Hidden
    }

    /// The view of one field holding `value`, masked by `hint` when the cell says masked.
    pub fn field(
        &self,
        field: Field,
        value: Option<&Personal<String>>,
        hint: fn(&str) -> String,
    ) -> FieldView {
        let access = self.access(field);
        let shown = match (access.visibility, value) {
            (Visibility::Hidden, _) => Shown::Hidden,
            (_, None) => Shown::Absent,
            (Visibility::Masked, Some(v)) => Shown::Masked(sanitize_line(&hint(v.expose()))),
            (Visibility::Clear, Some(v)) => Shown::Clear(Personal::new(sanitize_line(v.expose()))),
        };
        FieldView {
            field,
            shown,
            can_check: access.check,
            can_reveal: access.reveal,
        }
    }

    /// The view of a field the viewer revealed: only if the cell allows a reveal.
    pub fn revealed(&self, field: Field, value: &Personal<String>) -> Option<FieldView> {
        let access = self.access(field);
        access.reveal.then(|| FieldView {
            field,
            shown: Shown::Revealed(Personal::new(sanitize_line(value.expose()))),
            can_check: access.check,
            can_reveal: true,
        })
    }

    pub fn account_name(&self, kind: AccountKind, value: Option<&Personal<String>>) -> Shown {
        let hint = match kind {
            AccountKind::LegalEntity => legal_name_hint,
            AccountKind::Individual => person_name_hint,
        };
        self.field(Field::AccountName, value, hint).shown
    }

    /// A value of a field shown clear or masked by its cell (hidden gives `Hidden`).
    fn shown(&self, field: Field, value: &Personal<String>, hint: fn(&str) -> String) -> Shown {
        self.field(field, Some(value), hint).shown
    }

    pub fn account(&self, a: &Account) -> AccountView {
        let history = self.needs(Field::LoginHistory);
        let login_history = history.then(|| {
            a.login_history
                .iter()
                .map(|e| LoginEventView {
                    at: e.at,
                    source: self.shown(Field::LoginHistory, &e.source, mask::generic),
                    result: e.result,
                })
                .collect()
        });
        let sessions = history.then(|| {
            a.sessions
                .iter()
                .map(|s| SessionView {
                    id: s.id,
                    started_at: s.started_at,
                    source: self.shown(Field::LoginHistory, &s.source, mask::generic),
                })
                .collect()
        });
        let name_hint = match a.kind {
            AccountKind::LegalEntity => legal_name_hint,
            AccountKind::Individual => person_name_hint,
        };
        AccountView {
            id: a.id,
            kind: a.kind,
            flags: a.flags,
            too_few_admin_logins: a.too_few_admin_logins(),
            name: self.field(Field::AccountName, a.name.as_ref(), name_hint),
            email: self.field(Field::Email, a.email.as_ref(), mask::email),
            phone: self.field(Field::Phone, a.phone.as_ref(), mask::phone),
            postal_address: self.field(
                Field::PostalAddress,
                a.postal_address.as_ref(),
                mask::postal_address,
            ),
            tax_id: self.field(Field::TaxId, a.tax_id.as_ref(), mask::tax_id),
            contacts: a.contacts.iter().map(|c| self.contact(c)).collect(),
            login_history,
            active_sessions: sessions,
        }
    }

    pub fn contact(&self, c: &DesignatedContact) -> ContactView {
        let passphrase_access = self.access(Field::ContactPassphrase);
        ContactView {
            id: c.id,
            name: self.field(Field::ContactName, c.name.as_ref(), mask::person_name),
            email: self.field(Field::ContactChannels, c.email.as_ref(), mask::email),
            phone: self.field(Field::ContactChannels, c.phone.as_ref(), mask::phone),
            passphrase: FieldView {
                field: Field::ContactPassphrase,
                shown: Shown::Hidden,
                can_check: passphrase_access.check && c.has_passphrase,
                can_reveal: false,
            },
            has_email: c.has_email,
            has_phone: c.has_phone,
            has_passphrase: c.has_passphrase,
        }
    }

    /// Free text about an account (correspondence, notes, timeline), if this viewer sees it.
    pub fn entries(&self, entries: &[Entry]) -> Option<Vec<EntryView>> {
        self.needs(Field::Correspondence).then(|| {
            entries
                .iter()
                .map(|e| EntryView {
                    at: e.at,
                    kind: e.kind,
                    author: sanitize_line(&e.author),
                    body: Personal::new(sanitize_block(e.body.expose())),
                })
                .collect()
        })
    }

    /// Verification data collected for a case (§9).
    pub fn verification(&self, items: &[VerificationItem]) -> Vec<VerificationView> {
        items
            .iter()
            .map(|v| VerificationView {
                id: v.id,
                label: sanitize_line(&v.label),
                value: self.field(Field::VerificationData, v.value.as_ref(), mask::generic),
            })
            .collect()
    }
}

fn legal_name_hint(v: &str) -> String {
    mask::account_name(v, true)
}

fn person_name_hint(v: &str) -> String {
    mask::account_name(v, false)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountView {
    pub id: AccountId,
    pub kind: AccountKind,
    pub flags: AccountFlags,
    /// §5: fewer than two admin logins inside the hosted software.
    pub too_few_admin_logins: bool,
    pub name: FieldView,
    pub email: FieldView,
    pub phone: FieldView,
    pub postal_address: FieldView,
    pub tax_id: FieldView,
    pub contacts: Vec<ContactView>,
    /// `None` when this viewer may not see login history.
    pub login_history: Option<Vec<LoginEventView>>,
    pub active_sessions: Option<Vec<SessionView>>,
}

impl AccountView {
    /// The fields this view shows and how, for the audit record of the look.
    pub fn shown_fields(&self) -> Vec<(Field, Visibility)> {
        let mut out = vec![];
        let mut push = |f: &FieldView| {
            if let Some(v) = f.shown.visibility() {
                out.push((f.field, v));
            }
        };
        for f in [
            &self.name,
            &self.email,
            &self.phone,
            &self.postal_address,
            &self.tax_id,
        ] {
            push(f);
        }
        for c in &self.contacts {
            push(&c.name);
            push(&c.email);
            push(&c.phone);
        }
        for h in self.login_history.iter().flatten() {
            if let Some(v) = h.source.visibility() {
                out.push((Field::LoginHistory, v));
            }
        }
        for s in self.active_sessions.iter().flatten() {
            if let Some(v) = s.source.visibility() {
                out.push((Field::LoginHistory, v));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactView {
    pub id: ContactId,
    pub name: FieldView,
    pub email: FieldView,
    pub phone: FieldView,
    /// Never shown; `can_check` says whether a spoken passphrase may be checked.
    pub passphrase: FieldView,
    pub has_email: bool,
    pub has_phone: bool,
    pub has_passphrase: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginEventView {
    pub at: Timestamp,
    /// The client's source address, clear or masked as the cell says.
    pub source: Shown,
    pub result: LoginResult,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    pub id: i64,
    pub started_at: Timestamp,
    pub source: Shown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A message from the client or requester.
    Incoming,
    /// A message the desk sent.
    Outgoing,
    /// A staff note.
    Note,
    /// A state change or other event, written by the desk.
    Timeline,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Incoming => "incoming",
            EntryKind::Outgoing => "outgoing",
            EntryKind::Note => "note",
            EntryKind::Timeline => "timeline",
        }
    }

    pub fn parse(s: &str) -> Option<EntryKind> {
        [
            EntryKind::Incoming,
            EntryKind::Outgoing,
            EntryKind::Note,
            EntryKind::Timeline,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A decrypted entry of a request's correspondence, notes or timeline.
#[derive(Clone, Debug)]
pub struct Entry {
    pub at: Timestamp,
    pub kind: EntryKind,
    /// A staff login, `client`, or `system`.
    pub author: String,
    pub body: Personal<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryView {
    pub at: Timestamp,
    pub kind: EntryKind,
    pub author: SafeText,
    /// The body, one sanitized line per line.
    pub body: Personal<Vec<SafeText>>,
}

/// A decrypted item of verification data collected for a case (§9).
#[derive(Clone, Debug)]
pub struct VerificationItem {
    pub id: i64,
    pub label: String,
    pub value: Option<Personal<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationView {
    pub id: i64,
    pub label: SafeText,
    pub value: FieldView,
}

/// How a request is shown: in full to the queues that work it, or its state only to the
/// staff member who filed it elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewMode {
    Full,
    StateOnly,
}

/// How close a request is to its deadline; marked by a symbol and a colour in lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    Overdue,
    /// Due within one working day.
    DueSoon,
    Normal,
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestView {
    pub id: RequestId,
    pub kind: RequestKind,
    pub queue: Queue,
    pub state: State,
    pub mode: ViewMode,
    pub channel: Channel,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub urgency: Urgency,
    pub assignee: Option<Login>,
    pub version: i64,
    pub severity: Option<Severity>,
    pub personal_data_leak: Option<bool>,
    /// The regulator's deadlines when the case leaked personal data.
    pub leak_deadlines: Option<crate::domain::deadline::LeakDeadlines>,
    pub identity_verified: bool,
    pub extended: bool,
    pub prepared_by: Option<Login>,
    pub updated_by: SafeText,
    /// Staff-written summary (free of personal data by rule); `None` in state-only mode.
    pub subject: Option<SafeText>,
    /// Who asked: a designated contact's name as the viewer may see it, or a description.
    pub requester: Option<FieldView>,
    pub account: Option<AccountView>,
    pub entries: Option<Vec<EntryView>>,
    pub verification: Vec<VerificationView>,
}

impl RequestView {
    /// A state-only view: what the filer of a request on another queue may see.
    pub fn state_only(r: &Request, urgency: Urgency, assignee: Option<Login>) -> RequestView {
        RequestView {
            id: r.id,
            kind: r.kind,
            queue: r.queue(),
            state: r.state,
            mode: ViewMode::StateOnly,
            channel: r.channel,
            received_at: r.received_at,
            due_at: r.due_at,
            urgency,
            assignee,
            version: r.version,
            severity: None,
            personal_data_leak: None,
            leak_deadlines: None,
            identity_verified: r.identity_verified,
            extended: r.extended,
            prepared_by: None,
            updated_by: sanitize_line(&r.updated_by),
            subject: None,
            requester: None,
            account: None,
            entries: None,
            verification: vec![],
        }
    }

    /// Every field this view shows and how: the content of the audit record of the look.
    pub fn shown_fields(&self) -> Vec<(Field, Visibility)> {
        let mut out = self
            .account
            .as_ref()
            .map(AccountView::shown_fields)
            .unwrap_or_default();
        if let Some(r) = &self.requester
            && let Some(v) = r.shown.visibility()
        {
            out.push((r.field, v));
        }
        if self.entries.as_ref().is_some_and(|e| !e.is_empty()) {
            out.push((Field::Correspondence, Visibility::Clear));
        }
        for v in &self.verification {
            if let Some(vis) = v.value.shown.visibility() {
                out.push((Field::VerificationData, vis));
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// One row of a queue list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRow {
    pub id: RequestId,
    pub kind: RequestKind,
    pub account_name: Shown,
    pub state: State,
    pub assignee: Option<Login>,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub urgency: Urgency,
    pub version: i64,
}

#[cfg(test)]
mod tests;
