//! `privdesk import accounts`: client accounts from a JSON Lines file (schema and example
//! in the README, "Importing client accounts").
//!
//! # Streaming, short transactions, and nothing half-imported
//!
//! A 100,000-account file never sits in memory, its passphrases (argon2id, ~15 ms and
//! 19 MiB each) never hash while the database's write lock is held, no transaction of the
//! import holds that lock for long (the desk's own writes, and its audited looks, go on
//! between them), and a failure leaves nothing half-imported:
//!
//! 1. **Check and hash** (writes nothing to the desk). Each line is parsed, checked field by
//!    field and normalised (`domain::normalize`); duplicates are looked up by blind index
//!    (an account with the same external id or email, in the desk or earlier in the file);
//!    designated-contact passphrases are hashed on blocking threads, a few at a time, while
//!    the next lines are read. Good lines go to a temporary spool file encrypted under a key
//!    held only in memory. A bad line is reported with its number and field; unless
//!    `--skip-bad` is given, the first one stops all hashing, every remaining line is still
//!    checked (so one run reports every bad line) and the import ends there having written
//!    nothing but its audit record.
//! 2. **Seal and write, in batches** (at most `ImportOptions::batch_size`, 1,000 accounts by
//!    default; fewer while a batch takes longer than a quarter of a second, as it does in a
//!    large database or on a loaded machine). For each batch: account ids are reserved and
//!    recorded with the import, the
//!    data keys made in the key store, the accounts sealed, and the batch written in one
//!    short transaction (`Store::write_import_batch`: multi-row inserts, no hashing, parsing
//!    or sealing inside), which the rest of the desk does not see: the new accounts carry
//!    the import's id in `import_pending`, which every account query passes by; the new
//!    rows of an account `--update` replaces go in a generation of their own beside its
//!    current ones, and lookups read only an account's current generation.
//! 3. **The final step**, one short transaction with the import's audit record
//!    (`Store::finish_import`): the import's state becomes `sweeping`, which puts every
//!    account marked with it in the desk at once (one row changes, however many accounts
//!    there are), and the replaced accounts move to their new generation. It checks that
//!    everything the batches wrote is still there (an account erased meanwhile makes it
//!    fail); an audit record that cannot be written undoes it. Then the sweep clears the
//!    marks and removes the rows the replacements superseded (already invisible), a batch
//!    at a time.
//!
//! **On failure** (a database error, a full disk, a lost server) the import marks itself
//! discarding (after which none of its batches or final step is accepted), removes what
//! its batches wrote, a batch at a time, and destroys the data keys of the account ids it
//! reserved. **A crash** leaves the same to the next start of privdesk (`Desk::open`, like
//! the keys of an interrupted erasure): the import's process holds a claim on it while it
//! runs (a lock the operating system or the database server lets go when the process
//! dies), and an import nobody holds is abandoned. One import runs at a time, so two never
//! add the same account.
//!
//! Why not one transaction? It held SQLite's write lock for as long as 2.2 million rows
//! take to insert (10 s for 100,000 accounts, a minute on a loaded machine), and every
//! other writer of the desk gave up after its 10 s busy timeout.
//!
//! Nothing personal reaches the log or an error: problems name the line and the field,
//! never the value.

mod spool;
mod validate;

use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

use futures::StreamExt as _;
use futures::stream::FuturesOrdered;
use tokio::io::{AsyncBufRead, AsyncBufReadExt as _};

use crate::crypto::IndexKind;
use crate::desk::accounts::{AccountInput, ContactInput};
use crate::desk::demo::Progress;
use crate::domain::account::{AccountFlags, AccountId};
use crate::domain::personal::{Personal, Secret};
use crate::domain::staff::Actor;
use crate::store::audit::Outcome;
use crate::store::{ImportClaim, ImportCounts, ImportStage, IndexKindTag};

use super::{Desk, DeskError, Result};

pub use validate::{ACCOUNT_FIELDS, CONTACT_FIELDS, Problem};

/// What undoing a failed import came to.
enum Undone {
    /// Everything it wrote is gone.
    Removed,
    /// Not now: the next start removes it.
    Later,
    /// Its final step had committed after all: it is kept.
    Finished,
}

