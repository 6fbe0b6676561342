//! `privdesk import accounts`: client accounts from a JSON Lines file (schema and example
//! in the README, "Importing client accounts").
//!
//! # Streaming, and nothing half-imported
//!
//! An import runs in three passes, so that a 100,000-account file never sits in memory,
//! its passphrases (argon2id, ~15 ms and 19 MiB each) never hash while the database's
//! write lock is held, and a failure leaves nothing half-imported:
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
//! 2. **Seal.** The spool is read back in batches: row ids are reserved, data keys created in
//!    the key store (`Desk::seal_accounts`; `Desk::seal_replacements` for `--update`), and
//!    the sealed rows (ciphertext and keyed hashes only) go to a second encrypted spool.
//! 3. **Write**, in one database transaction (`Store::commit_stream`) fed from the second
//!    spool with multi-row inserts, together with the import's audit record (counts only).
//!    Only this pass holds the write lock: it does no hashing, parsing or sealing, so it
//!    lasts seconds for 100,000 accounts (measured in BENCHMARKS.md). Either every account
//!    of the file is in, or (a crash, a full disk, a lost server) none is: the transaction
//!    rolls back, and the data keys pass 2 created are destroyed (a key whose account was
//!    never written protects nothing, so one left behind by a crash is harmless).
//!
//! Why not short transactions, one per batch? Then a failure half-way would leave half the
//! file imported, and running it again would need `--update` to get past the first half.
//! Why not one transaction over the whole run? Then the write lock would be held for the
//! minutes the passphrases take to hash, stopping every screen's writes.
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
use crate::store::{BulkChunk, IndexKindTag, Mutation};

use super::{Desk, DeskError, Result};

pub use validate::{ACCOUNT_FIELDS, CONTACT_FIELDS, Problem};

/// A line longer than this is refused without being parsed.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Accounts sealed, and written, per batch.
const BATCH: usize = 500;
/// Lines whose passphrases may be hashing at once (the desk runs two hashes at a time).
const IN_FLIGHT: usize = 16;

#[derive(Clone, Copy, Debug, Default)]
pub struct ImportOptions {
    /// Replace accounts already present (same external id or email) instead of refusing.
    pub update: bool,
    /// Import the good lines and report the bad ones, instead of importing nothing.
    pub skip_bad: bool,
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
    /// How long the database's write lock was held.
    pub write_seconds: f64,
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
    /// of bad lines is `Ok` with `imported == false`.
    pub async fn import_accounts(
        &self,
        actor: &Actor,
        mut input: Input,
        size: Option<u64>,
        opts: ImportOptions,
        progress: &dyn Progress,
        bad: &mut (dyn FnMut(&BadLine) + Send),
    ) -> Result<ImportReport> {
        super::require_admin(actor)?;
        let started = Instant::now();
        let mut report = ImportReport::default();
        tracing::info!(
            update = opts.update,
            skip_bad = opts.skip_bad,
            "account import started"
        );
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
            tracing::info!(
                lines = report.lines,
                bad = report.bad,
                "account import refused: bad lines"
            );
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
        while let Some(done) = pending.next().await {
            let (c, n) = done?;
            report.passphrases += n;
            spool_one(&mut checked, &c)?;
        }
        let mut created = vec![];
        let result = self
            .seal_and_write(actor, &mut checked, &mut report, &mut created, progress)
            .await;
        if let Err(e) = result {
            // Nothing was written: the keys made for the accounts protect nothing.
            for id in &created {
                let _ = self.keys.destroy(*id).await;
            }
            tracing::warn!(
                keys = created.len(),
                "account import failed; nothing was written"
            );
            return Err(e);
        }
        report.imported = true;
        report.seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            lines = report.lines,
            inserted = report.inserted,
            replaced = report.replaced,
            skipped = report.bad,
            write_seconds = report.write_seconds,
            "account import done"
        );
        Ok(report)
    }

    /// Passes 2 and 3: seal every checked record into the second spool, then write it all in
    /// one transaction with the audit record.
    async fn seal_and_write(
        &self,
        actor: &Actor,
        checked: &mut spool::Spool,
        report: &mut ImportReport,
        created: &mut Vec<AccountId>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let mut sealed = spool::Spool::create("sealed")?;
        progress.stage("sealing", checked.len());
        {
            let mut reader = checked.reader()?;
            loop {
                let mut batch: Vec<Checked> = Vec::with_capacity(BATCH);
                while batch.len() < BATCH {
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
                let rows = self.seal_accounts(&inputs).await?;
                created.extend(rows.iter().map(|a| a.id));
                for a in &rows {
                    sealed.push(&spool::encode_account(a, false))?;
                }
                let replacing: Vec<(AccountId, AccountInput)> = olds
                    .iter()
                    .map(|c| {
                        (
                            AccountId(c.replace.unwrap_or_default()),
                            input_of(&c.record),
                        )
                    })
                    .collect();
                for a in &self.seal_replacements(&replacing).await? {
                    sealed.push(&spool::encode_account(a, true))?;
                }
                report.inserted += rows.len() as u64;
                report.replaced += replacing.len() as u64;
                progress.advance(batch.len() as u64);
            }
        }
        progress.stage("writing", sealed.len());
        let audit = self.audit(actor, "account.import").detail(format!(
            "lines={} inserted={} replaced={} skipped={} passphrases={}",
            report.lines, report.inserted, report.replaced, report.bad, report.passphrases
        ));
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let write_started = Instant::now();
        let feed = async {
            let mut reader = sealed.reader()?;
            loop {
                let mut chunk = Vec::with_capacity(BATCH);
                while chunk.len() < BATCH {
                    let Some(bytes) = reader.next_record()? else {
                        break;
                    };
                    let (a, replace) = spool::decode_account(&bytes)?;
                    chunk.push(if replace {
                        Mutation::ReplaceAccount(Box::new(a))
                    } else {
                        Mutation::InsertAccount(Box::new(a))
                    });
                }
                if chunk.is_empty() {
                    break;
                }
                let n = chunk.len() as u64;
                if tx.send(BulkChunk::Mutations(chunk)).await.is_err() {
                    // The writer stopped; its error tells why.
                    return Ok(());
                }
                progress.advance(n);
            }
            let _ = tx.send(BulkChunk::Commit).await;
            Ok::<(), DeskError>(())
        };
        let (written, fed) = tokio::join!(self.store.commit_stream(rx, vec![audit]), feed);
        report.write_seconds = write_started.elapsed().as_secs_f64();
        fed?;
        written?;
        Ok(())
    }
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
