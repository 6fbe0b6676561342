//! `privdesk audit …`: verify the chain, print checkpoints, list records.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use crate::config::Config;
use crate::domain::account::AccountId;
use crate::domain::request::RequestId;
use crate::store::{AuditFilter, AuditHead, AuditRecord};

use super::common::{open_desk, runtime};

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the whole chain; exits 1 naming the first bad record.
    Verify {
        /// A checkpoint printed earlier by `audit checkpoint` (detects truncation).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
    /// Print the chain's head (sequence and hash) to keep off-host.
    Checkpoint,
    /// Who looked at, checked or revealed an account's personal data: when, which
    /// fields, why (the access part of an account-state report, §14).
    Access {
        /// The account (A123), or give --email.
        account: Option<AccountId>,
        /// Find the account by its email (blind index) instead.
        #[arg(long, conflicts_with = "account")]
        email: Option<String>,
    },
    /// List records, newest first.
    Log {
        /// Only records of this actor: a staff login, or `USER@cli` for the command line.
        #[arg(long)]
        actor: Option<String>,
        /// Only records about this account (A123).
        #[arg(long)]
        account: Option<AccountId>,
        /// Only records about this request (#123 or 123).
        #[arg(long)]
        request: Option<RequestId>,
        /// An action or a dotted prefix of one (e.g. `request`, `field.reveal`, `staff.add`).
        #[arg(long)]
        action: Option<String>,
        /// Only reveals made for this purpose (identify_client, protect_account,
        /// service_message, fulfil_request).
        #[arg(long)]
        purpose: Option<String>,
        /// Only what was done, or only what was refused (attempts past a limit or a rule).
        #[arg(long, value_parser = ["done", "refused"])]
        outcome: Option<String>,
        /// From this day (2026-11-01, in the provider's time zone) or instant (RFC 3339).
        #[arg(long)]
        since: Option<When>,
        /// Before this day (its start) or instant.
        #[arg(long)]
        until: Option<When>,
        /// At most this many records, newest first.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

pub fn run(config: &Config, cmd: AuditCmd, out: &mut dyn Write) -> anyhow::Result<bool> {
    let rt = runtime()?;
    rt.block_on(async {
        let desk = open_desk(config).await?;
        let ok = match cmd {
            AuditCmd::Verify { checkpoint } => verify(&desk, checkpoint, out).await?,
            AuditCmd::Access { account, email } => access(&desk, account, email, out).await?,
            AuditCmd::Checkpoint => {
                writeln!(out, "{}", desk.store().audit_head().await?.to_line())?;
                true
            }
            AuditCmd::Log {
                actor,
                account,
                request,
                action,
                purpose,
                outcome,
                since,
                until,
                limit,
            } => {
                let tz = desk.rules().tz.clone();
                let filter = AuditFilter {
                    actor,
                    account,
                    request,
                    action,
                    purpose,
                    outcome,
                    since: since.map(|w| w.instant(&tz)).transpose()?,
                    until: until.map(|w| w.instant(&tz)).transpose()?,
                    ..AuditFilter::default()
                };
                let records = desk
                    .store()
                    .audit_records(&filter, limit.clamp(1, 10_000))
                    .await?;
                if records.is_empty() {
                    writeln!(out, "No audit record matches.")?;
                }
                for r in &records {
                    writeln!(out, "{}", format_record(r, &tz))?;
                }
                true
            }
        };
        desk.store().close().await;
        Ok(ok)
    })
}

async fn verify(
    desk: &crate::desk::Desk,
    checkpoint: Option<PathBuf>,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let cp = match checkpoint {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the checkpoint {}", path.display()))?;
            Some(text.lines().find_map(AuditHead::parse_line).with_context(|| {
                format!("{} holds no checkpoint line (expected the output of `privdesk audit checkpoint`)", path.display())
            })?)
        }
        None => None,
    };
    let verdict = desk.store().verify_audit_against(cp.as_ref()).await?;
    if let Some((seq, why)) = &verdict.chain.first_bad {
        writeln!(out, "audit chain BROKEN at record {seq}: {why}")?;
        return Ok(false);
    }
    if let Some(mismatch) = &verdict.checkpoint {
        writeln!(out, "{mismatch}")?;
        return Ok(false);
    }
    let report = &verdict.chain;
    writeln!(
        out,
        "audit chain intact: {} records, head {}",
        report.records,
        report.head.to_line()
    )?;
    Ok(true)
}

pub fn format_record(r: &AuditRecord, tz: &jiff::tz::TimeZone) -> String {
    let d = &r.draft;
    let mut line = format!(
        "{:>6}  {}  {:<16} {:<12} {:<24} {}",
        r.seq,
        d.at.to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M:%S"),
        d.actor,
        d.source,
        d.action,
        d.outcome
    );
    if let Some(a) = d.account {
        let _ = write!(line, " account={a}");
    }
    if let Some(q) = d.request {
        let _ = write!(line, " request={q}");
    }
    if let Some(t) = &d.target {
        let _ = write!(line, " target={t}");
    }
    if !d.fields.is_empty() {
        let _ = write!(line, " fields={}", d.fields);
    }
    if let Some(p) = &d.purpose {
        let _ = write!(line, " purpose={p}");
    }
    if !d.detail.is_empty() {
        let _ = write!(line, " ({})", d.detail);
    }
    line
}

async fn access(
    desk: &crate::desk::Desk,
    account: Option<AccountId>,
    email: Option<String>,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let account = match (account, email) {
        (Some(a), _) => a,
        (None, Some(e)) => {
            let e = crate::domain::normalize::email(&e)
                .map_err(|err| super::usage(format!("--email: {err}")))?;
            let found = desk.existing_accounts(None, Some(&e)).await?;
            match found.as_slice() {
                [one] => *one,
                [] => anyhow::bail!("no account has that email"),
                many => anyhow::bail!(
                    "{} accounts have that email; give the account id",
                    many.len()
                ),
            }
        }
        (None, None) => return Err(super::usage("name the account (A123) or give --email")),
    };
    let actor = super::common::shell_actor();
    let records = desk.access_report(&actor, account, true).await?;
    writeln!(
        out,
        "Access to the personal data of account {account}: {} entries",
        records.len()
    )?;
    for r in &records {
        writeln!(out, "{}", format_record(r, &desk.rules().tz))?;
    }
    Ok(true)
}

/// A day (its start in the provider's time zone) or an instant, as `--since` / `--until`.
#[derive(Clone, Copy, Debug)]
pub enum When {
    Day(jiff::civil::Date),
    At(jiff::Timestamp),
}

impl std::str::FromStr for When {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(t) = s.parse::<jiff::Timestamp>() {
            return Ok(When::At(t));
        }
        s.parse::<jiff::civil::Date>().map(When::Day).map_err(|_| {
            format!("{s:?}: write a day as 2026-11-01 or an instant as 2026-11-01T09:00:00Z")
        })
    }
}

impl When {
    fn instant(self, tz: &jiff::tz::TimeZone) -> anyhow::Result<jiff::Timestamp> {
        Ok(match self {
            When::At(t) => t,
            When::Day(d) => d.to_zoned_datetime(tz.clone())?.timestamp(),
        })
    }
}