/// A line longer than this is refused without being parsed.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Accounts sealed and written per transaction at most, unless `ImportOptions::batch_size`
/// says otherwise.
pub const DEFAULT_BATCH: u32 = 1_000;
/// How long a batch should hold the write lock: a batch that took longer is followed by
/// smaller ones (down to [`MIN_BATCH`]), one that took much less by larger ones (up to the
/// batch size). The time a batch takes grows with the database (its inserts land at random
/// places in ever larger indexes) and with the machine's load.
const TARGET_HOLD: std::time::Duration = std::time::Duration::from_millis(250);
/// The smallest batch the adjustment goes down to.
const MIN_BATCH: usize = 100;
/// Accounts removed (or swept) per transaction at most when an import is undone (or
/// finished); fewer while a transaction takes longer than [`TARGET_HOLD`].
const CLEANUP_BATCH: usize = 2_000;
/// Lines whose passphrases may be hashing at once (the desk runs two hashes at a time).
const IN_FLIGHT: usize = 16;

#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Replace accounts already present (same external id or email) instead of refusing.
    pub update: bool,
    /// Import the good lines and report the bad ones, instead of importing nothing.
    pub skip_bad: bool,
    /// Accounts per write transaction; 0: [`DEFAULT_BATCH`].
    pub batch_size: u32,
}

/// A bad line: its number (from 1) and what is wrong with which field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub problems: Vec<Problem>,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: ", self.line)?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// What an import did.
#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    /// Lines that were not blank.
    pub lines: u64,
    pub inserted: u64,
    pub replaced: u64,
    /// Bad lines (skipped with `--skip-bad`; otherwise the reason nothing was imported).
    pub bad: u64,
    pub passphrases: u64,
    /// Whether the accounts were written (false: refused because of bad lines).
    pub imported: bool,
    pub seconds: f64,
    /// Write transactions: the batches, the final step and the sweep after it.
    pub transactions: u64,
    /// How long those transactions held the database's write lock, in all.
    pub write_seconds: f64,
    /// How long the longest of them held it.
    pub longest_write_seconds: f64,
}

impl ImportReport {
    fn wrote(&mut self, held: std::time::Duration) {
        let s = held.as_secs_f64();
        self.transactions += 1;
        self.write_seconds += s;
        self.longest_write_seconds = self.longest_write_seconds.max(s);
    }
}

/// How the writing of an import ended.
enum Ran {
    /// Every line was checked and some were bad: nothing was written but the audit record.
    Refused,
    /// The final step committed.
    Finished,
    /// A fault point stopped it as a crash would (test builds).
    #[cfg(any(test, feature = "fault-injection"))]
    Crashed(u64),
}

/// The input: a file or standard input, read line by line.
pub type Input = Box<dyn AsyncBufRead + Unpin + Send>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    New,
    Replace(AccountId),
}

/// A checked line on its way to the first spool.
#[derive(serde::Serialize, serde::Deserialize)]
struct Checked {
    line: u64,
    replace: Option<i64>,
    record: validate::Record,
}

