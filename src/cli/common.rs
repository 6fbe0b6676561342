//! What every subcommand that opens the desk shares: the runtime, logging, the desk, the
//! shell actor, password prompts.

use std::io::{IsTerminal as _, Read as _};

use anyhow::Context as _;

use crate::config::Config;
use crate::desk::Desk;
use crate::domain::personal::Secret;
use crate::domain::staff::Actor;
use crate::logging::LogGuard;

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Starts logging to the state directory; a failure is reported and the command goes on.
pub fn start_logging(config: &Config) -> Option<LogGuard> {
    match crate::logging::init(&config.log.dir, &config.log.filter) {
        Ok(g) => Some(g),
        Err(e) => {
            eprintln!("privdesk: warning: logging is off: {e:#}");
            None
        }
    }
}

/// The command line acts as the operating-system user, with the source "cli".
pub fn shell_actor() -> Actor {
    let user = whoami::username().unwrap_or_else(|_| "unknown".to_owned());
    Actor::shell(user)
}

pub async fn open_desk(config: &Config) -> anyhow::Result<Desk> {
    let calendar = super::load_calendar(config)?;
    Ok(Desk::open(config, calendar).await?)
}

/// Reads a password: from standard input when asked (`--password-stdin`, one line), else
/// from the terminal without echo, twice when `confirm`.
pub fn read_password(
    from_stdin: bool,
    prompt: &str,
    confirm: bool,
) -> anyhow::Result<Secret<String>> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the password from standard input")?;
        let line = s.lines().next().unwrap_or("").to_owned();
        s.clear();
        return Ok(Secret::new(line));
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no terminal to ask for the password: pass --password-stdin and pipe it in");
    }
    let first =
        Secret::new(rpassword::prompt_password(prompt).context("cannot read the password")?);
    if confirm {
        let second =
            Secret::new(rpassword::prompt_password("Again: ").context("cannot read the password")?);
        if first.expose() != second.expose() {
            anyhow::bail!("the two passwords differ; nothing was changed");
        }
    }
    Ok(first)
}
