// The body of the store, shared by the SQLite and PostgreSQL implementations.
//
// This file is not a module: `sqlite.rs` and `postgres.rs` each `include!` it after
// defining `Db` (the sqlx driver), `DbStore` (their store type) and a few hooks where the
// engines differ (write transactions, the audit-head lock, the subject word index,
// notifications). The SQL text is the same on both engines (`$N` placeholders, TRUE and
// FALSE, CAST), so one suite of tests covers one body of queries twice, natively.

use sqlx::Row as _;

use crate::domain::account::{AccountFlags, AccountId, AccountKind, ContactId, LoginResult};
use crate::domain::request::{Channel, Queue, RequestId, RequestKind};
use crate::domain::staff::{Lang, StaffId};
use crate::domain::view::EntryKind;
use crate::domain::workflow::State;
use crate::store::audit::{AuditDraft, AuditFilter, AuditHead, AuditRecord, ChainReport, ChainVerifier, chain_hash};
use crate::store::{
    AccountCounts, AccountRow, ChangeNotice, Commit, CommitOutcome, ContactRow, Cursor, Direction, EntryRow,
    IdTable, IndexKindTag, ListQuery, LoginRow, Mutation, NoticeRow, NewAccount, NewRequest, QueueCount, RequestChange,
    QueueRow, RequestRow, RequesterTag, Result, SessionRow, StaffChange, StaffKeyRow, StaffRow, StoreError,
    VerificationRow,
};

/// The condition that an account row (`a.`: under that alias) is in the desk: not written by
/// an import that has not made its final step yet (see `imports.rs`).
macro_rules! visible {
    ($a:literal) => {
        concat!(
            "(", $a, "import_pending IS NULL OR ", $a,
            "import_pending IN (SELECT id FROM imports WHERE state = 'sweeping'))"
        )
    };
}

type DbRow = <Db as sqlx::Database>::Row;
type Tx = sqlx::Transaction<'static, Db>;

const HOUR_MS: i64 = 3_600_000;

fn ms(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

fn ts(v: i64) -> Result<jiff::Timestamp> {
    jiff::Timestamp::from_millisecond(v).map_err(|_| StoreError::Corrupt(format!("timestamp {v} out of range")))
}

fn opt_ts(v: Option<i64>) -> Result<Option<jiff::Timestamp>> {
    v.map(ts).transpose()
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v.max(0)).unwrap_or(0)
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} {:?}", value.chars().take(32).collect::<String>()))
}

fn staff_from_row(r: &DbRow) -> Result<StaffRow> {
    let role: String = r.try_get("role")?;
    let lang: Option<String> = r.try_get("lang")?;
    Ok(StaffRow {
        id: StaffId(r.try_get("id")?),
        login: r.try_get("login")?,
        display_name: r.try_get("display_name")?,
        role: role.parse().map_err(|_| corrupt("role", &role))?,
        lang: lang.map(|l| l.parse::<Lang>().map_err(|_| corrupt("language", &l))).transpose()?,
        password_hash: r.try_get("password_hash")?,
        disabled: r.try_get("disabled")?,
        failed_attempts: to_u32(r.try_get("failed_attempts")?),
        locked_until: opt_ts(r.try_get("locked_until")?)?,
        last_login_at: opt_ts(r.try_get("last_login_at")?)?,
        created_at: ts(r.try_get("created_at")?)?,
        demo: r.try_get("demo")?,
        generation: r.try_get("generation")?,
        key_count: to_u32(r.try_get("key_count")?),
    })
}

const STAFF_COLUMNS: &str = "s.id, s.login, s.display_name, s.role, s.lang, s.password_hash, s.disabled, \
    s.failed_attempts, s.locked_until, s.last_login_at, s.created_at, s.demo, s.generation, \
    (SELECT count(*) FROM staff_keys k WHERE k.staff_id = s.id) AS key_count";

fn key_from_row(r: &DbRow) -> Result<StaffKeyRow> {
    Ok(StaffKeyRow {
        id: r.try_get("id")?,
        staff_id: StaffId(r.try_get("staff_id")?),
        algorithm: r.try_get("algorithm")?,
        public_key: r.try_get("public_key")?,
        fingerprint: r.try_get("fingerprint")?,
        comment: r.try_get("comment")?,
        added_at: ts(r.try_get("added_at")?)?,
    })
}

fn account_from_row(r: &DbRow) -> Result<AccountRow> {
    let kind: String = r.try_get("kind")?;
    Ok(AccountRow {
        id: AccountId(r.try_get("id")?),
        kind: AccountKind::parse(&kind).ok_or_else(|| corrupt("account kind", &kind))?,
        flags: AccountFlags {
            locked: r.try_get("locked")?,
            blocked: r.try_get("blocked")?,
            erased: r.try_get("erased")?,
        },
        erased_at: opt_ts(r.try_get("erased_at")?)?,
        name: r.try_get("name_ct")?,
        email: r.try_get("email_ct")?,
        phone: r.try_get("phone_ct")?,
        postal_address: r.try_get("postal_ct")?,
        tax_id: r.try_get("tax_ct")?,
        admin_login_count: to_u32(r.try_get("admin_login_count")?),
        created_at: ts(r.try_get("created_at")?)?,
        updated_at: ts(r.try_get("updated_at")?)?,
        version: r.try_get("version")?,
    })
}

fn contact_from_row(r: &DbRow) -> Result<ContactRow> {
    Ok(ContactRow {
        id: ContactId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        name: r.try_get("name_ct")?,
        email: r.try_get("email_ct")?,
        phone: r.try_get("phone_ct")?,
        passphrase: r.try_get("passphrase_ct")?,
        has_email: r.try_get("has_email")?,
        has_phone: r.try_get("has_phone")?,
        active: r.try_get("active")?,
    })
}

const REQUEST_COLUMNS: &str = "r.id, r.kind, r.account_id, r.requester_kind, r.requester_contact_id, \
    r.requester_ct, r.channel, r.state, r.assignee_id, sa.login AS assignee_login, r.received_at, \
    r.due_at, r.version, r.subject_ct, r.filed_by, r.prepared_by, sp.login AS prepared_login, \
    r.severity, r.leak, r.identity_verified, r.extended, r.updated_at, r.updated_by, \
    a.name_ct AS account_name_ct, a.kind AS account_kind, a.blocked AS account_blocked, \
    a.erased AS account_erased";

const QUEUE_COLUMNS: &str = "r.id, r.kind, r.account_id, r.state, sa.login AS assignee_login, \
    r.received_at, r.due_at, r.version, a.name_ct AS account_name_ct, a.kind AS account_kind, \
    a.blocked AS account_blocked, a.erased AS account_erased";

const QUEUE_FROM: &str =
    " FROM requests r JOIN accounts a ON a.id = r.account_id LEFT JOIN staff sa ON sa.id = r.assignee_id ";

