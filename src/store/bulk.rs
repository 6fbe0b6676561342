// Bulk writes: many rows per statement, for the demo generator and the batches of imports.
//
// Not a module: `sqlite.rs` and `postgres.rs` include it after `shared.rs` and it uses that
// file's helpers. A bulk commit keeps `commit`'s semantics (one transaction, the audit records
// appended to the chain, the change counter bumped) but writes runs of consecutive account,
// request and entry inserts with multi-row statements, and its outcome carries no request
// rows. The SQL is the same on both engines except the subject word index, chosen by
// `BACKEND` at run time (both branches bind only text, so both compile for either engine).

/// Bind parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const MAX_BINDS: usize = 30_000;

/// Ids remembered for a change notice; a bigger commit asks every screen to refresh.
const NOTICE_IDS: usize = 1_000;

type Sep<'q> = sqlx::query_builder::Separated<'q, Db, &'static str>;

/// Inserts `rows` with `head` (`INSERT INTO t (cols) `), `VALUES` tuples pushed by `push`,
/// and `tail` (e.g. `ON CONFLICT DO NOTHING`), in statements of at most `MAX_BINDS` binds.
async fn insert_chunked<T>(
    tx: &mut Tx,
    head: &str,
    tail: &str,
    binds_per_row: usize,
    rows: &[T],
    push: impl Fn(Sep<'_>, &T),
) -> Result<()> {
    let per = (MAX_BINDS / binds_per_row.max(1)).max(1);
    for chunk in rows.chunks(per) {
        let mut q = sqlx::QueryBuilder::<Db>::new(head);
        q.push_values(chunk, &push);
        q.push(tail);
        // A full chunk has the same text every time: worth a cached statement.
        q.build()
            .persistent(chunk.len() == per)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Inserts accounts with their rows; `pending`: the import whose final step makes them
/// visible (until then every account query passes them by).
async fn bulk_insert_accounts(
    tx: &mut Tx,
    accounts: &[NewAccount],
    now: i64,
    pending: Option<i64>,
) -> Result<()> {
    insert_chunked(
        tx,
        "INSERT INTO accounts (id, kind, name_ct, email_ct, phone_ct, postal_ct, tax_ct, locked, blocked, \
         erased, admin_login_count, created_at, updated_at, import_pending, version) ",
        "",
        14,
        accounts,
        |mut b, a| {
            b.push_bind(a.id.0)
                .push_bind(a.kind.as_str())
                .push_bind(a.name.as_deref())
                .push_bind(a.email.as_deref())
                .push_bind(a.phone.as_deref())
                .push_bind(a.postal_address.as_deref())
                .push_bind(a.tax_id.as_deref())
                .push_bind(a.flags.locked)
                .push_bind(a.flags.blocked)
                .push_bind(a.flags.erased)
                .push_bind(len_i64(a.admin_logins.len()))
                .push_bind(now)
                .push_bind(now)
                .push_bind(pending)
                .push("1");
        },
    )
    .await?;
    // A new account's rows are its first generation.
    bulk_insert_account_children(tx, accounts, 0).await
}

/// Stages the replacements of an import: the new sealed values of each account row wait in
/// `import_replacements`, and its new indexes, tokens, admin logins and contacts go in the
/// import's own generation, beside the current ones, until the final step switches over.
async fn bulk_stage_replacements(tx: &mut Tx, import: i64, accounts: &[NewAccount]) -> Result<()> {
    // Login history and sessions have no generation: staged, they would show before the
    // import's final step and survive its discarding. An import never carries them.
    if accounts.iter().any(|a| !a.login_history.is_empty() || !a.sessions.is_empty()) {
        return Err(StoreError::Conflict(
            "an import's replacement of an account cannot carry login history or sessions".to_owned(),
        ));
    }
    insert_chunked(
        tx,
        "INSERT INTO import_replacements (import_id, account_id, kind, name_ct, email_ct, phone_ct, postal_ct, \
         tax_ct, admin_login_count) ",
        "",
        9,
        accounts,
        |mut b, a| {
            b.push_bind(import)
                .push_bind(a.id.0)
                .push_bind(a.kind.as_str())
                .push_bind(a.name.as_deref())
                .push_bind(a.email.as_deref())
                .push_bind(a.phone.as_deref())
                .push_bind(a.postal_address.as_deref())
                .push_bind(a.tax_id.as_deref())
                .push_bind(len_i64(a.admin_logins.len()));
        },
    )
    .await?;
    bulk_insert_account_children(tx, accounts, import).await
}

/// Inserts the indexes, tokens, admin logins, contacts, history and sessions of accounts in
/// generation `gen`.
async fn bulk_insert_account_children(tx: &mut Tx, accounts: &[NewAccount], generation: i64) -> Result<()> {
    let index: Vec<(&str, &[u8], i64)> = accounts
        .iter()
        .flat_map(|a| {
            a.indexes
                .iter()
                .map(|(k, h)| (k.as_str(), h.as_slice(), a.id.0))
        })
        .collect();
    insert_chunked(
        tx,
        "INSERT INTO account_index (kind, hash, account_id, gen) ",
        " ON CONFLICT DO NOTHING",
        4,
        &index,
        |mut b, (kind, hash, id)| {
            b.push_bind(*kind)
                .push_bind(*hash)
                .push_bind(*id)
                .push_bind(generation);
        },
    )
    .await?;
    let tokens: Vec<(&str, i64)> = accounts
        .iter()
        .flat_map(|a| a.tokens.iter().map(|t| (t.as_str(), a.id.0)))
        .collect();
    insert_chunked(
        tx,
        "INSERT INTO account_tokens (token, account_id, gen) ",
        " ON CONFLICT DO NOTHING",
        3,
        &tokens,
        |mut b, (token, id)| {
            b.push_bind(*token).push_bind(*id).push_bind(generation);
        },
    )
    .await?;
    let logins: Vec<(i64, i64, &[u8])> = accounts
        .iter()
        .flat_map(|a| {
            a.admin_logins
                .iter()
                .map(|(id, ct)| (*id, a.id.0, ct.as_slice()))
        })
        .collect();
    insert_chunked(
        tx,
        "INSERT INTO admin_logins (id, account_id, login_ct, gen) ",
        "",
        4,
        &logins,
        |mut b, r| {
            b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(generation);
        },
    )
    .await?;
    let contacts: Vec<(i64, &crate::store::NewContact)> = accounts
        .iter()
        .flat_map(|a| a.contacts.iter().map(|c| (a.id.0, c)))
        .collect();
    insert_chunked(
        tx,
        "INSERT INTO contacts (id, account_id, name_ct, email_ct, phone_ct, passphrase_ct, has_email, \
         has_phone, gen, active) ",
        "",
        9,
        &contacts,
        |mut b, (account, c)| {
            b.push_bind(c.id.0)
                .push_bind(*account)
                .push_bind(c.name.as_deref())
                .push_bind(c.email.as_deref())
                .push_bind(c.phone.as_deref())
                .push_bind(c.passphrase.as_deref())
                .push_bind(c.has_email)
                .push_bind(c.has_phone)
                .push_bind(generation)
                .push("TRUE");
        },
    )
    .await?;
    let history: Vec<&LoginRow> = accounts
        .iter()
        .flat_map(|a| a.login_history.iter())
        .collect();
    insert_chunked(
        tx,
        "INSERT INTO login_history (id, account_id, at, source_ct, result) ",
        "",
        5,
        &history,
        |mut b, h| {
            b.push_bind(h.id)
                .push_bind(h.account.0)
                .push_bind(ms(h.at))
                .push_bind(h.source.as_slice())
                .push_bind(h.result.as_str());
        },
    )
    .await?;
    let sessions: Vec<&SessionRow> = accounts.iter().flat_map(|a| a.sessions.iter()).collect();
    insert_chunked(
        tx,
        "INSERT INTO client_sessions (id, account_id, started_at, source_ct) ",
        "",
        4,
        &sessions,
        |mut b, s| {
            b.push_bind(s.id)
                .push_bind(s.account.0)
                .push_bind(ms(s.started_at))
                .push_bind(s.source.as_slice());
        },
    )
    .await
}

async fn bulk_insert_requests(tx: &mut Tx, requests: &[NewRequest], now: i64) -> Result<()> {
    let pg = BACKEND == crate::store::Backend::Postgres;
    let head = format!(
        "INSERT INTO requests (id, kind, queue, account_id, requester_kind, requester_contact_id, requester_ct, \
         channel, state, is_open, assignee_id, received_at, due_at, version, subject_ct, filed_by, prepared_by, \
         severity, leak, identity_verified, extended, updated_at, updated_by{}) ",
        if pg { ", subject_tokens" } else { "" }
    );
    insert_chunked(tx, &head, "", 22, requests, |mut b, r| {
        b.push_bind(r.id.0)
            .push_bind(r.kind.as_str())
            .push_bind(i64::from(r.kind.queue().code()))
            .push_bind(r.account.0)
            .push_bind(r.requester.as_str())
            .push_bind(r.requester_contact.map(|c| c.0))
            .push_bind(r.requester_text.as_deref())
            .push_bind(r.channel.as_str())
            .push_bind(r.state.as_str())
            .push_bind(!r.state.is_terminal())
            .push_bind(r.assignee.map(|s| s.0))
            .push_bind(ms(r.received_at))
            .push_bind(ms(r.due_at))
            .push("1")
            .push_bind(r.subject.as_deref())
            .push_bind(r.filed_by.map(|s| s.0))
            .push_bind(r.prepared_by.map(|s| s.0))
            .push_bind(r.severity.map(i64::from))
            .push_bind(r.personal_data_leak)
            .push_bind(r.identity_verified)
            .push("FALSE")
            .push_bind(now)
            .push_bind(r.by.as_str());
        if pg {
            b.push("string_to_array(")
                .push_bind_unseparated(r.subject_tokens.join(" "))
                .push_unseparated(", ' ')");
        }
    })
    .await?;
    if !pg {
        let indexed: Vec<&NewRequest> = requests
            .iter()
            .filter(|r| !r.subject_tokens.is_empty())
            .collect();
        insert_chunked(
            tx,
            "INSERT INTO subject_index (rowid, tokens) ",
            "",
            2,
            &indexed,
            |mut b, r| {
                b.push_bind(r.id.0).push_bind(r.subject_tokens.join(" "));
            },
        )
        .await?;
    }
    let mut buckets: std::collections::BTreeMap<(i64, i64), i64> =
        std::collections::BTreeMap::new();
    for r in requests.iter().filter(|r| !r.state.is_terminal()) {
        *buckets
            .entry((
                i64::from(r.kind.queue().code()),
                ms(r.due_at).div_euclid(HOUR_MS),
            ))
            .or_default() += 1;
    }
    let buckets: Vec<(i64, i64, i64)> = buckets.into_iter().map(|((q, h), n)| (q, h, n)).collect();
    insert_chunked(
        tx,
        "INSERT INTO queue_buckets (queue, due_hour, open_count) ",
        " ON CONFLICT (queue, due_hour) DO UPDATE SET open_count = queue_buckets.open_count + excluded.open_count",
        3,
        &buckets,
        |mut b, (q, h, n)| {
            b.push_bind(*q).push_bind(*h).push_bind(*n);
        },
    )
    .await
}

async fn bulk_insert_entries(tx: &mut Tx, entries: &[crate::store::NewEntry]) -> Result<()> {
    insert_chunked(
        tx,
        "INSERT INTO request_entries (id, request_id, account_id, at, kind, author, body_ct) ",
        "",
        7,
        entries,
        |mut b, e| {
            b.push_bind(e.id)
                .push_bind(e.request.0)
                .push_bind(e.account.0)
                .push_bind(ms(e.at))
                .push_bind(e.kind.as_str())
                .push_bind(e.author.as_str())
                .push_bind(e.body.as_slice());
        },
    )
    .await
}

/// A run of consecutive inserts of one kind, written together.
enum BulkRun {
    None,
    Accounts(Vec<NewAccount>),
    Requests(Vec<NewRequest>),
    Entries(Vec<crate::store::NewEntry>),
}

/// What a bulk commit changed, for its change notice.
#[derive(Default)]
struct BulkTouched {
    inner: Touched,
    many: bool,
}

impl BulkTouched {
    fn note_accounts(&mut self, ids: impl Iterator<Item = AccountId>) {
        for id in ids {
            if self.inner.accounts.len() >= NOTICE_IDS {
                self.many = true;
                return;
            }
            self.inner.accounts.push(id);
        }
    }

    fn note_requests(&mut self, ids: impl Iterator<Item = RequestId>) {
        for id in ids {
            if self.inner.requests.len() >= NOTICE_IDS {
                self.many = true;
                return;
            }
            self.inner.requests.push(id);
        }
    }

    fn notices(self) -> Vec<ChangeNotice> {
        if self.many {
            vec![ChangeNotice::Everything]
        } else {
            self.inner.notices()
        }
    }
}

async fn flush_run(
    tx: &mut Tx,
    run: &mut BulkRun,
    now: i64,
    touched: &mut BulkTouched,
) -> Result<()> {
    match std::mem::replace(run, BulkRun::None) {
        BulkRun::None => {}
        BulkRun::Accounts(a) => {
            bulk_insert_accounts(tx, &a, now, None).await?;
            touched.note_accounts(a.iter().map(|a| a.id));
        }
        BulkRun::Requests(r) => {
            bulk_insert_requests(tx, &r, now).await?;
            touched.note_requests(r.iter().map(|r| r.id));
        }
        BulkRun::Entries(e) => {
            bulk_insert_entries(tx, &e).await?;
            touched.note_requests(e.iter().map(|e| e.request));
        }
    }
    Ok(())
}

/// Applies mutations in order, batching runs of consecutive inserts of the same kind.
async fn apply_bulk(
    tx: &mut Tx,
    mutations: Vec<Mutation>,
    now: i64,
    out: &mut CommitOutcome,
    touched: &mut BulkTouched,
) -> Result<()> {
    let mut run = BulkRun::None;
    for m in mutations {
        match (m, &mut run) {
            (Mutation::InsertAccount(a), BulkRun::Accounts(v)) => v.push(*a),
            (Mutation::InsertRequest(r), BulkRun::Requests(v)) => v.push(*r),
            (Mutation::InsertEntry(e), BulkRun::Entries(v)) => v.push(e),
            (
                m @ (Mutation::InsertAccount(_)
                | Mutation::InsertRequest(_)
                | Mutation::InsertEntry(_)),
                _,
            ) => {
                flush_run(tx, &mut run, now, touched).await?;
                run = match m {
                    Mutation::InsertAccount(a) => BulkRun::Accounts(vec![*a]),
                    Mutation::InsertRequest(r) => BulkRun::Requests(vec![*r]),
                    Mutation::InsertEntry(e) => BulkRun::Entries(vec![e]),
                    _ => BulkRun::None,
                };
            }
            (m, _) => {
                flush_run(tx, &mut run, now, touched).await?;
                apply_mutation(tx, m, now, out, &mut touched.inner).await?;
            }
        }
    }
    flush_run(tx, &mut run, now, touched).await
}

impl DbStore {
    /// Appends the audit records, bumps the change counter, commits, and tells this
    /// process's screens.
    async fn finish_bulk(
        &self,
        mut tx: Tx,
        audit: Vec<AuditDraft>,
        mut out: CommitOutcome,
        mut touched: BulkTouched,
    ) -> Result<CommitOutcome> {
        if !audit.is_empty() {
            touched.inner.audit = true;
            append_audit(&mut tx, audit, &mut out).await?;
        }
        let counter: i64 = sqlx::query_scalar(
            "UPDATE changes SET counter = counter + 1 WHERE id = 1 RETURNING counter",
        )
        .fetch_one(&mut *tx)
        .await?;
        notify_in_tx(&mut tx, counter).await?;
        tx.commit().await?;
        self.seen_counter
            .store(counter, std::sync::atomic::Ordering::SeqCst);
        for n in touched.notices() {
            let _ = self.notices.send(n);
        }
        Ok(out)
    }

    async fn commit_bulk_inner(&self, c: Commit) -> Result<CommitOutcome> {
        let now = ms(jiff::Timestamp::now());
        let mut tx = self.begin_write().await?;
        let mut out = CommitOutcome::default();
        let mut touched = BulkTouched::default();
        apply_bulk(&mut tx, c.mutations, now, &mut out, &mut touched).await?;
        self.finish_bulk(tx, c.audit, out, touched).await
    }
}
