//! Work on a request: state events, take / assign / release, notes, filing. Each is one
//! store transaction with its audit record; a stale write is refused naming who changed it.

use std::fmt::Write as _;

use crate::crypto::TokenScope;
use crate::domain::account::AccountId;
use crate::domain::normalize;
use crate::domain::policy::{self, Action};
use crate::domain::request::{Queue, RequestId, RequestKind};
use crate::domain::staff::{Actor, Login, StaffId};
use crate::domain::view::{EntryKind, RequestView, ViewMode};
use crate::domain::workflow::{self, Event, EventKind, Facts, Flow, State};
use crate::store::{
    IdTable, Mutation, NewEntry, NewRequest, RequestChange, RequestRow, RequesterTag,
};

use super::requests::{
    MAX_NOTE_CHARS, MAX_SUBJECT_CHARS, RequestInput, RequesterInput, staff_actor,
};
use super::{Desk, DeskError, Keyring, Result, require};

impl Desk {
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
            change.due_at = Some(self.rules.deadlines.compromise_due(
                severity,
                personal_data_leak,
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
        // What the step does to the account, in the same transaction.
        let erase = effects(r.kind, ek, r.account, &mut mutations, &mut detail);
        let audit = self
            .audit(actor, &format!("request.event.{}", ek.as_str()))
            .request(id)
            .account(r.account)
            .detail(detail);
        let out = self.commit(mutations, audit).await?;
        if erase {
            // The tombstone and the doomed key are committed; now destroy the key (a crash
            // here is finished at the next start).
            self.keys.destroy(r.account).await?;
            self.store.forget_doomed(r.account).await?;
        }
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

/// The account changes a workflow step makes, pushed onto `mutations` (after the request's
/// own change and timeline entry). Returns whether the account is being erased (its key
/// is destroyed once the transaction commits).
fn effects(
    kind: RequestKind,
    event: EventKind,
    account: AccountId,
    mutations: &mut Vec<Mutation>,
    detail: &mut String,
) -> bool {
    match (kind, event) {
        // Containment: nobody can log in, and every session ends (§4, §9).
        (RequestKind::Compromise, EventKind::Contain) => {
            mutations.push(Mutation::SetAccountFlags {
                id: account,
                locked: Some(true),
                blocked: None,
            });
            mutations.push(Mutation::EndClientSessions { account });
            detail.push_str(" account=locked sessions=ended");
            false
        }
        (RequestKind::Compromise, EventKind::Restore) => {
            mutations.push(Mutation::SetAccountFlags {
                id: account,
                locked: Some(false),
                blocked: None,
            });
            detail.push_str(" account=unlocked");
            false
        }
        // §14: blocking freezes the personal data; unblocking releases it.
        (RequestKind::SubjectBlocking, EventKind::Execute) => {
            mutations.push(Mutation::SetAccountFlags {
                id: account,
                locked: None,
                blocked: Some(true),
            });
            detail.push_str(" account=blocked");
            false
        }
        (RequestKind::SubjectUnblocking, EventKind::Execute) => {
            mutations.push(Mutation::SetAccountFlags {
                id: account,
                locked: None,
                blocked: Some(false),
            });
            detail.push_str(" account=unblocked");
            false
        }
        // §14: deletion erases the personal data and destroys the account's key.
        (RequestKind::SubjectDeletion, EventKind::Execute) => {
            mutations.push(Mutation::EraseAccount { id: account });
            detail.push_str(" account=erased");
            true
        }
        _ => false,
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