fn queue_row_from_row(r: &DbRow) -> Result<QueueRow> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    let account_kind: String = r.try_get("account_kind")?;
    Ok(QueueRow {
        id: RequestId(r.try_get("id")?),
        kind: RequestKind::parse(&kind).ok_or_else(|| corrupt("request kind", &kind))?,
        account: AccountId(r.try_get("account_id")?),
        state: State::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        assignee_login: r.try_get("assignee_login")?,
        received_at: ts(r.try_get("received_at")?)?,
        due_at: ts(r.try_get("due_at")?)?,
        version: r.try_get("version")?,
        account_name: r.try_get("account_name_ct")?,
        account_kind: AccountKind::parse(&account_kind).ok_or_else(|| corrupt("account kind", &account_kind))?,
        account_blocked: r.try_get("account_blocked")?,
        account_erased: r.try_get("account_erased")?,
    })
}

const REQUEST_FROM: &str = " FROM requests r JOIN accounts a ON a.id = r.account_id \
    LEFT JOIN staff sa ON sa.id = r.assignee_id LEFT JOIN staff sp ON sp.id = r.prepared_by ";

fn request_from_row(r: &DbRow) -> Result<RequestRow> {
    let kind: String = r.try_get("kind")?;
    let requester: String = r.try_get("requester_kind")?;
    let channel: String = r.try_get("channel")?;
    let state: String = r.try_get("state")?;
    let account_kind: String = r.try_get("account_kind")?;
    let severity: Option<i64> = r.try_get("severity")?;
    Ok(RequestRow {
        id: RequestId(r.try_get("id")?),
        kind: RequestKind::parse(&kind).ok_or_else(|| corrupt("request kind", &kind))?,
        account: AccountId(r.try_get("account_id")?),
        requester: RequesterTag::parse(&requester).ok_or_else(|| corrupt("requester", &requester))?,
        requester_contact: r.try_get::<Option<i64>, _>("requester_contact_id")?.map(ContactId),
        requester_text: r.try_get("requester_ct")?,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        state: State::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        assignee: r.try_get::<Option<i64>, _>("assignee_id")?.map(StaffId),
        assignee_login: r.try_get("assignee_login")?,
        received_at: ts(r.try_get("received_at")?)?,
        due_at: ts(r.try_get("due_at")?)?,
        version: r.try_get("version")?,
        subject: r.try_get("subject_ct")?,
        filed_by: r.try_get::<Option<i64>, _>("filed_by")?.map(StaffId),
        prepared_by: r.try_get::<Option<i64>, _>("prepared_by")?.map(StaffId),
        prepared_by_login: r.try_get("prepared_login")?,
        severity: severity.and_then(|s| u8::try_from(s).ok()),
        personal_data_leak: r.try_get("leak")?,
        identity_verified: r.try_get("identity_verified")?,
        extended: r.try_get("extended")?,
        updated_at: ts(r.try_get("updated_at")?)?,
        updated_by: r.try_get("updated_by")?,
        account_name: r.try_get("account_name_ct")?,
        account_kind: AccountKind::parse(&account_kind).ok_or_else(|| corrupt("account kind", &account_kind))?,
        account_blocked: r.try_get("account_blocked")?,
        account_erased: r.try_get("account_erased")?,
    })
}

