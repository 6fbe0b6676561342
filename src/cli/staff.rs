//! `privdesk staff …`: staff accounts, roles, languages, passwords, keys.

use std::io::{Read as _, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use crate::config::Config;
use crate::domain::staff::{Lang, Role};

use super::common::{open_desk, read_password, runtime, shell_actor};

#[derive(Debug, Subcommand)]
pub enum StaffCmd {
    /// Add a staff member (the password is asked without echo, twice).
    Add {
        login: String,
        /// agent, oncall, supervisor, auditor or admin.
        #[arg(long)]
        role: Role,
        /// The desk's language for this member: en or ru.
        #[arg(long)]
        lang: Option<Lang>,
        /// The name shown to colleagues (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List staff members.
    List,
    /// Change a member's role (their live sessions end).
    SetRole { login: String, role: Role },
    /// Set a member's language (en, ru, or none to follow the terminal).
    SetLang {
        login: String,
        #[arg(value_name = "LANG")]
        language: String,
    },
    /// Set a member's password.
    Passwd {
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable a member (their live sessions end).
    Disable { login: String },
    /// Enable a disabled member again.
    Enable { login: String },
    /// Clear a lock-out after failed logins.
    Unlock { login: String },
    /// Register an SSH public key (an OpenSSH .pub file, or - for standard input).
    AddKey { login: String, file: PathBuf },
    /// Remove an SSH key by its fingerprint (SHA256:…); the member's live sessions end.
    RemoveKey { login: String, fingerprint: String },
    /// List a member's SSH keys.
    Keys { login: String },
}

pub fn run(config: &Config, cmd: StaffCmd, out: &mut dyn Write) -> anyhow::Result<()> {
    // Ask for passwords before the runtime starts: prompts need the terminal.
    let password = match &cmd {
        StaffCmd::Add { password_stdin, .. } | StaffCmd::Passwd { password_stdin, .. } => {
            Some(read_password(*password_stdin, "Password: ", true)?)
        }
        _ => None,
    };
    let key_text = match &cmd {
        StaffCmd::AddKey { file, .. } => Some(read_key_file(file)?),
        _ => None,
    };
    let rt = runtime()?;
    rt.block_on(async {
        let desk = open_desk(config).await?;
        let actor = shell_actor();
        match cmd {
            StaffCmd::Add {
                login,
                role,
                lang,
                name,
                ..
            } => {
                let pw = password.context("no password")?;
                let s = desk
                    .add_staff(
                        &actor,
                        &login,
                        name.as_deref().unwrap_or(""),
                        role,
                        lang,
                        pw,
                    )
                    .await?;
                writeln!(out, "added {} ({})", s.login, s.role)?;
            }
            StaffCmd::List => list(&desk, &actor, out).await?,
            StaffCmd::SetRole { login, role } => {
                desk.set_role(&actor, &login, role).await?;
                writeln!(out, "{login} is now {role}")?;
            }
            StaffCmd::SetLang { login, language } => {
                let lang = match language.as_str() {
                    "none" | "" => None,
                    other => Some(
                        other
                            .parse::<Lang>()
                            .map_err(|e| super::usage(format!("{e}; or none")))?,
                    ),
                };
                desk.set_lang(&actor, &login, lang).await?;
                writeln!(
                    out,
                    "{login}: language {}",
                    lang.map_or("from the terminal", Lang::as_str)
                )?;
            }
            StaffCmd::Passwd { login, .. } => {
                desk.set_password(&actor, &login, password.context("no password")?)
                    .await?;
                writeln!(out, "{login}: password changed")?;
            }
            StaffCmd::Disable { login } => {
                desk.set_disabled(&actor, &login, true).await?;
                writeln!(out, "{login} is disabled; their sessions end")?;
            }
            StaffCmd::Enable { login } => {
                desk.set_disabled(&actor, &login, false).await?;
                writeln!(out, "{login} is enabled")?;
            }
            StaffCmd::Unlock { login } => {
                desk.unlock_staff(&actor, &login).await?;
                writeln!(out, "{login} is unlocked")?;
            }
            StaffCmd::AddKey { login, .. } => {
                let k = desk
                    .add_staff_key(&actor, &login, &key_text.unwrap_or_default())
                    .await?;
                writeln!(
                    out,
                    "{login}: added {} {} {}",
                    k.algorithm, k.fingerprint, k.comment
                )?;
            }
            StaffCmd::RemoveKey { login, fingerprint } => {
                desk.remove_staff_key(&actor, &login, &fingerprint).await?;
                writeln!(out, "{login}: removed {fingerprint}")?;
            }
            StaffCmd::Keys { login } => {
                for k in desk.staff_keys(&actor, &login).await? {
                    writeln!(
                        out,
                        "{}  {}  {}  added {}",
                        k.algorithm, k.fingerprint, k.comment, k.added_at
                    )?;
                }
            }
        }
        desk.store().close().await;
        Ok(())
    })
}

fn read_key_file(path: &PathBuf) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the key from standard input")?;
    } else {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read the key file {}", path.display()))?;
        if meta.len() > 64 * 1024 {
            anyhow::bail!("{} is too large to be a public key file", path.display());
        }
        text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the key file {} (is it a text .pub file?)",
                path.display()
            )
        })?;
    }
    Ok(text)
}

async fn list(
    desk: &crate::desk::Desk,
    actor: &crate::domain::staff::Actor,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let now = desk.now();
    let tz = desk.rules().tz.clone();
    writeln!(
        out,
        "{:<16} {:<11} {:<4} {:<24} {:>4}  {:<16}  NAME",
        "LOGIN", "ROLE", "LANG", "STATE", "KEYS", "LAST LOGIN"
    )?;
    for s in desk.list_staff(actor).await? {
        let state = if s.disabled {
            "disabled".to_owned()
        } else if let Some(until) = s.locked_until.filter(|u| *u > now) {
            format!(
                "locked until {}",
                until.to_zoned_datetime(tz.clone()).strftime("%m-%d %H:%M")
            )
        } else {
            "active".to_owned()
        };
        let last = s.last_login_at.map_or_else(
            || "never".to_owned(),
            |t| {
                t.to_zoned_datetime(tz.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            },
        );
        writeln!(
            out,
            "{:<16} {:<11} {:<4} {:<24} {:>4}  {:<16}  {}",
            s.login.as_str(),
            s.role.as_str(),
            s.lang.map_or("-", Lang::as_str),
            state,
            s.key_count,
            last,
            s.display_name
        )?;
    }
    Ok(())
}
