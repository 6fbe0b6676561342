// Imports in short transactions (desk/import): the store's half.
//
// Not a module: `sqlite.rs` and `postgres.rs` include it after `shared.rs` and `bulk.rs`, and
// each defines the two places where the engines differ: `lock_import_row` (PostgreSQL locks
// the row; SQLite's `BEGIN IMMEDIATE` already serialises writers) and how an import is
// claimed (`begin_import_inner`, `abandoned_imports_inner`).
//
// Every write of an import starts by locking its row in `imports` and reading its stage, so
// batches, the final step, a sweep and a discard of one import never interleave inside one
// another: a batch or a final step is accepted only while the import is `writing`, and a
// discard first marks it `discarding`, after which no batch and no final step of it is
// accepted. So a process that takes an import for abandoned (its owner lost its lock but
// still runs) can only make it fail, never make half of it visible.

use crate::store::ImportCounts;

/// The message of a write refused because the import is no longer being written.
fn import_stopped(import: i64, stage: Option<ImportStage>) -> StoreError {
    StoreError::Conflict(match stage {
        Some(ImportStage::Sweeping) => format!("import {import} has already finished"),
        _ => format!(
            "import {import} was taken for abandoned and is being removed (its process lost its hold on it): \
             nothing of it is imported; run it again"
        ),
    })
}

/// Locks an import's row for the rest of the transaction and returns its stage (`None`: it
/// is gone).
async fn import_stage(tx: &mut Tx, import: i64) -> Result<Option<ImportStage>> {
    let state: Option<String> = lock_import_row(tx, import).await?;
    state.map(|s| ImportStage::parse(&s).ok_or_else(|| corrupt("import state", &s))).transpose()
}

async fn require_writing(tx: &mut Tx, import: i64) -> Result<()> {
    match import_stage(tx, import).await? {
        Some(ImportStage::Writing) => Ok(()),
        other => Err(import_stopped(import, other)),
    }
}

/// `DELETE`/`UPDATE` text followed by `account_id IN (ids)`, the condition `tail` after it.
async fn for_accounts(tx: &mut Tx, head: &str, ids: &[i64], tail: &str, generation: i64) -> Result<()> {
    let mut q = sqlx::QueryBuilder::<Db>::new(head);
    q.push(" WHERE account_id IN (");
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
    q.push(")");
    if !tail.is_empty() {
        q.push(tail).push_bind(generation);
    }
    q.build().execute(&mut **tx).await?;
    Ok(())
}

/// The tables holding an account's rows, children first.
const ACCOUNT_ROWS: [&str; 6] =
    ["account_index", "account_tokens", "admin_logins", "contacts", "login_history", "client_sessions"];

