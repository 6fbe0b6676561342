//! The queues and the work on a request: listing, searching, opening (one audited look),
//! state events, taking, assigning, releasing, notes, filing.

use std::fmt::Write as _;

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
    Entry, EntryKind, ListRow, RequestView, Urgency, VerificationItem, ViewMode, Viewer,
};
use crate::domain::workflow::{self, Event, EventKind, Facts, Flow, State};
use crate::store::{
    Cursor, Direction, IdTable, IndexKindTag, ListQuery, Mutation, NewEntry, NewRequest,
    RequestChange, RequestRow, RequesterTag,
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
const MAX_SUBJECT_CHARS: usize = 200;

fn staff_actor(actor: &Actor) -> Result<(StaffId, &Login, crate::domain::staff::Role)> {
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

    async fn list_row(&self, viewer: &Viewer, r: &RequestRow) -> Result<ListRow> {
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

    async fn request_row(&self, id: RequestId) -> Result<RequestRow> {
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

    /// A timeline entry sealed under the account's key.
    async fn entry(
        &self,
        r: &RequestRow,
        kind: EntryKind,
        author: &str,
        text: &str,
    ) -> Result<Option<Mutation>> {
        if r.account_erased {
            return Ok(None);
        }
        let key = self.keys.data_key(r.account).await?;
        let id = self.store.reserve_ids(IdTable::Entries, 1).await?;
        Ok(Some(Mutation::InsertEntry(NewEntry {
            id,
            request: r.id,
            account: r.account,
            at: self.now(),
            kind,
            author: author.to_owned(),
            body: Keyring::seal_value(&key, r.account, "request_entries", "body_ct", id, text),
        })))
    }

    /// Gathers the facts the workflow's guards need.
    async fn facts(&self, actor: &Actor, r: &RequestRow) -> Result<Facts> {
        let contact = match (r.requester, r.requester_contact) {
            (RequesterTag::Contact, Some(c)) => self
                .store
                .contact(c.0)
                .await?
                .filter(|c| c.active && c.account == r.account),
            _ => None,
        };
        Ok(Facts {
            requester_is_designated_contact: contact.is_some(),
            contact_has_email: contact.as_ref().is_some_and(|c| c.has_email),
            actor_is_preparer: r.prepared_by.is_some() && r.prepared_by == actor.staff_id(),
            identity_verified: r.identity_verified,
        })
    }

    /// Applies a state event to a request the actor works; refused with a typed error when
    /// the state machine, its guards or the access table say no. A stale `expected_version`
    /// is refused naming who changed the request.
    pub async fn apply_event(
        &self,
        actor: &Actor,
        id: RequestId,
        expected_version: i64,
        event: Event,
        note: Option<&str>,
    ) -> Result<RequestRow> {
        let r = self.request_row(id).await?;
        let ek = event.kind();
        let facts = self.facts(actor, &r).await?;
        let action = policy::event_action(r.kind, r.state, ek, facts.actor_is_preparer);
        if action != Action::System {
            require(actor, Action::ViewQueue(r.kind.queue()))?;
        }
        require(actor, action)?;
        let to = workflow::next_state(r.kind, r.state, ek, &facts)?;
        let mut change = RequestChange {
            state: Some(to),
            ..RequestChange::default()
        };
        if ek.marks_preparer() {
            change.prepared_by = Some(actor.staff_id());
        }
        if ek.marks_identity_verified() {
            change.identity_verified = Some(true);
        }
        let mut detail = format!("{} -> {}", r.state, to);
        if let Event::Triage {
            severity,
            personal_data_leak,
        } = event
        {
            change.severity = Some(severity.level());
            change.personal_data_leak = Some(personal_data_leak);
            change.due_at = Some(self.rules.deadlines.due(
                r.kind,
                Some(severity),
                r.received_at,
                &self.rules.calendar,
                &self.rules.tz,
            )?);
            let _ = write!(
                detail,
                " severity={} leak={personal_data_leak}",
                severity.level()
            );
        }
        if let Event::Refuse(reason) = event {
            let _ = write!(detail, " reason={}", reason.as_str());
        }
        if let Event::ProposeRefusal(ground) = event {
            let _ = write!(detail, " ground={}", ground.as_str());
        }
        let label = actor.label();
        let mut mutations = vec![Mutation::UpdateRequest {
            id,
            expected_version,
            change,
            by: label.clone(),
        }];
        if r.kind == RequestKind::Compromise && to.is_terminal() {
            // §9: verification data collected for a case is used for it only, and purged with it.
            mutations.push(Mutation::PurgeVerification { request: id });
        }
        mutations.extend(self.entry(&r, EntryKind::Timeline, &label, &detail).await?);
        if let Some(text) = note.map(str::trim).filter(|t| !t.is_empty()) {
            mutations.extend(
                self.entry(&r, EntryKind::Note, &label, &check_note(text)?)
                    .await?,
            );
        }
        let audit = self
            .audit(actor, &format!("request.event.{}", ek.as_str()))
            .request(id)
            .account(r.account)
            .detail(detail);
        let out = self.commit(mutations, audit).await?;
        out.requests
            .into_iter()
            .next()
            .ok_or_else(|| DeskError::Internal("no request after update".into()))
    }

    async fn set_assignee(
        &self,
        actor: &Actor,
        id: RequestId,
        expected_version: i64,
        to: Option<(StaffId, String)>,
        action: &str,
    ) -> Result<RequestRow> {
        let r = self.request_row(id).await?;
        require(actor, Action::Work(r.kind.queue()))?;
        let label = actor.label();
        let detail = match &to {
            Some((_, login)) => format!("assignee={login}"),
            None => "assignee=none".to_owned(),
        };
        let change = RequestChange {
            assignee: Some(to.as_ref().map(|(id, _)| *id)),
            ..RequestChange::default()
        };
        let mut mutations = vec![Mutation::UpdateRequest {
            id,
            expected_version,
            change,
            by: label.clone(),
        }];
        mutations.extend(self.entry(&r, EntryKind::Timeline, &label, &detail).await?);
        let mut audit = self
            .audit(actor, action)
            .request(id)
            .account(r.account)
            .detail(detail);
        if let Some((_, login)) = &to {
            audit = audit.target(login.clone());
        }
        let out = self.commit(mutations, audit).await?;
        out.requests
            .into_iter()
            .next()
            .ok_or_else(|| DeskError::Internal("no request after update".into()))
    }

    pub async fn take(
        &self,
        actor: &Actor,
        id: RequestId,
        expected_version: i64,
    ) -> Result<RequestRow> {
        let (me, login, _) = staff_actor(actor)?;
        self.set_assignee(
            actor,
            id,
            expected_version,
            Some((me, login.to_string())),
            "request.take",
        )
        .await
    }

    pub async fn release(
        &self,
        actor: &Actor,
        id: RequestId,
        expected_version: i64,
    ) -> Result<RequestRow> {
        staff_actor(actor)?;
        self.set_assignee(actor, id, expected_version, None, "request.release")
            .await
    }

    /// Assigns a request to a colleague who works its queue.
    pub async fn assign(
        &self,
        actor: &Actor,
        id: RequestId,
        expected_version: i64,
        to_login: &str,
    ) -> Result<RequestRow> {
        staff_actor(actor)?;
        let r = self.request_row(id).await?;
        let target =
            self.store
                .staff_by_login(to_login)
                .await?
                .ok_or_else(|| DeskError::NotFound {
                    what: "staff member",
                    id: to_login.chars().take(40).collect(),
                })?;
        if target.disabled {
            return Err(DeskError::Invalid(format!("{} is disabled", target.login)));
        }
        if !policy::works_queue(target.role, r.kind.queue()) {
            return Err(DeskError::Invalid(format!(
                "{} ({}) does not work the {} queue",
                target.login,
                target.role,
                r.kind.queue().as_str()
            )));
        }
        self.set_assignee(
            actor,
            id,
            expected_version,
            Some((target.id, target.login.clone())),
            "request.assign",
        )
        .await
    }

    /// Colleagues a request of `queue` can be assigned to.
    pub async fn assignable_staff(&self, actor: &Actor, queue: Queue) -> Result<Vec<Login>> {
        require(actor, Action::Work(queue))?;
        Ok(self
            .store
            .list_staff()
            .await?
            .into_iter()
            .filter(|s| !s.disabled && policy::works_queue(s.role, queue))
            .filter_map(|s| Login::parse(&s.login).ok())
            .collect())
    }

    /// Adds a staff note to a request (sealed; the audit record holds no text).
    pub async fn add_note(&self, actor: &Actor, id: RequestId, text: &str) -> Result<()> {
        let r = self.request_row(id).await?;
        require(actor, Action::Work(r.kind.queue()))?;
        let text = check_note(text)?;
        if r.account_erased {
            return Err(DeskError::Invalid(
                "the account was erased; nothing more can be recorded about it".into(),
            ));
        }
        let mutations: Vec<Mutation> = self
            .entry(&r, EntryKind::Note, &actor.label(), &text)
            .await?
            .into_iter()
            .collect();
        let audit = self
            .audit(actor, "request.note")
            .request(id)
            .account(r.account)
            .detail(format!("{} chars", text.chars().count()));
        self.commit(mutations, audit).await?;
        Ok(())
    }

    /// Refuses a subject that carries personal data (an email, a phone, a word of the
    /// account's name): subjects are indexed and shown in lists.
    pub async fn check_subject(&self, account: AccountId, subject: &str) -> Result<String> {
        let s = subject.trim();
        if s.is_empty() {
            return Err(DeskError::Invalid("a request needs a short subject".into()));
        }
        if s.chars().count() > MAX_SUBJECT_CHARS {
            return Err(DeskError::Invalid(format!(
                "a subject is at most {MAX_SUBJECT_CHARS} characters"
            )));
        }
        if normalize::contains_email_like(s) || normalize::contains_phone_like(s) {
            return Err(DeskError::Invalid(
                "a subject must not contain an email or a phone number: describe the request, not the person".into(),
            ));
        }
        if let Some(row) = self.store.account(account).await?
            && !row.flags.erased
            && let Some(blob) = &row.name
        {
            let key = self.keys.data_key(account).await?;
            let name = Keyring::open_value(&key, account, "accounts", "name_ct", account.0, blob)?;
            let name_words: Vec<String> = normalize::words(name.expose())
                .into_iter()
                .filter(|w| w.chars().count() >= 4)
                .collect();
            if normalize::words(s).iter().any(|w| name_words.contains(w)) {
                return Err(DeskError::Invalid(
                    "a subject must not contain the client's name: describe the request, not the person".into(),
                ));
            }
        }
        Ok(s.to_owned())
    }

    /// Seals a new request (id reserved already) for `Mutation::InsertRequest`.
    pub(crate) async fn seal_request(
        &self,
        id: RequestId,
        input: &RequestInput,
        state: State,
        filed_by: Option<StaffId>,
        by: &str,
    ) -> Result<NewRequest> {
        let key = self.keys.data_key(input.account).await?;
        let due_at = self.rules.deadlines.due(
            input.kind,
            None,
            input.received_at,
            &self.rules.calendar,
            &self.rules.tz,
        )?;
        let (requester, requester_contact, requester_text) = match &input.requester {
            RequesterInput::Contact(c) => (RequesterTag::Contact, Some(*c), None),
            RequesterInput::Other(text) => (
                RequesterTag::Other,
                None,
                Some(Keyring::seal_value(
                    &key,
                    input.account,
                    "requests",
                    "requester_ct",
                    id.0,
                    text.expose(),
                )),
            ),
            RequesterInput::Staff => (RequesterTag::Staff, None, None),
        };
        Ok(NewRequest {
            id,
            kind: input.kind,
            account: input.account,
            requester,
            requester_contact,
            requester_text,
            channel: input.channel,
            state,
            assignee: None,
            received_at: input.received_at,
            due_at,
            subject: Some(Keyring::seal_value(
                &key,
                input.account,
                "requests",
                "subject_ct",
                id.0,
                &input.subject,
            )),
            subject_tokens: self.keys.tokens(TokenScope::Subject, &input.subject),
            filed_by,
            prepared_by: None,
            severity: None,
            personal_data_leak: None,
            identity_verified: false,
            by: by.to_owned(),
        })
    }

    /// Files a new request of any kind (intake).
    pub async fn file_request(&self, actor: &Actor, input: RequestInput) -> Result<RequestId> {
        require(actor, Action::FileRequest)?;
        let account =
            self.store
                .account(input.account)
                .await?
                .ok_or_else(|| DeskError::NotFound {
                    what: "account",
                    id: input.account.to_string(),
                })?;
        if account.flags.erased {
            return Err(DeskError::Invalid(
                "the account was erased; a new request needs a new account".into(),
            ));
        }
        if let RequesterInput::Contact(c) = &input.requester {
            let ok = self
                .store
                .contact(c.0)
                .await?
                .is_some_and(|row| row.account == input.account && row.active);
            if !ok {
                return Err(DeskError::Invalid(
                    "that contact is not a designated contact of this account".into(),
                ));
            }
        }
        let subject = self.check_subject(input.account, &input.subject).await?;
        let input = RequestInput { subject, ..input };
        let id = RequestId(self.store.reserve_ids(IdTable::Requests, 1).await?);
        let state = Flow::of(input.kind).initial();
        let new = self
            .seal_request(id, &input, state, actor.staff_id(), &actor.label())
            .await?;
        let key = self.keys.data_key(input.account).await?;
        let entry_id = self.store.reserve_ids(IdTable::Entries, 1).await?;
        let entry = Mutation::InsertEntry(NewEntry {
            id: entry_id,
            request: id,
            account: input.account,
            at: self.now(),
            kind: EntryKind::Timeline,
            author: actor.label(),
            body: Keyring::seal_value(
                &key,
                input.account,
                "request_entries",
                "body_ct",
                entry_id,
                &format!("filed ({})", input.channel.as_str()),
            ),
        });
        let audit = self
            .audit(actor, "request.file")
            .request(id)
            .account(input.account)
            .detail(input.kind.as_str());
        self.commit(vec![Mutation::InsertRequest(Box::new(new)), entry], audit)
            .await?;
        Ok(id)
    }

    /// The events a request accepts now from this actor (for menus), in table order.
    pub fn available_events(&self, actor: &Actor, view: &RequestView) -> Vec<EventKind> {
        let Some(role) = actor.role() else {
            return vec![];
        };
        if view.mode != ViewMode::Full {
            return vec![];
        }
        let own = view
            .prepared_by
            .as_ref()
            .is_some_and(|p| actor.label() == p.as_str());
        workflow::events_from(view.kind, view.state)
            .into_iter()
            .filter(|e| policy::allows(role, policy::event_action(view.kind, view.state, *e, own)))
            .collect()
    }
}

fn check_note(text: &str) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DeskError::Invalid("the note is empty".into()));
    }
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(DeskError::Invalid(format!(
            "a note is at most {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(t.to_owned())
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
                out.push(self.list_row(&viewer, r).await?);
            }
        }
        Ok(out)
    }
}
