//! The queues and a request as a role sees it: listing, searching, finding accounts,
//! opening (one audited look). Work on a request is in `work.rs`.

use jiff::Timestamp;

use crate::crypto::{IndexKind, TokenScope};
use crate::domain::account::{AccountId, ContactId};
use crate::domain::calendar::Urgency as CalUrgency;
use crate::domain::normalize;
use crate::domain::personal::Personal;
use crate::domain::policy::{self, Action, Field, FieldContext, Visibility};
use crate::domain::request::{Channel, Queue, RequestId, RequestKind};
use crate::domain::staff::{Actor, Login, Principal, StaffId};
use crate::domain::view::{
    Entry, ListRow, RequestView, Urgency, VerificationItem, ViewMode, Viewer,
};
use crate::domain::workflow::{self, State};
use crate::store::{
    Cursor, Direction, IndexKindTag, ListQuery, QueueRow, RequestRow, RequesterTag,
};

use super::{Desk, DeskError, Keyring, Result, require};

/// Filters of a queue list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub state: Option<State>,
    pub mine: bool,
    pub unassigned: bool,
    pub overdue: bool,
}

/// A page of a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuePage {
    pub queue: Queue,
    pub filter: Filter,
    /// Continue after (forward) or before (backward) this row; `None` starts at an end.
    pub cursor: Option<(Timestamp, RequestId)>,
    pub backward: bool,
    pub limit: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueBadge {
    pub queue: Queue,
    pub open: u64,
    pub overdue: u64,
}

/// An account found by a typed email, phone or name words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountHit {
    pub id: AccountId,
    pub name: crate::domain::view::Shown,
    pub blocked: bool,
    pub erased: bool,
}

/// Who asked, when filing a request.
#[derive(Clone, Debug)]
pub enum RequesterInput {
    Contact(ContactId),
    /// Someone not (yet) known as a designated contact; a description, sealed.
    Other(Personal<String>),
    Staff,
}

/// A new request as staff file it.
#[derive(Clone, Debug)]
pub struct RequestInput {
    pub kind: RequestKind,
    pub account: AccountId,
    pub requester: RequesterInput,
    pub channel: Channel,
    /// A short staff-written summary, free of personal data.
    pub subject: String,
    pub received_at: Timestamp,
}

pub(crate) const MAX_NOTE_CHARS: usize = 20_000;
pub(crate) const MAX_SUBJECT_CHARS: usize = 200;

pub(super) fn staff_actor(actor: &Actor) -> Result<(StaffId, &Login, crate::domain::staff::Role)> {
    match &actor.principal {
        Principal::Staff { id, login, role } => Ok((*id, login, *role)),
        _ => Err(DeskError::Denied(
            "this needs a staff member's session".to_owned(),
        )),
    }
}

impl Desk {
    /// The urgency mark of a request due at `due`.
    pub fn urgency(&self, due: Timestamp, open: bool) -> Urgency {
        if !open {
            return Urgency::Closed;
        }
        match self.rules.calendar.urgency(self.now(), due, &self.rules.tz) {
            Ok(CalUrgency::Overdue) => Urgency::Overdue,
            Ok(CalUrgency::DueSoon) => Urgency::DueSoon,
            Ok(CalUrgency::OnTrack) => Urgency::Normal,
            // A due date past the calendar's last year: far away, not urgent.
            Err(_) => {
                if due <= self.now() {
                    Urgency::Overdue
                } else {
                    Urgency::Normal
                }
            }
        }
    }

    /// The queues `actor` may see, in tab order.
    pub fn queues_for(&self, actor: &Actor) -> Vec<Queue> {
        match actor.role() {
            Some(role) => Queue::ALL
                .into_iter()
                .filter(|q| policy::allows(role, Action::ViewQueue(*q)))
                .collect(),
            None => vec![],
        }
    }

    pub async fn queue_badges(&self, actor: &Actor) -> Result<Vec<QueueBadge>> {
        let queues = self.queues_for(actor);
        let counts = self.store.queue_counts(self.now()).await?;
        Ok(counts
            .into_iter()
            .filter(|c| queues.contains(&c.queue))
            .map(|c| QueueBadge {
                queue: c.queue,
                open: c.open,
                overdue: c.overdue,
            })
            .collect())
    }