/// The rows a replacement has in a generation of its own.
const GENERATION_ROWS: [&str; 4] = ["account_index", "account_tokens", "admin_logins", "contacts"];

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Records a new import; `None` when another one holds the single slot.
async fn insert_import(conn: &mut <Db as sqlx::Database>::Connection, now: i64) -> Result<Option<i64>> {
    match sqlx::query_scalar("INSERT INTO imports (started_at) VALUES ($1) RETURNING id")
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(crate::store::map_db_error)
    {
        Ok(id) => Ok(Some(id)),
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl DbStore {
    /// The message for an import refused because another one runs.
    async fn another_import(&self) -> StoreError {
        let since: Option<i64> = sqlx::query_scalar("SELECT started_at FROM imports ORDER BY id LIMIT 1")
            .fetch_optional(self.reader())
            .await
            .ok()
            .flatten();
        let since = since.and_then(|t| ts(t).ok()).map(|t| format!(" (since {} UTC)", t.strftime("%Y-%m-%d %H:%M"))).unwrap_or_default();
        StoreError::Conflict(format!(
            "another import is running{since}; one import runs at a time: wait for it to end, then run \
             this one again"
        ))
    }

    /// The stage of an import just claimed (`None`: it ended before the claim).
    async fn claimed_stage(&self, import: i64) -> Result<Option<ImportStage>> {
        let state: Option<String> = sqlx::query_scalar("SELECT state FROM imports WHERE id = $1")
            .bind(import)
            .fetch_optional(self.writer())
            .await?;
        state.map(|s| ImportStage::parse(&s).ok_or_else(|| corrupt("import state", &s))).transpose()
    }

    async fn reserve_import_accounts_inner(&self, import: i64, n: u32) -> Result<i64> {
        let n = i64::from(n.max(1));
        let mut tx = self.begin_write().await?;
        require_writing(&mut tx, import).await?;
        let first: i64 = sqlx::query_scalar(
            "UPDATE id_counters SET next_id = next_id + $1 WHERE name = 'accounts' RETURNING next_id - $1",
        )
        .bind(n)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO import_ranges (import_id, first_id, count) VALUES ($1, $2, $3)")
            .bind(import)
            .bind(first)
            .bind(n)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(first)
    }

    async fn write_import_batch_inner(
        &self,
        import: i64,
        new: &[NewAccount],
        replacing: &[NewAccount],
    ) -> Result<std::time::Duration> {
        let now = ms(jiff::Timestamp::now());
        let mut tx = self.begin_write().await?;
        let held = std::time::Instant::now();
        require_writing(&mut tx, import).await?;
        if !new.is_empty() {
            bulk_insert_accounts(&mut tx, new, now, Some(import)).await?;
        }
        if !replacing.is_empty() {
            bulk_stage_replacements(&mut tx, import, replacing).await?;
        }
        tx.commit().await?;
        let held = held.elapsed();
        tracing::debug!(
            import,
            new = new.len(),
            replacing = replacing.len(),
            held_us = micros(held),
            "import batch written"
        );
        Ok(held)
    }

    async fn finish_import_inner(
        &self,
        import: i64,
        counts: ImportCounts,
        audit: Vec<AuditDraft>,
    ) -> Result<std::time::Duration> {
        let now = ms(jiff::Timestamp::now());
        let mut tx = self.begin_write().await?;
        let held = std::time::Instant::now();
        require_writing(&mut tx, import).await?;
        // From this state on, the accounts marked with the import are in the desk (`visible!`):
        // one row changes however many there are. The marks are cleared by the sweep.
        sqlx::query("UPDATE imports SET state = 'sweeping' WHERE id = $1")
            .bind(import)
            .execute(&mut *tx)
            .await?;
        let shown: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE import_pending = $1")
            .bind(import)
            .fetch_one(&mut *tx)
            .await?;
        let shown = to_u64(shown);
        let replaced = sqlx::query(
            "UPDATE accounts SET kind = r.kind, name_ct = r.name_ct, email_ct = r.email_ct, phone_ct = r.phone_ct, \
             postal_ct = r.postal_ct, tax_ct = r.tax_ct, admin_login_count = r.admin_login_count, gen = r.import_id, \
             updated_at = $2, version = version + 1 FROM import_replacements r \
             WHERE r.import_id = $1 AND accounts.id = r.account_id AND accounts.erased = FALSE \
             AND accounts.import_pending IS NULL",
        )
        .bind(import)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if shown != counts.inserted || replaced != counts.replaced {
            // Dropping the transaction rolls the step back: nothing becomes visible.
            return Err(StoreError::Conflict(format!(
                "import {import}: {shown} of its {} new accounts and {replaced} of its {} replacements are still \
                 there (an account it replaces was erased while it ran, or a cleanup removed part of it); \
                 nothing of it was imported: run it again",
                counts.inserted, counts.replaced
            )));
        }
        // The reserved ids now belong to accounts in the desk: their keys are theirs.
        sqlx::query("DELETE FROM import_ranges WHERE import_id = $1")
            .bind(import)
            .execute(&mut *tx)
            .await?;
        let touched = BulkTouched {
            many: shown + replaced > 0,
            ..BulkTouched::default()
        };
        self.finish_bulk(tx, audit, CommitOutcome::default(), touched).await?;
        let held = held.elapsed();
        tracing::debug!(import, shown, replaced, held_us = micros(held), "import made visible");
        Ok(held)
    }

    async fn sweep_import_inner(&self, import: i64, limit: u32) -> Result<(bool, std::time::Duration)> {
        let mut tx = self.begin_write().await?;
        let held = std::time::Instant::now();
        match import_stage(&mut tx, import).await? {
            None => return Ok((true, held.elapsed())),
            Some(ImportStage::Sweeping) => {}
            Some(_) => {
                return Err(StoreError::Conflict(format!(
                    "import {import} has not finished: there is nothing of it to sweep"
                )));
            }
        }
        let limit = i64::from(limit.max(1));
        // The new accounts lose their mark (they are in the desk already, by the import's state).
        let marked: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE import_pending = $1 ORDER BY id LIMIT $2")
                .bind(import)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
        if !marked.is_empty() {
            let mut q = sqlx::QueryBuilder::<Db>::new("UPDATE accounts SET import_pending = NULL WHERE id IN (");
            let mut sep = q.separated(", ");
            for id in &marked {
                sep.push_bind(*id);
            }
            q.push(")");
            q.build().execute(&mut *tx).await?;
        }
        let room = limit - i64::try_from(marked.len()).unwrap_or(limit);
        let ids: Vec<i64> = if room > 0 {
            sqlx::query_scalar(
                "SELECT account_id FROM import_replacements WHERE import_id = $1 ORDER BY account_id LIMIT $2",
            )
            .bind(import)
            .bind(room)
            .fetch_all(&mut *tx)
            .await?
        } else {
            vec![]
        };
        if !ids.is_empty() {
            // The rows of the generations before this import's: lookups pass them by already.
            for table in ["account_index", "account_tokens", "admin_logins"] {
                let head = format!("DELETE FROM {table}");
                for_accounts(&mut tx, &head, &ids, " AND gen <> ", import).await?;
            }
            // Former contacts stay as rows (requests may name them) but lose their values.
            for_accounts(
                &mut tx,
                "UPDATE contacts SET active = FALSE, name_ct = NULL, email_ct = NULL, phone_ct = NULL, \
                 passphrase_ct = NULL",
                &ids,
                " AND active = TRUE AND gen <> ",
                import,
            )
            .await?;
            for_accounts(&mut tx, "DELETE FROM import_replacements", &ids, " AND import_id = ", import).await?;
        }
        // Fewer than asked for of both: nothing is left, and the import is over.
        let done = room > 0 && i64::try_from(ids.len()).unwrap_or(room) < room;
        if done {
            for sql in ["DELETE FROM import_ranges WHERE import_id = $1", "DELETE FROM imports WHERE id = $1"] {
                sqlx::query(sql).bind(import).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        let held = held.elapsed();
        tracing::debug!(
            import,
            marks = marked.len(),
            replaced = ids.len(),
            done,
            held_us = micros(held),
            "import swept"
        );
        Ok((done, held))
    }

    async fn discard_import_inner(&self, import: i64, limit: u32) -> Result<(u64, std::time::Duration)> {
        let limit = i64::from(limit.max(1));
        let mut tx = self.begin_write().await?;
        let held = std::time::Instant::now();
        match import_stage(&mut tx, import).await? {
            None => return Ok((0, held.elapsed())),
            Some(ImportStage::Discarding) => {}
            Some(ImportStage::Writing) => {
                sqlx::query("UPDATE imports SET state = 'discarding' WHERE id = $1")
                    .bind(import)
                    .execute(&mut *tx)
                    .await?;
            }
            Some(ImportStage::Sweeping) => {
                return Err(StoreError::Conflict(format!(
                    "import {import} has finished: its accounts are in the desk and are not removed"
                )));
            }
        }
        let new: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE import_pending = $1 ORDER BY id LIMIT $2",
        )
        .bind(import)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        if !new.is_empty() {
            for table in ACCOUNT_ROWS {
                for_accounts(&mut tx, &format!("DELETE FROM {table}"), &new, "", 0).await?;
            }
            let mut q = sqlx::QueryBuilder::<Db>::new("DELETE FROM accounts WHERE import_pending = ");
            q.push_bind(import).push(" AND id IN (");
            let mut sep = q.separated(", ");
            for id in &new {
                sep.push_bind(*id);
            }
            q.push(")");
            q.build().execute(&mut *tx).await?;
        }
        let room = limit - i64::try_from(new.len()).unwrap_or(limit);
        let mut staged: Vec<i64> = vec![];
        if room > 0 {
            staged = sqlx::query_scalar(
                "SELECT account_id FROM import_replacements WHERE import_id = $1 ORDER BY account_id LIMIT $2",
            )
            .bind(import)
            .bind(room)
            .fetch_all(&mut *tx)
            .await?;
            if !staged.is_empty() {
                for table in GENERATION_ROWS {
                    let head = format!("DELETE FROM {table}");
                    for_accounts(&mut tx, &head, &staged, " AND gen = ", import).await?;
                }
                for_accounts(&mut tx, "DELETE FROM import_replacements", &staged, " AND import_id = ", import)
                    .await?;
            }
        }
        tx.commit().await?;
        let held = held.elapsed();
        tracing::debug!(
            import,
            new = new.len(),
            replaced = staged.len(),
            held_us = micros(held),
            "import discarded in part"
        );
        Ok((len_u64(new.len() + staged.len()), held))
    }

    async fn import_ranges_inner(&self, import: i64) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query("SELECT first_id, count FROM import_ranges WHERE import_id = $1 ORDER BY first_id")
            .bind(import)
            .fetch_all(self.writer())
            .await?;
        rows.iter().map(|r| Ok((r.try_get("first_id")?, r.try_get("count")?))).collect()
    }

    async fn forget_import_inner(&self, import: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        match import_stage(&mut tx, import).await? {
            None => return Ok(()),
            Some(ImportStage::Discarding) => {}
            Some(other) => {
                return Err(StoreError::Conflict(format!(
                    "import {import} is {}, not discarded: it cannot be forgotten",
                    other.as_str()
                )));
            }
        }
        for sql in ["DELETE FROM import_ranges WHERE import_id = $1", "DELETE FROM imports WHERE id = $1"] {
            sqlx::query(sql).bind(import).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn len_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
