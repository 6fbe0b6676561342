//! `privdesk import accounts FILE|-`: client accounts from JSON Lines (schema in the README).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Subcommand};

use crate::config::Config;
use crate::desk::import::{BadLine, ImportOptions, ImportReport, Input};

use super::common::{open_desk, runtime, shell_actor};
use super::progress::{TermProgress, thousands};

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Client accounts from a JSON Lines file, one account per line ("-": standard input).
    Accounts(AccountsArgs),
}

#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// The JSON Lines file, or - for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
    /// Replace accounts already in the desk (same external id, or same email) instead of
    /// refusing them.
    #[arg(long)]
    pub update: bool,
    /// Import the good lines and report each bad one (default: a bad line imports nothing).
    #[arg(long)]
    pub skip_bad: bool,
    /// Accounts written per database transaction: each holds the database's write lock
    /// (about 0.1 s per 1,000 accounts), the desk's own writes go on between them.
    #[arg(long, value_name = "N", default_value_t = crate::desk::import::DEFAULT_BATCH,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Runs the import; `Ok(false)` when it was refused (bad lines, exit code 1).
pub fn run(config: &Config, cmd: &ImportCmd, out: &mut dyn Write) -> anyhow::Result<bool> {
    let ImportCmd::Accounts(args) = cmd;
    let rt = runtime()?;
    rt.block_on(async {
        let (input, size): (Input, Option<u64>) = if args.file.as_os_str() == "-" {
            (
                Box::new(tokio::io::BufReader::new(tokio::io::stdin())),
                None,
            )
        } else {
            let f = tokio::fs::File::open(&args.file)
                .await
                .with_context(|| format!("cannot open {}", args.file.display()))?;
            let size = f.metadata().await.ok().map(|m| m.len());
            (
                Box::new(tokio::io::BufReader::with_capacity(256 * 1024, f)),
                size,
            )
        };
        let desk = open_desk(config).await?;
        let progress = TermProgress::new();
        let opts = ImportOptions {
            update: args.update,
            skip_bad: args.skip_bad,
            batch_size: args.batch_size,
        };
        let mut err = std::io::stderr();
        let mut report_bad = |b: &BadLine| {
            let _ = writeln!(
                err,
                "privdesk: {}{b}",
                if opts.skip_bad { "skipped " } else { "" }
            );
        };
        let result = desk
            .import_accounts(
                &shell_actor(),
                input,
                size,
                opts,
                &progress,
                &mut report_bad,
            )
            .await;
        progress.finish();
        desk.store().close().await;
        let report = result?;
        summary(&report, opts, out)?;
        Ok(report.imported)
    })
}

fn summary(r: &ImportReport, opts: ImportOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    if !r.imported {
        anyhow::ensure!(
            r.bad > 0,
            "the import stopped without importing anything; see the log"
        );
        eprintln!(
            "privdesk: nothing was imported: {} of {} lines are bad (listed above). Fix them, or pass \
             --skip-bad to import the other lines.",
            thousands(r.bad),
            thousands(r.lines)
        );
        return Ok(());
    }
    writeln!(
        out,
        "Imported {} from {}: {} new, {} replaced.",
        plural(r.inserted + r.replaced, "account", "accounts"),
        plural(r.lines, "line", "lines"),
        thousands(r.inserted),
        thousands(r.replaced)
    )?;
    if r.bad > 0 {
        writeln!(
            out,
            "Skipped {} (listed above).",
            plural(r.bad, "bad line", "bad lines")
        )?;
    } else if opts.skip_bad {
        writeln!(out, "No bad lines.")?;
    }
    writeln!(
        out,
        "{} hashed (argon2id). Took {:.1} s; written in {}, none holding the write lock longer \
         than {:.2} s.",
        plural(r.passphrases, "passphrase", "passphrases"),
        r.seconds,
        plural(r.transactions, "transaction", "transactions"),
        r.longest_write_seconds
    )?;
    Ok(())
}