    async fn list_row(&self, viewer: &Viewer, r: &QueueRow) -> Result<ListRow> {
        let blocked_viewer = Viewer::new(
            viewer.role,
            FieldContext {
                account_blocked: r.account_blocked,
                ..viewer.ctx
            },
        );
        let name = if r.account_erased {
            None
        } else {
            self.account_name(&blocked_viewer, r.account, r.account_name.as_ref())
                .await?
        };
        let open = !r.state.is_terminal();
        Ok(ListRow {
            id: r.id,
            kind: r.kind,
            account_name: blocked_viewer.account_name(r.account_kind, name.as_ref()),
            state: r.state,
            assignee: r
                .assignee_login
                .as_deref()
                .and_then(|l| Login::parse(l).ok()),
            received_at: r.received_at,
            due_at: r.due_at,
            urgency: self.urgency(r.due_at, open),
            version: r.version,
        })
    }

    /// One keyset page of a queue, as rows the role may see.
    pub async fn list_queue(&self, actor: &Actor, page: &QueuePage) -> Result<Vec<ListRow>> {
        let role = require(actor, Action::ViewQueue(page.queue))?;
        let me = actor.staff_id();
        let query = ListQuery {
            queue: page.queue,
            state: page.filter.state,
            assignee: if page.filter.mine { me } else { None },
            unassigned: page.filter.unassigned,
            due_before: page.filter.overdue.then(|| self.now()),
            filed_by: None,
            cursor: page.cursor.map(|(due_at, id)| Cursor { due_at, id }),
            direction: if page.backward {
                Direction::Backward
            } else {
                Direction::Forward
            },
            limit: page.limit.clamp(1, 500),
        };
        let rows = self.store.list_requests(&query).await?;
        let viewer = Viewer::new(
            role,
            FieldContext {
                on_own_queue: true,
                ..FieldContext::default()
            },
        );
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.list_row(&viewer, r).await?);
        }
        Ok(out)
    }

    /// Requests whose subject holds every word of `text`, newest first, on the actor's queues.
    pub async fn search_subjects(
        &self,
        actor: &Actor,
        text: &str,
        limit: u32,
    ) -> Result<Vec<ListRow>> {
        let queues = self.queues_for(actor);
        let Some(role) = actor.role().filter(|_| !queues.is_empty()) else {
            return Err(DeskError::Denied(
                "searching requests needs a queue role".to_owned(),
            ));
        };
        let tokens = self.keys.tokens(TokenScope::Subject, text);
        let rows = self
            .store
            .search_subjects(&tokens, &queues, limit.clamp(1, 500))
            .await?;
        let viewer = Viewer::new(
            role,
            FieldContext {
                on_own_queue: true,
                ..FieldContext::default()
            },
        );
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.list_row(&viewer, r).await?);
        }
        Ok(out)
    }

    /// Finds accounts by a typed email or phone (blind index, after normalisation) or by
    /// exact words of an account or contact name.
    pub async fn find_accounts(&self, actor: &Actor, query: &str) -> Result<Vec<AccountHit>> {
        let role = actor.role().filter(|r| {
            !self.queues_for(actor).is_empty() && policy::allows(*r, Action::FileRequest)
        });
        let Some(role) = role else {
            return Err(DeskError::Denied(
                "finding accounts needs a queue role".to_owned(),
            ));
        };
        let q = query.trim();
        // Ten digits can be both a phone number and a tax id (an INN starting with 3, 4, 8
        // or 9 reads as a Russian number without its +7): both are looked up.
        let (phone, tax_id) = if q.contains('@') {
            (None, None)
        } else {
            (normalize::phone(q).ok(), normalize::tax_id(q).ok())
        };
        let mut lookups = vec![];
        if q.contains('@') {
            if let Ok(e) = normalize::email(q) {
                lookups.push((IndexKindTag::Email, self.keys.blind(IndexKind::Email, &e)));
                lookups.push((
                    IndexKindTag::ContactEmail,
                    self.keys.blind(IndexKind::ContactEmail, &e),
                ));
            }
        } else {
            if let Some(p) = &phone {
                lookups.push((IndexKindTag::Phone, self.keys.blind(IndexKind::Phone, p)));
                lookups.push((
                    IndexKindTag::ContactPhone,
                    self.keys.blind(IndexKind::ContactPhone, p),
                ));
            }
            if let Some(t) = &tax_id {
                lookups.push((IndexKindTag::TaxId, self.keys.blind(IndexKind::TaxId, t)));
            }
        }
        let mut ids = vec![];
        for (tag, hash) in &lookups {
            ids.extend(self.store.accounts_by_index(*tag, hash).await?);
        }
        if !q.contains('@') && phone.is_none() && tax_id.is_none() {
            for scope in [TokenScope::AccountName, TokenScope::ContactName] {
                let tokens = self.keys.tokens(scope, q);
                ids.extend(self.store.accounts_by_tokens(&tokens, 50).await?);
            }
        }
        ids.sort();
        ids.dedup();
        ids.truncate(50);
        let rows = self.store.accounts_by_ids(&ids).await?;
        let mut out = vec![];
        for a in &rows {
            let viewer = Viewer::new(
                role,
                FieldContext {
                    on_own_queue: true,
                    account_blocked: a.flags.blocked,
                    ..FieldContext::default()
                },
            );
            let name = if a.flags.erased {
                None
            } else {
                self.account_name(&viewer, a.id, a.name.as_ref()).await?
            };
            out.push(AccountHit {
                id: a.id,
                name: viewer.account_name(a.kind, name.as_ref()),
                blocked: a.flags.blocked,
                erased: a.flags.erased,
            });
        }
        Ok(out)
    }

    pub(super) async fn request_row(&self, id: RequestId) -> Result<RequestRow> {
        self.store
            .request(id)
            .await?
            .ok_or_else(|| DeskError::NotFound {
                what: "request",
                id: id.to_string(),
            })
    }

    /// Opens a request as `actor` sees it, and records the look (DOMAIN.md, "Every look is
    /// recorded"). `previously_shown` is what an open screen already showed: a live refresh
    /// that shows nothing new is not recorded again.
    pub async fn open_request(
        &self,
        actor: &Actor,
        id: RequestId,
        previously_shown: Option<&[(Field, Visibility)]>,
    ) -> Result<RequestView> {
        let r = self.request_row(id).await?;
        let role = actor
            .role()
            .ok_or_else(|| DeskError::Denied("opening a request needs a staff session".into()))?;
        let assignee = r
            .assignee_login
            .as_deref()
            .and_then(|l| Login::parse(l).ok());
        let urgency = self.urgency(r.due_at, !r.state.is_terminal());
        let view = if policy::allows(role, Action::ViewQueue(r.kind.queue())) {
            self.full_view(role, &r, urgency, assignee).await?
        } else if policy::allows(role, Action::OpenOwnFiled)
            && r.filed_by.is_some()
            && r.filed_by == actor.staff_id()
        {
            RequestView::state_only(&Self::request_of(&r), urgency, assignee)
        } else {
            return Err(DeskError::Denied(format!(
                "the {role} role does not work the {} queue",
                r.kind.queue().as_str()
            )));
        };
        let shown = view.shown_fields();
        let new_fields =
            previously_shown.is_none_or(|prev| shown.iter().any(|f| !prev.contains(f)));
        if new_fields {
            let mode = if view.mode == ViewMode::Full {
                "full"
            } else {
                "state_only"
            };
            let audit = self
                .audit(actor, "request.open")
                .request(id)
                .account(r.account)
                .fields(&shown)
                .detail(mode);
            self.commit(vec![], audit).await?;
        }
        Ok(view)
    }

    fn request_of(r: &RequestRow) -> crate::domain::request::Request {
        use crate::domain::request::{Assignee, Request, Requester};
        Request {
            id: r.id,
            kind: r.kind,
            account: r.account,
            requester: match (r.requester, r.requester_contact) {
                (RequesterTag::Contact, Some(c)) => Requester::Contact(c),
                (RequesterTag::Staff, _) => Requester::Staff,
                _ => Requester::Other,
            },
            channel: r.channel,
            state: r.state,
            assignee: r
                .assignee
                .zip(
                    r.assignee_login
                        .as_deref()
                        .and_then(|l| Login::parse(l).ok()),
                )
                .map(|(id, login)| Assignee { id, login }),
            received_at: r.received_at,
            due_at: r.due_at,
            version: r.version,
            filed_by: r.filed_by,
            prepared_by: r.prepared_by,
            severity: r.severity.and_then(|s| workflow::Severity::new(s).ok()),
            personal_data_leak: r.personal_data_leak,
            identity_verified: r.identity_verified,
            extended: r.extended,
            updated_at: r.updated_at,
            updated_by: r.updated_by.clone(),
        }
    }

    async fn full_view(
        &self,
        role: crate::domain::staff::Role,
        r: &RequestRow,
        urgency: Urgency,
        assignee: Option<Login>,
    ) -> Result<RequestView> {
        let account_row =
            self.store
                .account(r.account)
                .await?
                .ok_or_else(|| DeskError::NotFound {
                    what: "account",
                    id: r.account.to_string(),
                })?;
        let ctx = FieldContext {
            on_own_queue: true,
            that_case: r.kind == RequestKind::Compromise,
            account_blocked: account_row.flags.blocked,
            in_own_subject_request: r.kind.is_subject_request(),
        };
        let viewer = Viewer::new(role, ctx);
        let account = self.open_account(&viewer, &account_row).await?;
        let erased = account_row.flags.erased;
        let key = if erased {
            None
        } else {
            Some(self.keys.data_key(r.account).await?)
        };
        let entries: Vec<Entry> = match &key {
            Some(k) if viewer.needs(Field::Correspondence) => self
                .store
                .entries(r.id)
                .await?
                .iter()
                .map(|e| {
                    Ok(Entry {
                        at: e.at,
                        kind: e.kind,
                        author: e.author.clone(),
                        body: Keyring::open_value(
                            k,
                            r.account,
                            "request_entries",
                            "body_ct",
                            e.id,
                            &e.body,
                        )?,
                    })
                })
                .collect::<Result<_>>()?,
            _ => vec![],
        };
        let verification: Vec<VerificationItem> = match &key {
            Some(k) => self
                .store
                .verification_items(r.id)
                .await?
                .iter()
                .map(|v| {
                    let value = if viewer.needs(Field::VerificationData) {
                        Some(Keyring::open_value(
                            k,
                            r.account,
                            "verification_data",
                            "value_ct",
                            v.id,
                            &v.value,
                        )?)
                    } else {
                        None
                    };
                    Ok(VerificationItem {
                        id: v.id,
                        label: v.label.clone(),
                        value,
                    })
                })
                .collect::<Result<_>>()?,
            None => vec![],
        };
        let subject = match (&key, &r.subject) {
            (Some(k), Some(blob)) => Some(Keyring::open_value(
                k,
                r.account,
                "requests",
                "subject_ct",
                r.id.0,
                blob,
            )?),
            _ => None,
        };
        let requester = match r.requester {
            RequesterTag::Contact => {
                let c = account
                    .contacts
                    .iter()
                    .find(|c| Some(c.id) == r.requester_contact);
                Some(viewer.field(
                    Field::ContactName,
                    c.and_then(|c| c.name.as_ref()),
                    crate::domain::mask::person_name,
                ))
            }
            RequesterTag::Other => {
                let text = match (&key, &r.requester_text) {
                    (Some(k), Some(blob)) if viewer.needs(Field::Correspondence) => {
                        Some(Keyring::open_value(
                            k,
                            r.account,
                            "requests",
                            "requester_ct",
                            r.id.0,
                            blob,
                        )?)
                    }
                    _ => None,
                };
                Some(viewer.field(
                    Field::Correspondence,
                    text.as_ref(),
                    crate::domain::mask::generic,
                ))
            }
            RequesterTag::Staff => None,
        };
        let account_view = viewer.account(&account);
        Ok(RequestView {
            id: r.id,
            kind: r.kind,
            queue: r.kind.queue(),
            state: r.state,
            mode: ViewMode::Full,
            channel: r.channel,
            received_at: r.received_at,
            due_at: r.due_at,
            urgency,
            assignee,
            version: r.version,
            severity: r.severity.and_then(|s| workflow::Severity::new(s).ok()),
            personal_data_leak: r.personal_data_leak,
            leak_deadlines: if r.personal_data_leak == Some(true) {
                Some(self.rules.deadlines.leak(
                    r.received_at,
                    &self.rules.calendar,
                    &self.rules.tz,
                )?)
            } else {
                None
            },
            identity_verified: r.identity_verified,
            extended: r.extended,
            prepared_by: r
                .prepared_by_login
                .as_deref()
                .and_then(|l| Login::parse(l).ok()),
            updated_by: crate::domain::text::sanitize_line(&r.updated_by),
            subject: subject
                .map(|s| crate::domain::text::sanitize_line_capped(s.expose(), MAX_SUBJECT_CHARS)),
            requester,
            account: Some(account_view),
            entries: viewer.entries(&entries),
            verification: viewer.verification(&verification),
        })
    }
}

impl Desk {
    /// The requests of one account on the queues `actor` works, newest first.
    pub async fn account_requests(
        &self,
        actor: &Actor,
        account: AccountId,
    ) -> Result<Vec<ListRow>> {
        let queues = self.queues_for(actor);
        let Some(role) = actor.role().filter(|_| !queues.is_empty()) else {
            return Err(DeskError::Denied(
                "listing an account's requests needs a queue role".to_owned(),
            ));
        };
        let viewer = Viewer::new(
            role,
            FieldContext {
                on_own_queue: true,
                ..FieldContext::default()
            },
        );
        let mut out = vec![];
        for r in self.store.requests_of_account(account).await?.iter().rev() {
            if queues.contains(&r.kind.queue()) {
                out.push(self.list_row(&viewer, &QueueRow::from(r)).await?);
            }
        }
        Ok(out)
    }
}