fn audit_from_row(r: &DbRow) -> Result<AuditRecord> {
    Ok(AuditRecord {
        seq: r.try_get("seq")?,
        draft: AuditDraft {
            at: ts(r.try_get("at")?)?,
            actor: r.try_get("actor")?,
            source: r.try_get("source")?,
            action: r.try_get("action")?,
            account: r.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
            request: r.try_get::<Option<i64>, _>("request_id")?.map(RequestId),
            target: r.try_get("target")?,
            fields: r.try_get("fields")?,
            purpose: r.try_get("purpose")?,
            outcome: r.try_get("outcome")?,
            detail: r.try_get("detail")?,
        },
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

/// Collects what a commit changed, for the change notice sent after it.
#[derive(Default)]
struct Touched {
    requests: Vec<RequestId>,
    accounts: Vec<AccountId>,
    staff: Vec<StaffId>,
    audit: bool,
    notices: bool,
}

impl Touched {
    fn notices(self) -> Vec<ChangeNotice> {
        let mut out = vec![];
        if !self.requests.is_empty() {
            out.push(ChangeNotice::Requests(self.requests));
        }
        if !self.accounts.is_empty() {
            out.push(ChangeNotice::Accounts(self.accounts));
        }
        if !self.staff.is_empty() {
            out.push(ChangeNotice::Staff(self.staff));
        }
        if self.audit {
            out.push(ChangeNotice::Audit);
        }
        if self.notices {
            out.push(ChangeNotice::Notices);
        }
        out
    }
}

/// How an audit filter's action matches: the list finds `request` together with its
/// sub-actions (`request.take`, …); counting a limit wants that one action only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ActionMatch {
    Exact,
    WithSubactions,
}

fn push_audit_filter(q: &mut sqlx::QueryBuilder<Db>, f: &AuditFilter, action: ActionMatch) {
    if let Some(a) = &f.actor {
        q.push(" AND actor = ").push_bind(a.clone());
    }
    if let Some(a) = f.account {
        q.push(" AND account_id = ").push_bind(a.0);
    }
    if let Some(r) = f.request {
        q.push(" AND request_id = ").push_bind(r.0);
    }
    if let Some(a) = &f.action {
        if action == ActionMatch::Exact {
            q.push(" AND action = ").push_bind(a.clone());
        } else {
            q.push(" AND (action = ").push_bind(a.clone());
            q.push(" OR action LIKE ").push_bind(format!("{}.%", a.replace(['%', '_'], ""))).push(")");
        }
    }
    if let Some(p) = &f.purpose {
        q.push(" AND purpose = ").push_bind(p.clone());
    }
    if let Some(o) = &f.outcome {
        q.push(" AND outcome = ").push_bind(o.clone());
    }
    if let Some(s) = f.since {
        q.push(" AND at >= ").push_bind(ms(s));
    }
    if let Some(u) = f.until {
        q.push(" AND at < ").push_bind(ms(u));
    }
}

async fn bump_bucket(tx: &mut Tx, queue: i64, due_at: i64, delta: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO queue_buckets (queue, due_hour, open_count) VALUES ($1, $2, $3) \
         ON CONFLICT (queue, due_hour) DO UPDATE SET open_count = queue_buckets.open_count + $3",
    )
    .bind(queue)
    .bind(due_at.div_euclid(HOUR_MS))
    .bind(delta)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn fetch_request_tx(tx: &mut Tx, id: RequestId) -> Result<RequestRow> {
    let sql = format!("SELECT {REQUEST_COLUMNS}{REQUEST_FROM}WHERE r.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound { what: "request", id: id.to_string() })?;
    request_from_row(&row)
}

async fn insert_account(tx: &mut Tx, a: &NewAccount, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO accounts (id, kind, name_ct, email_ct, phone_ct, postal_ct, tax_ct, locked, blocked, \
         erased, admin_login_count, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, 1)",
    )
    .bind(a.id.0)
    .bind(a.kind.as_str())
    .bind(a.name.as_deref())
    .bind(a.email.as_deref())
    .bind(a.phone.as_deref())
    .bind(a.postal_address.as_deref())
    .bind(a.tax_id.as_deref())
    .bind(a.flags.locked)
    .bind(a.flags.blocked)
    .bind(a.flags.erased)
    .bind(i64::try_from(a.admin_logins.len()).unwrap_or(i64::MAX))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    insert_account_children(tx, a, 0).await
}

/// Inserts an account's indexes, tokens, admin logins, contacts, history and sessions in
/// generation `gen` (see `migrations/*/0004_import_batches.sql`: lookups read only the rows of
/// an account's current generation).
async fn insert_account_children(tx: &mut Tx, a: &NewAccount, generation: i64) -> Result<()> {
    for (kind, hash) in &a.indexes {
        sqlx::query(
            "INSERT INTO account_index (kind, hash, account_id, gen) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(kind.as_str())
        .bind(hash.as_slice())
        .bind(a.id.0)
        .bind(generation)
        .execute(&mut **tx)
        .await?;
    }
    for token in &a.tokens {
        sqlx::query(
            "INSERT INTO account_tokens (token, account_id, gen) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(token.as_str())
        .bind(a.id.0)
        .bind(generation)
        .execute(&mut **tx)
        .await?;
    }
    for (id, login) in &a.admin_logins {
        sqlx::query("INSERT INTO admin_logins (id, account_id, login_ct, gen) VALUES ($1, $2, $3, $4)")
            .bind(*id)
            .bind(a.id.0)
            .bind(login.as_slice())
            .bind(generation)
            .execute(&mut **tx)
            .await?;
    }
    for c in &a.contacts {
        sqlx::query(
            "INSERT INTO contacts (id, account_id, name_ct, email_ct, phone_ct, passphrase_ct, has_email, \
             has_phone, active, gen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9)",
        )
        .bind(c.id.0)
        .bind(a.id.0)
        .bind(c.name.as_deref())
        .bind(c.email.as_deref())
        .bind(c.phone.as_deref())
        .bind(c.passphrase.as_deref())
        .bind(c.has_email)
        .bind(c.has_phone)
        .bind(generation)
        .execute(&mut **tx)
        .await?;
    }
    for h in &a.login_history {
        sqlx::query("INSERT INTO login_history (id, account_id, at, source_ct, result) VALUES ($1, $2, $3, $4, $5)")
            .bind(h.id)
            .bind(a.id.0)
            .bind(ms(h.at))
            .bind(h.source.as_slice())
            .bind(h.result.as_str())
            .execute(&mut **tx)
            .await?;
    }
    for s in &a.sessions {
        sqlx::query("INSERT INTO client_sessions (id, account_id, started_at, source_ct) VALUES ($1, $2, $3, $4)")
            .bind(s.id)
            .bind(a.id.0)
            .bind(ms(s.started_at))
            .bind(s.source.as_slice())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Replaces an account's sealed values in place, within its current generation (an import
/// stages its replacements in a generation of its own instead: `finish_import`).
async fn replace_account(tx: &mut Tx, a: &NewAccount, now: i64) -> Result<()> {
    let generation: Option<i64> = sqlx::query_scalar(
        concat!("UPDATE accounts SET kind = $2, name_ct = $3, email_ct = $4, phone_ct = $5, postal_ct = $6, tax_ct = $7, \
         admin_login_count = $8, updated_at = $9, version = version + 1 \
         WHERE id = $1 AND erased = FALSE AND ", visible!(""), " RETURNING gen"),
    )
    .bind(a.id.0)
    .bind(a.kind.as_str())
    .bind(a.name.as_deref())
    .bind(a.email.as_deref())
    .bind(a.phone.as_deref())
    .bind(a.postal_address.as_deref())
    .bind(a.tax_id.as_deref())
    .bind(i64::try_from(a.admin_logins.len()).unwrap_or(i64::MAX))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(generation) = generation else {
        return Err(StoreError::NotFound { what: "account", id: a.id.to_string() });
    };
    for table in ["account_index", "account_tokens", "admin_logins"] {
        let sql = format!("DELETE FROM {table} WHERE account_id = $1 AND gen = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(a.id.0).bind(generation).execute(&mut **tx).await?;
    }
    // Former contacts stay as rows (requests may name them) but lose their sealed values.
    sqlx::query(
        "UPDATE contacts SET active = FALSE, name_ct = NULL, email_ct = NULL, phone_ct = NULL, \
         passphrase_ct = NULL WHERE account_id = $1 AND gen = $2",
    )
    .bind(a.id.0)
    .bind(generation)
    .execute(&mut **tx)
    .await?;
    let fresh = NewAccount { login_history: vec![], sessions: vec![], ..a.clone() };
    insert_account_children(tx, &fresh, generation).await
}

async fn insert_request(tx: &mut Tx, r: &NewRequest, now: i64) -> Result<()> {
    let queue = i64::from(r.kind.queue().code());
    let open = !r.state.is_terminal();
    sqlx::query(
        "INSERT INTO requests (id, kind, queue, account_id, requester_kind, requester_contact_id, requester_ct, \
         channel, state, is_open, assignee_id, received_at, due_at, version, subject_ct, filed_by, prepared_by, \
         severity, leak, identity_verified, extended, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $15, $16, $17, $18, $19, FALSE, \
         $20, $21)",
    )
    .bind(r.id.0)
    .bind(r.kind.as_str())
    .bind(queue)
    .bind(r.account.0)
    .bind(r.requester.as_str())
    .bind(r.requester_contact.map(|c| c.0))
    .bind(r.requester_text.as_deref())
    .bind(r.channel.as_str())
    .bind(r.state.as_str())
    .bind(open)
    .bind(r.assignee.map(|s| s.0))
    .bind(ms(r.received_at))
    .bind(ms(r.due_at))
    .bind(r.subject.as_deref())
    .bind(r.filed_by.map(|s| s.0))
    .bind(r.prepared_by.map(|s| s.0))
    .bind(r.severity.map(i64::from))
    .bind(r.personal_data_leak)
    .bind(r.identity_verified)
    .bind(now)
    .bind(r.by.as_str())
    .execute(&mut **tx)
    .await?;
    if !r.subject_tokens.is_empty() {
        index_subject(tx, r.id, &r.subject_tokens).await?;
    }
    if open {
        bump_bucket(tx, queue, ms(r.due_at), 1).await?;
    }
    Ok(())
}

async fn update_request(
    tx: &mut Tx,
    id: RequestId,
    expected_version: i64,
    c: &RequestChange,
    by: &str,
    now: i64,
) -> Result<()> {
    let current = lock_request(tx, id).await?;
    let (queue, is_open, due_at, version, updated_by, updated_at) = current;
    if version != expected_version {
        return Err(StoreError::Stale {
            what: "request",
            id: id.to_string(),
            changed_by: updated_by,
            changed_at: ts(updated_at)?,
            version,
        });
    }
    let new_open = c.state.map_or(is_open, |s| !s.is_terminal());
    let new_due = c.due_at.map_or(due_at, ms);
    let mut q = sqlx::QueryBuilder::<Db>::new("UPDATE requests SET version = version + 1, updated_at = ");
    q.push_bind(now).push(", updated_by = ").push_bind(by.to_owned());
    if let Some(s) = c.state {
        q.push(", state = ").push_bind(s.as_str()).push(", is_open = ").push_bind(new_open);
    }
    if let Some(a) = c.assignee {
        q.push(", assignee_id = ").push_bind(a.map(|s| s.0));
    }
    if let Some(p) = c.prepared_by {
        q.push(", prepared_by = ").push_bind(p.map(|s| s.0));
    }
    if let Some(s) = c.severity {
        q.push(", severity = ").push_bind(i64::from(s));
    }
    if let Some(l) = c.personal_data_leak {
        q.push(", leak = ").push_bind(l);
    }
    if let Some(v) = c.identity_verified {
        q.push(", identity_verified = ").push_bind(v);
    }
    if let Some(e) = c.extended {
        q.push(", extended = ").push_bind(e);
    }
    if c.due_at.is_some() {
        q.push(", due_at = ").push_bind(new_due);
    }
    q.push(" WHERE id = ").push_bind(id.0).push(" AND version = ").push_bind(expected_version);
    q.build().execute(&mut **tx).await?;
    if is_open && (!new_open || new_due != due_at) {
        bump_bucket(tx, queue, due_at, -1).await?;
    }
    if new_open && (!is_open || new_due != due_at) {
        bump_bucket(tx, queue, new_due, 1).await?;
    }
    Ok(())
}

async fn erase_account(tx: &mut Tx, id: AccountId, now: i64) -> Result<()> {
    let done = sqlx::query(
        concat!("UPDATE accounts SET name_ct = NULL, email_ct = NULL, phone_ct = NULL, postal_ct = NULL, tax_ct = NULL, \
         erased = TRUE, erased_at = $2, admin_login_count = 0, updated_at = $2, version = version + 1 \
         WHERE id = $1 AND ", visible!(""), ""),
    )
    .bind(id.0)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound { what: "account", id: id.to_string() });
    }
    unindex_subjects_of_account(tx, id).await?;
    for sql in [
        "DELETE FROM account_index WHERE account_id = $1",
        "DELETE FROM account_tokens WHERE account_id = $1",
        "DELETE FROM admin_logins WHERE account_id = $1",
        "UPDATE contacts SET active = FALSE, name_ct = NULL, email_ct = NULL, phone_ct = NULL, \
         passphrase_ct = NULL WHERE account_id = $1",
        "DELETE FROM login_history WHERE account_id = $1",
        "DELETE FROM client_sessions WHERE account_id = $1",
        "DELETE FROM request_entries WHERE account_id = $1",
        "DELETE FROM verification_data WHERE account_id = $1",
        "UPDATE requests SET subject_ct = NULL, requester_ct = NULL WHERE account_id = $1",
        // A replacement an import staged: its final step then finds the account erased and
        // refuses, so the import is undone.
        "DELETE FROM import_replacements WHERE account_id = $1",
    ] {
        sqlx::query(sql).bind(id.0).execute(&mut **tx).await?;
    }
    sqlx::query("INSERT INTO doomed_keys (account_id, doomed_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id.0)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn update_staff(tx: &mut Tx, id: StaffId, c: &StaffChange, now: i64) -> Result<()> {
    let mut q = sqlx::QueryBuilder::<Db>::new("UPDATE staff SET generation = generation + ");
    q.push_bind(i64::from(c.bump_generation));
    if let Some(role) = c.role {
        q.push(", role = ").push_bind(role.as_str());
    }
    if let Some(lang) = c.lang {
        q.push(", lang = ").push_bind(lang.map(Lang::as_str));
    }
    if let Some(h) = &c.password_hash {
        q.push(", password_hash = ").push_bind(h.clone());
    }
    if let Some(d) = c.disabled {
        q.push(", disabled = ").push_bind(d);
    }
    if let Some(f) = c.failed_attempts {
        q.push(", failed_attempts = ").push_bind(i64::from(f));
    }
    if let Some(l) = c.locked_until {
        q.push(", locked_until = ").push_bind(l.map(ms));
    }
    if let Some(l) = c.last_login_at {
        q.push(", last_login_at = ").push_bind(ms(l));
    }
    q.push(" WHERE id = ").push_bind(id.0);
    if let Some(n) = c.expected_failed_attempts {
        q.push(" AND failed_attempts = ").push_bind(i64::from(n));
    }
    let done = q.build().execute(&mut **tx).await?;
    if done.rows_affected() == 0 {
        let current: Option<i64> = sqlx::query_scalar("SELECT failed_attempts FROM staff WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut **tx)
            .await?;
        return Err(match current {
            Some(failed) if c.expected_failed_attempts.is_some() => StoreError::Stale {
                what: "staff member",
                id: id.to_string(),
                changed_by: "another login attempt".to_owned(),
                changed_at: ts(now)?,
                version: failed,
            },
            _ => StoreError::NotFound { what: "staff member", id: id.to_string() },
        });
    }
    Ok(())
}

async fn apply_mutation(
    tx: &mut Tx,
    m: Mutation,
    now: i64,
    out: &mut CommitOutcome,
    touched: &mut Touched,
) -> Result<()> {
    match m {
        Mutation::Guard(g) => {
            lock_key(tx, &g.key).await?;
            let mut q = sqlx::QueryBuilder::<Db>::new("SELECT count(*) FROM audit WHERE outcome = 'done' AND action = ");
            q.push_bind(g.action.clone());
            if let Some(a) = &g.actor {
                q.push(" AND actor = ").push_bind(a.clone());
            }
            if let Some(r) = g.request {
                q.push(" AND request_id = ").push_bind(r.0);
            }
            if let Some(s) = g.since {
                q.push(" AND at >= ").push_bind(ms(s));
            }
            let n: i64 = q.build_query_scalar().fetch_one(&mut **tx).await?;
            if to_u64(n) >= g.max {
                return Err(StoreError::LimitReached { max: g.max });
            }
        }
        Mutation::InsertStaff(s) => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO staff (login, display_name, role, lang, password_hash, created_at, demo) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(s.login.as_str())
            .bind(s.display_name.as_str())
            .bind(s.role.as_str())
            .bind(s.lang.map(Lang::as_str))
            .bind(s.password_hash.as_str())
            .bind(now)
            .bind(s.demo)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| match crate::store::map_db_error(e) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("a staff member with the login {} already exists", s.login))
                }
                other => other,
            })?;
            out.staff_ids.push(StaffId(id));
            touched.staff.push(StaffId(id));
        }
        Mutation::UpdateStaff { id, change } => {
            update_staff(tx, id, &change, now).await?;
            touched.staff.push(id);
        }
        Mutation::AddStaffKey(k) => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO staff_keys (staff_id, algorithm, public_key, fingerprint, comment, added_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(k.staff.0)
            .bind(k.algorithm.as_str())
            .bind(k.public_key.as_str())
            .bind(k.fingerprint.as_str())
            .bind(k.comment.as_str())
            .bind(now)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| match crate::store::map_db_error(e) {
                StoreError::Conflict(_) => {
                    StoreError::Conflict(format!("the key {} is already registered", k.fingerprint))
                }
                other => other,
            })?;
            out.key_ids.push(id);
            touched.staff.push(k.staff);
        }
        Mutation::RemoveStaffKey { staff, fingerprint } => {
            let done = sqlx::query("DELETE FROM staff_keys WHERE staff_id = $1 AND fingerprint = $2")
                .bind(staff.0)
                .bind(fingerprint.as_str())
                .execute(&mut **tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "key", id: fingerprint });
            }
            update_staff(tx, staff, &StaffChange { bump_generation: true, ..StaffChange::default() }, now).await?;
            touched.staff.push(staff);
        }
        Mutation::InsertAccount(a) => {
            insert_account(tx, &a, now).await?;
            touched.accounts.push(a.id);
        }
        Mutation::ReplaceAccount(a) => {
            replace_account(tx, &a, now).await?;
            touched.accounts.push(a.id);
        }
        Mutation::SetAccountFlags { id, locked, blocked } => {
            let done = sqlx::query(
                concat!("UPDATE accounts SET locked = COALESCE($2, locked), blocked = COALESCE($3, blocked), \
                 updated_at = $4, version = version + 1 WHERE id = $1 AND ", visible!(""), ""),
            )
            .bind(id.0)
            .bind(locked)
            .bind(blocked)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound { what: "account", id: id.to_string() });
            }
            touched.accounts.push(id);
        }
        Mutation::EndClientSessions { account } => {
            sqlx::query("DELETE FROM client_sessions WHERE account_id = $1")
                .bind(account.0)
                .execute(&mut **tx)
                .await?;
            touched.accounts.push(account);
        }
        Mutation::InsertRequest(r) => {
            insert_request(tx, &r, now).await?;
            out.requests.push(fetch_request_tx(tx, r.id).await?);
            touched.requests.push(r.id);
        }
        Mutation::UpdateRequest { id, expected_version, change, by } => {
            update_request(tx, id, expected_version, &change, &by, now).await?;
            out.requests.push(fetch_request_tx(tx, id).await?);
            touched.requests.push(id);
        }
        Mutation::InsertEntry(e) => {
            sqlx::query(
                "INSERT INTO request_entries (id, request_id, account_id, at, kind, author, body_ct) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(e.id)
            .bind(e.request.0)
            .bind(e.account.0)
            .bind(ms(e.at))
            .bind(e.kind.as_str())
            .bind(e.author.as_str())
            .bind(e.body.as_slice())
            .execute(&mut **tx)
            .await?;
            touched.requests.push(e.request);
        }
        Mutation::InsertVerification(v) => {
            sqlx::query(
                "INSERT INTO verification_data (id, request_id, account_id, label, value_ct, value_index, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(v.id)
            .bind(v.request.0)
            .bind(v.account.0)
            .bind(v.label.as_str())
            .bind(v.value.as_slice())
            .bind(v.value_index.as_slice())
            .bind(now)
            .execute(&mut **tx)
            .await?;
            touched.requests.push(v.request);
        }
        Mutation::PurgeVerification { request } => {
            sqlx::query("DELETE FROM verification_data WHERE request_id = $1")
                .bind(request.0)
                .execute(&mut **tx)
                .await?;
            touched.requests.push(request);
        }
        Mutation::EraseAccount { id } => {
            erase_account(tx, id, now).await?;
            touched.accounts.push(id);
        }
        Mutation::InsertNotice(n) => {
            sqlx::query(
                "INSERT INTO notices (at, kind, staff, request_id, detail) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(ms(n.at))
            .bind(n.kind.as_str())
            .bind(n.staff.as_deref())
            .bind(n.request.map(|r| r.0))
            .bind(n.detail.as_str())
            .execute(&mut **tx)
            .await?;
            touched.notices = true;
        }
        Mutation::AckNotice { id, by } => {
            let done = sqlx::query(
                "UPDATE notices SET acknowledged_by = $2, acknowledged_at = $3 \
                 WHERE id = $1 AND acknowledged_at IS NULL",
            )
            .bind(id)
            .bind(by.as_str())
            .bind(now)
            .execute(&mut **tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!(
                    "notice {id} does not exist or was acknowledged already"
                )));
            }
            touched.notices = true;
        }
        Mutation::SetMeta { key, value } => {
            sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2")
                .bind(key.as_str())
                .bind(value.as_str())
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Appends audit records after the head, which `lock_audit_head` has locked.
async fn append_audit(tx: &mut Tx, drafts: Vec<AuditDraft>, out: &mut CommitOutcome) -> Result<()> {
    let (mut seq, mut prev) = lock_audit_head(tx).await?;
    for d in drafts {
        seq += 1;
        let hash = chain_hash(&prev, seq, &d);
        sqlx::query(
            "INSERT INTO audit (seq, at, actor, source, action, account_id, request_id, target, fields, purpose, \
             outcome, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(seq)
        .bind(ms(d.at))
        .bind(d.actor.as_str())
        .bind(d.source.as_str())
        .bind(d.action.as_str())
        .bind(d.account.map(|a| a.0))
        .bind(d.request.map(|r| r.0))
        .bind(d.target.as_deref())
        .bind(d.fields.as_str())
        .bind(d.purpose.as_deref())
        .bind(d.outcome.as_str())
        .bind(d.detail.as_str())
        .bind(prev.as_slice())
        .bind(hash.as_slice())
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::AuditFailed(crate::store::map_db_error(e).to_string()))?;
        out.audit_seqs.push(seq);
        prev = hash;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(prev.as_slice())
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::AuditFailed(crate::store::map_db_error(e).to_string()))?;
    Ok(())
}

impl DbStore {
    async fn commit_inner(&self, c: Commit) -> Result<CommitOutcome> {
        let now = ms(jiff::Timestamp::now());
        let mut tx = self.begin_write().await?;
        let mut out = CommitOutcome::default();
        let mut touched = Touched::default();
        for m in c.mutations {
            apply_mutation(&mut tx, m, now, &mut out, &mut touched).await?;
        }
        if !c.audit.is_empty() {
            touched.audit = true;
            append_audit(&mut tx, c.audit, &mut out).await?;
        }
        let counter: i64 =
            sqlx::query_scalar("UPDATE changes SET counter = counter + 1 WHERE id = 1 RETURNING counter")
                .fetch_one(&mut *tx)
                .await?;
        notify_in_tx(&mut tx, counter).await?;
        tx.commit().await?;
        self.seen_counter.store(counter, std::sync::atomic::Ordering::SeqCst);
        for n in touched.notices() {
            // No receiver is fine: nobody has a screen open.
            let _ = self.notices.send(n);
        }
        Ok(out)
    }

    async fn verify_audit_from(&self, mut v: ChainVerifier, mut after: i64) -> Result<ChainReport> {
        // The head is read first and the chain checked up to it: a record appended while
        // the check runs (the desk at work) lies beyond it, and must not look like records
        // removed from the end. A head's records commit with it, so all of them are there.
        let head = crate::store::Store::audit_head(self).await?;
        'pages: loop {
            let rows = sqlx::query("SELECT * FROM audit WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000")
                .bind(after)
                .bind(head.seq)
                .fetch_all(self.reader())
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let r = audit_from_row(row)?;
                after = r.seq;
                if !v.feed(&r) {
                    break 'pages;
                }
            }
        }
        Ok(v.finish(&head))
    }

    async fn fetch_requests(&self, sql: String, binds: Vec<i64>) -> Result<Vec<RequestRow>> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        q.fetch_all(self.reader()).await?.iter().map(request_from_row).collect()
    }
}

