//! `privdesk demo`: a demo desk of its own, filled with realistic invented data; prints
//! what it holds and opens the desk on it (`--no-tui`: only fill and print).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::config::Config;
use crate::desk::demo::{self, DemoDesk, DemoOptions};

use super::common::{runtime, shell_actor};
use super::progress::{TermProgress, thousands};

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Only fill the demo database and print what it holds (no screens).
    #[arg(long)]
    pub no_tui: bool,
    /// The seed the data is drawn from: the same seed gives the same data [default: 1].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// How many client accounts [default: 200].
    #[arg(long, value_name = "N")]
    pub accounts: Option<u32>,
    /// How many requests [default: 500].
    #[arg(long, value_name = "N")]
    pub requests: Option<u32>,
    /// An OpenSSH public key file (.pub) to register for every demo staff member.
    #[arg(long, value_name = "FILE")]
    pub ssh_key: Option<PathBuf>,
    /// The demo's directory [default: demo/ in the data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Delete the demo in that directory and build it again.
    #[arg(long)]
    pub fresh: bool,
    /// Put the demo in this PostgreSQL database instead (with --pg-key-store; both empty or
    /// holding this demo; the master key stays in the demo directory). For benchmarks.
    #[arg(long, value_name = "URL", requires = "pg_key_store")]
    pub pg_database: Option<String>,
    /// The PostgreSQL key store of a demo given --pg-database.
    #[arg(long, value_name = "URL", requires = "pg_database")]
    pub pg_key_store: Option<String>,
    /// The demo's "now", e.g. 2026-03-02T07:00:00Z (for reproducible data).
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<jiff::Timestamp>,
}

impl DemoArgs {
    pub fn options(&self) -> anyhow::Result<DemoOptions> {
        let ssh_key = match &self.ssh_key {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read the SSH key file {}", p.display()))?,
            ),
            None => None,
        };
        Ok(DemoOptions {
            seed: self.seed,
            accounts: self.accounts,
            requests: self.requests,
            now: self.now,
            dir: self.data_dir.clone(),
            fresh: self.fresh,
            ssh_key,
            postgres: self.pg_database.clone().zip(self.pg_key_store.clone()),
        })
    }
}

/// Creates (or reuses) the demo desk with a progress bar on a terminal: what a screen needs
/// to open it (`DemoDesk::desk`, or `DemoDesk::config` with `Desk::open`).
pub async fn prepare(config: &Config, args: &DemoArgs) -> anyhow::Result<DemoDesk> {
    let calendar = super::load_calendar(config)?;
    let progress = TermProgress::new();
    let opts = args.options()?;
    let result = demo::prepare_demo(config, calendar, &shell_actor(), &opts, &progress).await;
    progress.finish();
    Ok(result?)
}

/// Fills (or reuses) the demo desk, prints what it holds, and opens the desk on it in this
/// terminal (unless `--no-tui`, or when there is no terminal to draw on).
pub fn run(config: &Config, args: &DemoArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let open_tui = !args.no_tui && terminal;
    // Settings first: a bad key binding is reported before anything is generated.
    let env = |k: &str| std::env::var(k).ok();
    let settings = super::tui::settings(
        config,
        crate::domain::staff::Source::Local,
        super::tui::locale_lang(&env),
        std::env::var("NO_COLOR").ok().as_deref(),
    )?;
    let rt = runtime()?;
    rt.block_on(async {
        let demo = prepare(config, args).await?;
        print_demo(&demo, out)?;
        if !open_tui {
            if !args.no_tui {
                writeln!(
                    out,
                    "(No terminal to draw on: the desk's screens were not opened.)"
                )?;
            }
            demo.desk.store().close().await;
            return Ok(());
        }
        out.flush()?;
        let desk = std::sync::Arc::new(demo.desk);
        desk.reload_master_key_on_sighup();
        crate::tui::local::run(desk.clone(), settings).await?;
        desk.store().close().await;
        Ok(())
    })
}

/// Prints what the demo desk holds and how to log in.
pub fn print_demo(demo: &DemoDesk, out: &mut dyn Write) -> anyhow::Result<()> {
    let p = &demo.params;
    let h = &demo.holdings;
    writeln!(
        out,
        "Demo desk in {} ({}; --seed {} --accounts {} --requests {}, as of {})",
        demo.dir.display(),
        if demo.created {
            "created now"
        } else {
            "reused"
        },
        p.seed,
        p.accounts,
        p.requests,
        p.at.strftime("%Y-%m-%d %H:%M UTC"),
    )?;
    if let Some(s) = h.stats.as_ref().filter(|_| demo.created) {
        writeln!(out, "  generated in {:.1} s", s.seconds)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Staff logins, password \"demo\" (they work in demo databases only):"
    )?;
    for (login, role, keys) in &h.staff {
        let keys = match keys {
            0 => String::new(),
            1 => "  (1 SSH key)".to_owned(),
            n => format!("  ({n} SSH keys)"),
        };
        writeln!(out, "  {login:<12} {role}{keys}")?;
    }
    if let Some(k) = &demo.ssh_key {
        let names = |roles: &[crate::domain::staff::Role]| {
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            out,
            "SSH key {} is registered for: {}",
            k.fingerprint,
            names(&k.holders)
        )?;
        if !k.refused.is_empty() {
            writeln!(
                out,
                "  not for {}: the key is held by a login outside the demo; give these logins a key of their own",
                names(&k.refused)
            )?;
        }
    }
    writeln!(out)?;
    let a = &h.accounts;
    writeln!(
        out,
        "Client accounts: {} (locked {}, blocked {}, erased {})",
        thousands(a.total),
        thousands(a.locked),
        thousands(a.blocked),
        thousands(a.erased)
    )?;
    if let Some(s) = &h.stats {
        writeln!(
            out,
            "Requests: {} with {} timeline entries, messages and notes",
            thousands(s.requests),
            thousands(s.entries)
        )?;
    }
    writeln!(out, "  {:<12} {:>10} {:>10}", "queue", "open", "overdue")?;
    for q in &h.queues {
        writeln!(
            out,
            "  {:<12} {:>10} {:>10}",
            q.queue.as_str(),
            thousands(q.open),
            thousands(q.overdue)
        )?;
    }
    if let Some(s) = &h.stats {
        writeln!(out, "Requests by kind and state:")?;
        for (kind, states) in &s.states {
            let list: Vec<String> = states
                .iter()
                .map(|(st, n)| format!("{st} {}", thousands(*n)))
                .collect();
            writeln!(out, "  {kind}: {}", list.join(", "))?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "Correspondence and notes include hostile text (escape sequences, bidi overrides, zero-width \
         characters, emoji, a 10 KB line): the screens must show it inert."
    )?;
    writeln!(
        out,
        "Open it: privdesk --database-url {} --key-store-url {} --master-key-file {} tui",
        crate::store::redact_url(&demo.config.database_url),
        crate::store::redact_url(&demo.config.key_store_url),
        demo.config.master_key_file.display()
    )?;
    Ok(())
}
