//! The command line: one function per subcommand. Exit codes: 0 success, 1 a refused or
//! failed operation, 2 bad usage.

pub mod audit;
pub mod calendar;
pub mod common;
pub mod demo;
pub mod import;
pub mod init;
pub mod keys;
pub mod progress;
pub mod serve;
pub mod staff;
pub mod tui;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, Overrides, ProcessEnv};
use crate::domain::calendar::Calendar;
use crate::domain::staff::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "privdesk",
    version,
    about = "A terminal support desk where the client privacy policy is kept by the program",
    long_about = "privdesk works three queues (password resets, compromise reports, data-subject \
                  requests) under a role-based access table, with personal data encrypted per client \
                  and every look and change in a tamper-evident audit log.\n\n\
                  Run without a subcommand to open the desk.",
    after_help = "Configuration: --config FILE, PRIVDESK_CONFIG, or ~/.config/privdesk/config.toml \
                  (example: assets/privdesk.example.toml)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The database: sqlite://PATH or postgres://… (default: a SQLite file in the data directory).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "PRIVDESK_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// The key store: sqlite://PATH or postgres://… (default: keys.db next to the master key).
    #[arg(long, global = true, value_name = "URL")]
    pub key_store_url: Option<String>,
    /// The master key file.
    #[arg(long, global = true, value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The language of the desk's own text: en or ru.
    #[arg(long, global = true, value_name = "LANG")]
    pub lang: Option<Lang>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the desk in this terminal (the default).
    Tui,
    /// Create the master key, the key store and the database (safe to run again).
    Init,
    /// Staff accounts: add, list, roles, languages, passwords, SSH keys.
    #[command(subcommand)]
    Staff(staff::StaffCmd),
    /// Master key rotation and verification.
    #[command(subcommand)]
    Keys(keys::KeysCmd),
    /// The audit log: verify, checkpoint, list.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// The working-day calendar: a year's exceptions, or a due date.
    Calendar(calendar::CalendarArgs),
    /// Import client accounts from a JSON Lines file (see the README).
    #[command(subcommand)]
    Import(import::ImportCmd),
    /// A demo desk of its own with realistic data in Russian and English.
    Demo(demo::DemoArgs),
    /// Serve the desk to staff over SSH (until SIGTERM).
    Serve(serve::ServeArgs),
    /// The desk's keys with the config file's rebindings: action names for `[keys]`.
    Keymap,
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            config_file: self.config.clone(),
            database_url: self.database_url.clone(),
            key_store_url: self.key_store_url.clone(),
            master_key_file: self.master_key_file.clone(),
            language: self.lang,
        }
    }

    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.overrides(), &ProcessEnv)?)
    }
}

/// The production calendar: the configured file, or the one built in.
pub fn load_calendar(config: &Config) -> anyhow::Result<Calendar> {
    match &config.calendar_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the calendar file {}", path.display()))?;
            Ok(Calendar::parse(&text, &path.display().to_string())?)
        }
        None => Ok(Calendar::embedded()?),
    }
}

/// Bad usage found after the arguments were parsed (a malformed date, an unknown
/// language): reported like any error, with exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// An error that is the user's usage, not a failed operation.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// The exit code of a failed run: 2 for bad usage, 1 for a refused or failed operation.
pub fn exit_code_of(e: &anyhow::Error) -> u8 {
    if e.chain().any(<dyn std::error::Error>::is::<UsageError>) {
        2
    } else {
        1
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        // Output piped into `head` that stopped reading: nothing went wrong.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "privdesk: {e:#}");
            ExitCode::from(exit_code_of(&e))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.global.config()?;
    let needs_logs = !matches!(cli.command, Some(Command::Calendar(_) | Command::Keymap));
    let _logs = needs_logs.then(|| common::start_logging(&config)).flatten();
    let mut out = std::io::stdout().lock();
    let ok = |ok: bool| {
        if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    };
    match cli.command {
        Some(Command::Init) => {
            init::run(&config, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Staff(cmd)) => {
            staff::run(&config, cmd, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Keys(cmd)) => Ok(ok(keys::run(&config, &cmd, &mut out)?)),
        Some(Command::Audit(cmd)) => Ok(ok(audit::run(&config, cmd, &mut out)?)),
        Some(Command::Import(cmd)) => Ok(ok(import::run(&config, &cmd, &mut out)?)),
        Some(Command::Demo(args)) => {
            demo::run(&config, &args, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Calendar(args)) => {
            let cal = load_calendar(&config)?;
            calendar::run(&args, &cal, &config.time_zone, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Serve(args)) => {
            serve::run(&config, &args, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Keymap) => {
            tui::print_keymap(&config, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Tui) | None => {
            drop(out);
            tui::run(&config)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