#[async_trait::async_trait]
impl crate::store::Store for DbStore {
    fn backend(&self) -> crate::store::Backend {
        BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        self.run_migrations().await
    }

    async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(self.reader())
            .await?)
    }

    async fn reserve_ids(&self, table: IdTable, n: u32) -> Result<i64> {
        let n = i64::from(n.max(1));
        let next: i64 = sqlx::query_scalar(
            "UPDATE id_counters SET next_id = next_id + $1 WHERE name = $2 RETURNING next_id - $1",
        )
        .bind(n)
        .bind(table.name())
        .fetch_one(self.writer())
        .await?;
        Ok(next)
    }

    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffRow>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff s WHERE s.login = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(login)
            .fetch_optional(self.reader())
            .await?
            .as_ref()
            .map(staff_from_row)
            .transpose()
    }

    async fn staff_by_id(&self, id: StaffId) -> Result<Option<StaffRow>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff s WHERE s.id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(self.reader())
            .await?
            .as_ref()
            .map(staff_from_row)
            .transpose()
    }

    async fn list_staff(&self) -> Result<Vec<StaffRow>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff s ORDER BY s.login");
        sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.reader()).await?.iter().map(staff_from_row).collect()
    }

    async fn staff_keys(&self, id: StaffId) -> Result<Vec<StaffKeyRow>> {
        sqlx::query("SELECT * FROM staff_keys WHERE staff_id = $1 ORDER BY id")
            .bind(id.0)
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(key_from_row)
            .collect()
    }

    async fn staff_keys_by_fingerprint(&self, fingerprint: &str) -> Result<Vec<StaffKeyRow>> {
        sqlx::query("SELECT * FROM staff_keys WHERE fingerprint = $1 ORDER BY id")
            .bind(fingerprint)
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(key_from_row)
            .collect()
    }

    async fn account(&self, id: AccountId) -> Result<Option<AccountRow>> {
        sqlx::query(concat!("SELECT * FROM accounts WHERE id = $1 AND ", visible!("")))
            .bind(id.0)
            .fetch_optional(self.reader())
            .await?
            .as_ref()
            .map(account_from_row)
            .transpose()
    }

    async fn accounts_by_ids(&self, ids: &[AccountId]) -> Result<Vec<AccountRow>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut q = sqlx::QueryBuilder::<Db>::new("SELECT * FROM accounts WHERE id IN (");
        let mut sep = q.separated(", ");
        for id in ids {
            sep.push_bind(id.0);
        }
        q.push(concat!(") AND ", visible!(""), " ORDER BY id"));
        q.build().fetch_all(self.reader()).await?.iter().map(account_from_row).collect()
    }

    async fn contacts(&self, account: AccountId) -> Result<Vec<ContactRow>> {
        sqlx::query(
            concat!("SELECT c.* FROM contacts c JOIN accounts a ON a.id = c.account_id \
             WHERE c.account_id = $1 AND c.active = TRUE AND c.gen = a.gen AND ", visible!("a."), " \
             ORDER BY c.id"),
        )
            .bind(account.0)
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(contact_from_row)
            .collect()
    }

    async fn contact(&self, id: i64) -> Result<Option<ContactRow>> {
        // A contact of an account's current generation as it is; a former one (replaced by
        // an import whose sweep has not reached it yet) as the sweep leaves it: inactive,
        // without values; one an unfinished import staged, or of an account it adds: none.
        sqlx::query(
            concat!("SELECT c.id, c.account_id, \
             CASE WHEN c.gen = a.gen THEN c.name_ct END AS name_ct, \
             CASE WHEN c.gen = a.gen THEN c.email_ct END AS email_ct, \
             CASE WHEN c.gen = a.gen THEN c.phone_ct END AS phone_ct, \
             CASE WHEN c.gen = a.gen THEN c.passphrase_ct END AS passphrase_ct, \
             c.has_email, c.has_phone, \
             CASE WHEN c.active AND c.gen = a.gen THEN TRUE ELSE FALSE END AS active \
             FROM contacts c JOIN accounts a ON a.id = c.account_id \
             WHERE c.id = $1 AND c.gen <= a.gen AND ", visible!("a."), ""),
        )
            .bind(id)
            .fetch_optional(self.reader())
            .await?
            .as_ref()
            .map(contact_from_row)
            .transpose()
    }

    async fn login_history(&self, account: AccountId, limit: u32) -> Result<Vec<LoginRow>> {
        let rows = sqlx::query(
            "SELECT id, account_id, at, source_ct, result FROM login_history WHERE account_id = $1 \
             ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(account.0)
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let result: String = r.try_get("result")?;
                Ok(LoginRow {
                    id: r.try_get("id")?,
                    account: AccountId(r.try_get("account_id")?),
                    at: ts(r.try_get("at")?)?,
                    source: r.try_get("source_ct")?,
                    result: LoginResult::parse(&result).ok_or_else(|| corrupt("login result", &result))?,
                })
            })
            .collect()
    }

    async fn client_sessions(&self, account: AccountId) -> Result<Vec<SessionRow>> {
        let rows = sqlx::query(
            "SELECT id, account_id, started_at, source_ct FROM client_sessions WHERE account_id = $1 ORDER BY id",
        )
        .bind(account.0)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionRow {
                    id: r.try_get("id")?,
                    account: AccountId(r.try_get("account_id")?),
                    started_at: ts(r.try_get("started_at")?)?,
                    source: r.try_get("source_ct")?,
                })
            })
            .collect()
    }

    async fn admin_login_count(&self, account: AccountId) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            concat!("SELECT count(*) FROM admin_logins l JOIN accounts a ON a.id = l.account_id \
             WHERE l.account_id = $1 AND l.gen = a.gen AND ", visible!("a."), ""),
        )
            .bind(account.0)
            .fetch_one(self.reader())
            .await?;
        Ok(to_u32(n))
    }

    async fn accounts_by_index(&self, kind: IndexKindTag, hash: &[u8]) -> Result<Vec<AccountId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            concat!("SELECT i.account_id FROM account_index i JOIN accounts a ON a.id = i.account_id \
             WHERE i.kind = $1 AND i.hash = $2 AND i.gen = a.gen AND ", visible!("a."), " \
             ORDER BY i.account_id LIMIT 100"),
        )
        .bind(kind.as_str())
        .bind(hash)
        .fetch_all(self.reader())
        .await?;
        Ok(ids.into_iter().map(AccountId).collect())
    }

    async fn accounts_by_tokens(&self, tokens: &[String], limit: u32) -> Result<Vec<AccountId>> {
        if tokens.is_empty() {
            return Ok(vec![]);
        }
        // The words are matched per account and generation first, then each match checked
        // for visibility by primary key in account order, so the LIMIT stops early (joining
        // first made PostgreSQL hash the whole accounts table for a common word).
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT c.account_id FROM (SELECT t.account_id, t.gen FROM account_tokens t WHERE t.token IN (",
        );
        let mut sep = q.separated(", ");
        for t in tokens {
            sep.push_bind(t.clone());
        }
        q.push(") GROUP BY t.account_id, t.gen HAVING count(*) = ")
            .push_bind(i64::try_from(tokens.len()).unwrap_or(i64::MAX))
            .push(concat!(
                ") c JOIN accounts a ON a.id = c.account_id AND a.gen = c.gen AND ",
                visible!("a."),
                " ORDER BY c.account_id LIMIT "
            ))
            .push_bind(i64::from(limit));
        let ids: Vec<i64> = q.build_query_scalar().fetch_all(self.reader()).await?;
        Ok(ids.into_iter().map(AccountId).collect())
    }

    async fn account_count(&self) -> Result<AccountCounts> {
        let r = sqlx::query(
            concat!("SELECT count(*) AS total, \
             CAST(COALESCE(sum(CASE WHEN locked THEN 1 ELSE 0 END), 0) AS BIGINT) AS locked, \
             CAST(COALESCE(sum(CASE WHEN blocked THEN 1 ELSE 0 END), 0) AS BIGINT) AS blocked, \
             CAST(COALESCE(sum(CASE WHEN erased THEN 1 ELSE 0 END), 0) AS BIGINT) AS erased FROM accounts \
             WHERE ", visible!(""), ""),
        )
        .fetch_one(self.reader())
        .await?;
        Ok(AccountCounts {
            total: to_u64(r.try_get("total")?),
            locked: to_u64(r.try_get("locked")?),
            blocked: to_u64(r.try_get("blocked")?),
            erased: to_u64(r.try_get("erased")?),
        })
    }

    async fn request(&self, id: RequestId) -> Result<Option<RequestRow>> {
        let sql = format!("SELECT {REQUEST_COLUMNS}{REQUEST_FROM}WHERE r.id = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.0)
            .fetch_optional(self.reader())
            .await?
            .as_ref()
            .map(request_from_row)
            .transpose()
    }

    async fn list_requests(&self, lq: &ListQuery) -> Result<Vec<QueueRow>> {
        let mut q = sqlx::QueryBuilder::<Db>::new(format!("SELECT {QUEUE_COLUMNS}{QUEUE_FROM}WHERE r.queue = "));
        q.push_bind(i64::from(lq.queue.code()));
        match lq.state {
            Some(s) => {
                q.push(" AND r.state = ").push_bind(s.as_str());
                if !s.is_terminal() {
                    q.push(" AND r.is_open = TRUE");
                }
            }
            None => {
                q.push(" AND r.is_open = TRUE");
            }
        }
        if let Some(a) = lq.assignee {
            q.push(" AND r.assignee_id = ").push_bind(a.0);
        }
        if lq.unassigned {
            q.push(" AND r.assignee_id IS NULL");
        }
        if let Some(before) = lq.due_before {
            q.push(" AND r.due_at < ").push_bind(ms(before));
        }
        if let Some(f) = lq.filed_by {
            q.push(" AND r.filed_by = ").push_bind(f.0);
        }
        let desc = lq.direction == Direction::Backward;
        if let Some(Cursor { due_at, id }) = lq.cursor {
            q.push(if desc { " AND (r.due_at, r.id) < (" } else { " AND (r.due_at, r.id) > (" });
            q.push_bind(ms(due_at)).push(", ").push_bind(id.0).push(")");
        }
        q.push(if desc { " ORDER BY r.due_at DESC, r.id DESC" } else { " ORDER BY r.due_at, r.id" });
        q.push(" LIMIT ").push_bind(i64::from(lq.limit));
        q.build().fetch_all(self.reader()).await?.iter().map(queue_row_from_row).collect()
    }

    async fn queue_counts(&self, now: jiff::Timestamp) -> Result<Vec<QueueCount>> {
        let now_ms = ms(now);
        let hour = now_ms.div_euclid(HOUR_MS);
        let rows = sqlx::query(
            "SELECT queue, CAST(COALESCE(sum(open_count), 0) AS BIGINT) AS open, \
             CAST(COALESCE(sum(CASE WHEN due_hour < $1 THEN open_count ELSE 0 END), 0) AS BIGINT) AS overdue \
             FROM queue_buckets GROUP BY queue",
        )
        .bind(hour)
        .fetch_all(self.reader())
        .await?;
        let mut out: Vec<QueueCount> =
            Queue::ALL.iter().map(|&queue| QueueCount { queue, open: 0, overdue: 0 }).collect();
        for r in &rows {
            let code: i64 = r.try_get("queue")?;
            if let Some(c) = out.iter_mut().find(|c| i64::from(c.queue.code()) == code) {
                c.open = to_u64(r.try_get("open")?);
                c.overdue = to_u64(r.try_get("overdue")?);
            }
        }
        // Within the current hour, count exactly which requests are already past due.
        for c in &mut out {
            let n: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM requests WHERE queue = $1 AND is_open = TRUE AND due_at >= $2 AND due_at < $3",
            )
            .bind(i64::from(c.queue.code()))
            .bind(hour * HOUR_MS)
            .bind(now_ms)
            .fetch_one(self.reader())
            .await?;
            c.overdue += to_u64(n);
        }
        Ok(out)
    }

    async fn search_subjects(&self, tokens: &[String], queues: &[Queue], limit: u32) -> Result<Vec<QueueRow>> {
        if tokens.is_empty() || queues.is_empty() {
            return Ok(vec![]);
        }
        self.search_subject_tokens(tokens, queues, limit).await
    }

    async fn requests_of_account(&self, account: AccountId) -> Result<Vec<RequestRow>> {
        let sql = format!("SELECT {REQUEST_COLUMNS}{REQUEST_FROM}WHERE r.account_id = $1 ORDER BY r.id");
        self.fetch_requests(sql, vec![account.0]).await
    }

    async fn entries(&self, request: RequestId) -> Result<Vec<EntryRow>> {
        let rows = sqlx::query("SELECT * FROM request_entries WHERE request_id = $1 ORDER BY at, id")
            .bind(request.0)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(EntryRow {
                    id: r.try_get("id")?,
                    request: RequestId(r.try_get("request_id")?),
                    account: AccountId(r.try_get("account_id")?),
                    at: ts(r.try_get("at")?)?,
                    kind: EntryKind::parse(&kind).ok_or_else(|| corrupt("entry kind", &kind))?,
                    author: r.try_get("author")?,
                    body: r.try_get("body_ct")?,
                })
            })
            .collect()
    }

    async fn verification_items(&self, request: RequestId) -> Result<Vec<VerificationRow>> {
        let rows = sqlx::query("SELECT * FROM verification_data WHERE request_id = $1 ORDER BY id")
            .bind(request.0)
            .fetch_all(self.reader())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(VerificationRow {
                    id: r.try_get("id")?,
                    request: RequestId(r.try_get("request_id")?),
                    account: AccountId(r.try_get("account_id")?),
                    label: r.try_get("label")?,
                    value: r.try_get("value_ct")?,
                    value_index: r.try_get("value_index")?,
                    created_at: ts(r.try_get("created_at")?)?,
                })
            })
            .collect()
    }

    async fn commit(&self, c: Commit) -> Result<CommitOutcome> {
        self.commit_inner(c).await
    }

    async fn audit_head(&self) -> Result<AuditHead> {
        let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(self.reader()).await?;
        Ok(AuditHead { seq: r.try_get("seq")?, hash: r.try_get("hash")? })
    }

    async fn audit_records(&self, f: &AuditFilter, limit: u32) -> Result<Vec<AuditRecord>> {
        let mut q = sqlx::QueryBuilder::<Db>::new("SELECT * FROM audit WHERE 1 = 1");
        push_audit_filter(&mut q, f, ActionMatch::WithSubactions);
        if let Some(b) = f.before_seq {
            q.push(" AND seq < ").push_bind(b);
        }
        if let Some(a) = f.after_seq {
            q.push(" AND seq > ").push_bind(a);
            q.push(" ORDER BY seq");
        } else {
            q.push(" ORDER BY seq DESC");
        }
        q.push(" LIMIT ").push_bind(i64::from(limit));
        q.build().fetch_all(self.reader()).await?.iter().map(audit_from_row).collect()
    }

    async fn verify_audit(&self) -> Result<ChainReport> {
        self.verify_audit_from(ChainVerifier::default(), 0).await
    }

    async fn verify_audit_after(&self, intact: &ChainReport) -> Result<ChainReport> {
        self.verify_audit_from(ChainVerifier::resume(intact), intact.head.seq).await
    }

    async fn audit_count(&self, f: &AuditFilter) -> Result<u64> {
        let mut q = sqlx::QueryBuilder::<Db>::new("SELECT count(*) FROM audit WHERE 1 = 1");
        push_audit_filter(&mut q, f, ActionMatch::Exact);
        let n: i64 = q.build_query_scalar().fetch_one(self.reader()).await?;
        Ok(to_u64(n))
    }

    async fn notices(&self, open_only: bool, limit: u32) -> Result<Vec<NoticeRow>> {
        let sql = if open_only {
            "SELECT * FROM notices WHERE acknowledged_at IS NULL ORDER BY id DESC LIMIT $1"
        } else {
            "SELECT * FROM notices ORDER BY id DESC LIMIT $1"
        };
        let rows = sqlx::query(sql).bind(i64::from(limit)).fetch_all(self.reader()).await?;
        rows.iter()
            .map(|r| {
                Ok(NoticeRow {
                    id: r.try_get("id")?,
                    at: ts(r.try_get("at")?)?,
                    kind: r.try_get("kind")?,
                    staff: r.try_get("staff")?,
                    request: r.try_get::<Option<i64>, _>("request_id")?.map(RequestId),
                    detail: r.try_get("detail")?,
                    acknowledged_by: r.try_get("acknowledged_by")?,
                    acknowledged_at: opt_ts(r.try_get("acknowledged_at")?)?,
                })
            })
            .collect()
    }

    async fn doomed_keys(&self) -> Result<Vec<AccountId>> {
        let ids: Vec<i64> = sqlx::query_scalar("SELECT account_id FROM doomed_keys ORDER BY account_id")
            .fetch_all(self.reader())
            .await?;
        Ok(ids.into_iter().map(AccountId).collect())
    }

    async fn forget_doomed(&self, account: AccountId) -> Result<()> {
        sqlx::query("DELETE FROM doomed_keys WHERE account_id = $1").bind(account.0).execute(self.writer()).await?;
        Ok(())
    }

    async fn change_counter(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT counter FROM changes WHERE id = 1").fetch_one(self.reader()).await?)
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<ChangeNotice> {
        self.notices.subscribe()
    }

    fn watch_changes(&self) {
        self.start_watching();
    }

    async fn commit_bulk(&self, c: Commit) -> Result<CommitOutcome> {
        self.commit_bulk_inner(c).await
    }

    async fn begin_import(&self, now: jiff::Timestamp) -> Result<crate::store::ImportClaim> {
        self.begin_import_inner(ms(now)).await
    }

    async fn abandoned_imports(&self) -> Result<Vec<(crate::store::ImportClaim, crate::store::ImportStage)>> {
        self.abandoned_imports_inner().await
    }

    async fn reserve_import_accounts(&self, import: i64, n: u32) -> Result<i64> {
        self.reserve_import_accounts_inner(import, n).await
    }

    async fn write_import_batch(
        &self,
        import: i64,
        new: &[NewAccount],
        replacing: &[NewAccount],
    ) -> Result<std::time::Duration> {
        self.write_import_batch_inner(import, new, replacing).await
    }

    async fn finish_import(
        &self,
        import: i64,
        counts: crate::store::ImportCounts,
        audit: Vec<AuditDraft>,
    ) -> Result<std::time::Duration> {
        self.finish_import_inner(import, counts, audit).await
    }

    async fn sweep_import(&self, import: i64, limit: u32) -> Result<(bool, std::time::Duration)> {
        self.sweep_import_inner(import, limit).await
    }

    async fn discard_import(&self, import: i64, limit: u32) -> Result<(u64, std::time::Duration)> {
        self.discard_import_inner(import, limit).await
    }

    async fn import_ranges(&self, import: i64) -> Result<Vec<(i64, i64)>> {
        self.import_ranges_inner(import).await
    }

    async fn forget_import(&self, import: i64) -> Result<()> {
        self.forget_import_inner(import).await
    }

    async fn close(&self) {
        self.close_pools().await;
    }
}