/// Reads one line of at most `cap` bytes into `buf` (without its line break). Returns the
/// bytes consumed and whether the line was longer (the rest is skipped), or `None` at the end.
async fn read_line(
    r: &mut Input,
    buf: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<Option<(usize, bool)>> {
    buf.clear();
    let mut consumed = 0;
    let mut too_long = false;
    loop {
        let avail = r.fill_buf().await?;
        if avail.is_empty() {
            return Ok((consumed > 0).then_some((consumed, too_long)));
        }
        let (end, used, done) = match avail.iter().position(|b| *b == b'\n') {
            Some(i) => (i, i + 1, true),
            None => (avail.len(), avail.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        if end > room {
            too_long = true;
        }
        buf.extend_from_slice(&avail[..end.min(room)]);
        r.consume(used);
        consumed += used;
        if done {
            return Ok(Some((consumed, too_long)));
        }
    }
}

fn problem(field: &str, message: impl Into<String>) -> Problem {
    Problem {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The state of the checking pass: what the file has already claimed.
struct Claims {
    /// (index kind, blind index) → the line that holds it.
    seen: HashMap<(u8, Vec<u8>), u64>,
    /// Accounts an `--update` replaces → the line that replaces it.
    targets: HashMap<i64, u64>,
}

impl Desk {
    /// Checks one line; on success, what it becomes.
    async fn check_line(
        &self,
        bytes: &[u8],
        too_long: bool,
        line: u64,
        update: bool,
        claims: &mut Claims,
    ) -> Result<std::result::Result<(validate::Record, Target), Vec<Problem>>> {
        if too_long {
            return Ok(Err(vec![problem(
                "",
                format!("is longer than {} MiB", MAX_LINE_BYTES / (1024 * 1024)),
            )]));
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Ok(Err(vec![problem(
                "",
                "is not valid UTF-8: save the file as UTF-8",
            )]));
        };
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Err(vec![problem(
                    "",
                    format!(
                        "is not valid JSON (column {}): check the quotes, commas and brackets",
                        e.column()
                    ),
                )]));
            }
        };
        let record = match validate::record(&value) {
            Ok(r) => r,
            Err(p) => return Ok(Err(p)),
        };
        let mut problems = vec![];
        let mut keys = vec![];
        let mut found: Vec<(AccountId, &str)> = vec![];
        for (field, tag, kind, value) in [
            (
                "external_id",
                IndexKindTag::ExternalId,
                IndexKind::ExternalId,
                record.external_id.as_deref(),
            ),
            (
                "email",
                IndexKindTag::Email,
                IndexKind::Email,
                record.email.as_deref(),
            ),
        ] {
            let Some(v) = value else { continue };
            let hash = self.keys.blind(kind, v);
            let code = u8::from(tag == IndexKindTag::Email);
            if let Some(prev) = claims.seen.get(&(code, hash.clone())) {
                problems.push(problem(
                    field,
                    format!("the same {field} as line {prev}: each account once per file"),
                ));
            }
            for id in self.store.accounts_by_index(tag, &hash).await? {
                if !update {
                    problems.push(problem(
                        field,
                        format!(
                            "account {id} already has this {field}: pass --update to replace it"
                        ),
                    ));
                }
                if !found.iter().any(|(a, _)| *a == id) {
                    found.push((id, field));
                }
            }
            keys.push((code, hash));
        }
        let mut target = Target::New;
        if update {
            match found.as_slice() {
                [] => {}
                [(id, field)] => {
                    if let Some(prev) = claims.targets.get(&id.0) {
                        problems.push(problem(field, format!("replaces the same account ({id}) as line {prev}")));
                    }
                    target = Target::Replace(*id);
                }
                [(a, fa), (b, fb), ..] => problems.push(problem(
                    "",
                    format!("matches account {a} by {fa} and account {b} by {fb}: settle which one it is by hand"),
                )),
            }
        }
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        for k in keys {
            claims.seen.insert(k, line);
        }
        if let Target::Replace(id) = target {
            claims.targets.insert(id.0, line);
        }
        Ok(Ok((record, target)))
    }

    /// Hashes a checked record's passphrases (argon2id over the normalised passphrase).
    async fn hash_passphrases(&self, mut c: Checked) -> Result<(Checked, u64)> {
        let mut n = 0;
        for contact in &mut c.record.contacts {
            if let Some(p) = contact.passphrase.take() {
                contact.passphrase = Some(self.hash_password(Secret::new(p)).await?);
                n += 1;
            }
        }
        Ok((c, n))
    }

    /// Imports client accounts from JSON Lines (see the module documentation). Bad lines are
    /// handed to `bad` as they are found. Returns what was done; an import refused because
    /// of bad lines is `Ok` with `imported == false`. One import runs at a time: another
    /// one running is refused with a `Store(Conflict)`.
    pub async fn import_accounts(
        &self,
        actor: &Actor,
        input: Input,
        size: Option<u64>,
        opts: ImportOptions,
        progress: &dyn Progress,
        bad: &mut (dyn FnMut(&BadLine) + Send),
    ) -> Result<ImportReport> {
        super::require_admin(actor)?;
        let started = Instant::now();
        // An import left by a dead process holds the one slot: finish it first.
        self.clean_abandoned_imports().await?;
        let claim = self.store.begin_import(self.now()).await?;
        let import = claim.id();
        tracing::info!(
            import,
            update = opts.update,
            skip_bad = opts.skip_bad,
            "account import started"
        );
        let mut report = ImportReport::default();
        let ran = self
            .run_import(actor, import, input, size, opts, progress, bad, &mut report)
            .await;
        match ran {
            Ok(Ran::Finished) => {
                report.imported = true;
                #[cfg(any(test, feature = "fault-injection"))]
                if self.keys.faults().import_crashes_before_sweep() {
                    claim.abandon().await;
                    return Err(DeskError::Internal(
                        "fault injected: the import crashed before its sweep".into(),
                    ));
                }
                let swept = self
                    .sweep_import(import, &mut |held| report.wrote(held))
                    .await;
                report.seconds = started.elapsed().as_secs_f64();
                if let Err(e) = swept {
                    // The import is in the desk; what is left to sweep is invisible already.
                    tracing::warn!(
                        import,
                        error = %e,
                        "the import is done but its sweep stopped; the next start of privdesk finishes it"
                    );
                }
                claim.release().await;
                tracing::info!(
                    import,
                    lines = report.lines,
                    inserted = report.inserted,
                    replaced = report.replaced,
                    skipped = report.bad,
                    transactions = report.transactions,
                    write_seconds = report.write_seconds,
                    longest_write_seconds = report.longest_write_seconds,
                    "account import done"
                );
                Ok(report)
            }
            Ok(Ran::Refused) => {
                self.undo_import(import, claim).await;
                report.seconds = started.elapsed().as_secs_f64();
                tracing::info!(
                    import,
                    lines = report.lines,
                    bad = report.bad,
                    "account import refused: bad lines"
                );
                Ok(report)
            }
            #[cfg(any(test, feature = "fault-injection"))]
            Ok(Ran::Crashed(batches)) => {
                claim.abandon().await;
                Err(DeskError::Internal(format!(
                    "fault injected: the import crashed after {batches} batches"
                )))
            }
            Err(e) => {
                tracing::warn!(import, error = %e, "account import failed; removing what it wrote");
                let note = match self.undo_import(import, claim).await {
                    Undone::Removed => " (fix the cause and run it again)",
                    Undone::Later => {
                        " (what it wrote is removed at the next start of privdesk; fix the cause and run it again)"
                    }
                    Undone::Finished => {
                        return Err(DeskError::ImportFinishedUnconfirmed { cause: Box::new(e) });
                    }
                };
                Err(DeskError::ImportFailed {
                    cause: Box::new(e),
                    note,
                })
            }
        }
    }

    /// Passes 1 to 3 (see the module documentation) under the import's claim.
    #[allow(clippy::too_many_arguments)]
    async fn run_import(
        &self,
        actor: &Actor,
        import: i64,
        mut input: Input,
        size: Option<u64>,
        opts: ImportOptions,
        progress: &dyn Progress,
        bad: &mut (dyn FnMut(&BadLine) + Send),
        report: &mut ImportReport,
    ) -> Result<Ran> {
        let mut checked = spool::Spool::create("checked")?;
        let mut claims = Claims {
            seen: HashMap::new(),
            targets: HashMap::new(),
        };
        let mut pending = FuturesOrdered::new();
        let mut buf = Vec::new();
        let mut line = 0_u64;
        progress.stage("checking, hashing", size.unwrap_or(0));
        let spool_one = |spool: &mut spool::Spool, c: &Checked| -> Result<()> {
            let bytes = crate::crypto::Zeroizing::new(
                serde_json::to_vec(c)
                    .map_err(|e| DeskError::Internal(format!("spool encoding: {e}")))?,
            );
            spool.push(&bytes)
        };
        while let Some((consumed, too_long)) = read_line(&mut input, &mut buf, MAX_LINE_BYTES)
            .await
            .map_err(|e| DeskError::Setup(format!("cannot read the import file: {e}")))?
        {
            line += 1;
            progress.advance(consumed as u64);
            if !too_long && buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            report.lines += 1;
            match self
                .check_line(&buf, too_long, line, opts.update, &mut claims)
                .await?
            {
                Err(problems) => {
                    report.bad += 1;
                    bad(&BadLine { line, problems });
                }
                // Nothing will be imported: check the rest, hash nothing more.
                Ok(_) if report.bad > 0 && !opts.skip_bad => {}
                Ok((record, target)) => {
                    let replace = match target {
                        Target::Replace(id) => Some(id.0),
                        Target::New => None,
                    };
                    pending.push_back(self.hash_passphrases(Checked {
                        line,
                        replace,
                        record,
                    }));
                    while pending.len() >= IN_FLIGHT {
                        if let Some(done) = pending.next().await {
                            let (c, n) = done?;
                            report.passphrases += n;
                            spool_one(&mut checked, &c)?;
                        }
                    }
                }
            }
            buf.fill(0);
        }
        if report.bad > 0 && !opts.skip_bad {
            drop(pending);
            let audit = self
                .audit(actor, "account.import")
                .outcome(Outcome::Refused)
                .detail(format!("lines={} bad={}", report.lines, report.bad));
            self.commit(vec![], audit).await?;
            return Ok(Ran::Refused);
        }
        while let Some(done) = pending.next().await {
            let (c, n) = done?;
            report.passphrases += n;
            spool_one(&mut checked, &c)?;
        }
        self.write_batches(actor, import, &mut checked, opts, report, progress)
            .await
    }

    /// Passes 2 and 3: seal and write the checked records in batches, then the final step.
    async fn write_batches(
        &self,
        actor: &Actor,
        import: i64,
        checked: &mut spool::Spool,
        opts: ImportOptions,
        report: &mut ImportReport,
        progress: &dyn Progress,
    ) -> Result<Ran> {
        let max = usize::try_from(if opts.batch_size == 0 {
            DEFAULT_BATCH
        } else {
            opts.batch_size
        })
        .unwrap_or(usize::MAX);
        let mut size = max;
        progress.stage("sealing, writing", checked.len());
        let mut reader = checked.reader()?;
        let mut batches = 0_u64;
        loop {
            let mut batch: Vec<Checked> = Vec::with_capacity(size);
            while batch.len() < size {
                let Some(bytes) = reader.next_record()? else {
                    break;
                };
                let c: Checked = serde_json::from_slice(&bytes).map_err(|_| {
                    DeskError::Internal("the import's temporary file is damaged".into())
                })?;
                batch.push(c);
            }
            if batch.is_empty() {
                break;
            }
            let (news, olds): (Vec<&Checked>, Vec<&Checked>) =
                batch.iter().partition(|c| c.replace.is_none());
            let inputs: Vec<AccountInput> = news.iter().map(|c| input_of(&c.record)).collect();
            let rows = self.seal_import_accounts(import, &inputs).await?;
            let replacing: Vec<(AccountId, AccountInput)> = olds
                .iter()
                .map(|c| {
                    (
                        AccountId(c.replace.unwrap_or_default()),
                        input_of(&c.record),
                    )
                })
                .collect();
            let replacements = self.seal_replacements(&replacing).await?;
            let held = self
                .store
                .write_import_batch(import, &rows, &replacements)
                .await?;
            report.wrote(held);
            size = next_batch(size, max, held);
            report.inserted += rows.len() as u64;
            report.replaced += replacements.len() as u64;
            progress.advance(batch.len() as u64);
            batches += 1;
            #[cfg(any(test, feature = "fault-injection"))]
            {
                if let Some(pause) = self.keys.faults().import_pause_at(batches) {
                    pause.pause().await;
                }
                if self.keys.faults().import_crashes_at(batches) {
                    return Ok(Ran::Crashed(batches));
                }
            }
        }
        tracing::debug!(import, batches, "import batches written");
        let audit = self.audit(actor, "account.import").detail(format!(
            "lines={} inserted={} replaced={} skipped={} passphrases={}",
            report.lines, report.inserted, report.replaced, report.bad, report.passphrases
        ));
        let held = self
            .store
            .finish_import(
                import,
                ImportCounts {
                    inserted: report.inserted,
                    replaced: report.replaced,
                },
                vec![audit],
            )
            .await?;
        report.wrote(held);
        Ok(Ran::Finished)
    }

    /// Removes what an import wrote and the keys it made, then lets go of it. False when
    /// that failed, leaving it to the next start (the failure is logged).
    /// Undoes a failed import; says what became of what it wrote.
    async fn undo_import(&self, import: i64, claim: ImportClaim) -> Undone {
        let done = self.discard_import(import).await;
        claim.release().await;
        match done {
            Ok(removed) => {
                if removed > 0 {
                    tracing::info!(import, removed, "removed what the import had written");
                }
                Undone::Removed
            }
            Err(e) => {
                // Refused because the final step had committed after all?
                let finished = self.store.abandoned_imports().await.is_ok_and(|found| {
                    found
                        .iter()
                        .any(|(c, stage)| c.id() == import && *stage == ImportStage::Sweeping)
                });
                if finished {
                    tracing::warn!(import, "the import's final step had committed; it is kept");
                    return Undone::Finished;
                }
                tracing::warn!(
                    import,
                    error = %e,
                    "could not remove what the import had written; the next start removes it"
                );
                Undone::Later
            }
        }
    }

    /// Discards an import: its rows (a batch at a time), then the keys of the account ids it
    /// reserved, then its bookkeeping. Returns how many accounts were removed.
    async fn discard_import(&self, import: i64) -> Result<u64> {
        let mut removed = 0;
        let mut size = CLEANUP_BATCH;
        loop {
            let (n, held) = self.store.discard_import(import, limit(size)).await?;
            if n == 0 {
                break;
            }
            removed += n;
            size = next_batch(size, CLEANUP_BATCH, held);
        }
        let ranges = self.store.import_ranges(import).await?;
        let keys = self.keys.destroy_ranges(&ranges).await?;
        self.store.forget_import(import).await?;
        tracing::debug!(import, removed, keys, "import discarded");
        Ok(removed)
    }

    /// Sweeps a finished import: the marks of its new accounts and the rows its replacements
    /// superseded, a batch at a time; `wrote` hears how long each transaction held the lock.
    async fn sweep_import(
        &self,
        import: i64,
        wrote: &mut (dyn FnMut(std::time::Duration) + Send),
    ) -> Result<()> {
        let mut size = CLEANUP_BATCH;
        loop {
            let (done, held) = self.store.sweep_import(import, limit(size)).await?;
            wrote(held);
            if done {
                return Ok(());
            }
            size = next_batch(size, CLEANUP_BATCH, held);
        }
    }

    /// Finishes the imports whose process died (run at every start, like
    /// [`Desk::destroy_doomed_keys`]): one that had not committed is removed with the keys
    /// it made; one that had is swept. Returns how many there were.
    pub async fn clean_abandoned_imports(&self) -> Result<usize> {
        let found = self.store.abandoned_imports().await?;
        let n = found.len();
        for (claim, stage) in found {
            let import = claim.id();
            let done = match stage {
                ImportStage::Sweeping => self.sweep_import(import, &mut |_| {}).await,
                ImportStage::Writing | ImportStage::Discarding => {
                    self.discard_import(import).await.map(|_| ())
                }
            };
            claim.release().await;
            done?;
            tracing::info!(
                import,
                stage = stage.as_str(),
                "finished an import whose process had stopped"
            );
        }
        Ok(n)
    }
}

/// The size of the next batch, after one of `size` held the write lock for `held`.
fn next_batch(size: usize, max: usize, held: std::time::Duration) -> usize {
    if held > TARGET_HOLD {
        (size / 2).max(MIN_BATCH.min(max))
    } else if held < TARGET_HOLD / 3 {
        size.saturating_mul(2).min(max)
    } else {
        size
    }
}

fn limit(size: usize) -> u32 {
    u32::try_from(size).unwrap_or(u32::MAX)
}

fn personal(v: Option<&String>) -> Option<Personal<String>> {
    v.map(|s| Personal::new(s.clone()))
}

fn input_of(r: &validate::Record) -> AccountInput {
    AccountInput {
        external_id: personal(r.external_id.as_ref()),
        kind: r.kind(),
        name: Personal::new(r.name.clone()),
        email: personal(r.email.as_ref()),
        phone: personal(r.phone.as_ref()),
        postal_address: personal(r.postal_address.as_ref()),
        tax_id: personal(r.tax_id.as_ref()),
        admin_logins: r
            .admin_logins
            .iter()
            .map(|l| Personal::new(l.clone()))
            .collect(),
        contacts: r
            .contacts
            .iter()
            .map(|c| ContactInput {
                name: Some(Personal::new(c.name.clone())),
                email: personal(c.email.as_ref()),
                phone: personal(c.phone.as_ref()),
                passphrase_hash: personal(c.passphrase.as_ref()),
            })
            .collect(),
        flags: AccountFlags::default(),
        login_history: vec![],
        sessions: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn batches_shrink_when_slow_and_grow_back_when_fast() {
        let ms = Duration::from_millis;
        assert_eq!(next_batch(1_000, 1_000, ms(400)), 500);
        assert_eq!(next_batch(500, 1_000, ms(200)), 500);
        assert_eq!(next_batch(150, 1_000, ms(900)), MIN_BATCH);
        assert_eq!(next_batch(MIN_BATCH, 1_000, ms(900)), MIN_BATCH);
        assert_eq!(next_batch(500, 1_000, ms(20)), 1_000);
        assert_eq!(next_batch(1_000, 1_000, ms(20)), 1_000);
        // A batch size below the smallest adjustment stays as given.
        assert_eq!(next_batch(10, 10, ms(900)), 10);
        assert_eq!(next_batch(10, 10, ms(1)), 10);
    }
}
