//! `privdesk keys …`: master key rotation and verification.

use std::io::Write;

use anyhow::Context as _;
use clap::Subcommand;

use crate::config::Config;
use crate::crypto::{MasterKeySource, load_key_file, write_key_file_atomically};

use super::common::{open_desk, runtime, shell_actor};

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Re-wrap every data key and the index key under a new master key. Resumable: run it
    /// again after an interruption. See the README for a rolling rotation across hosts.
    Rotate {
        /// Keep the old master key in the key file after re-wrapping (for a rolling
        /// rotation: remove it later with `keys rotate --finish`).
        #[arg(long)]
        keep_old: bool,
        /// Only remove retired master keys from the key file, once nothing needs them.
        #[arg(long, conflicts_with = "keep_old")]
        finish: bool,
    },
    /// Open every wrapped key and report any that fail.
    Verify,
}

pub fn run(config: &Config, cmd: &KeysCmd, out: &mut dyn Write) -> anyhow::Result<bool> {
    let rt = runtime()?;
    rt.block_on(async {
        match cmd {
            KeysCmd::Verify => verify(config, out).await,
            &KeysCmd::Rotate { keep_old, finish } => {
                rotate(config, keep_old, finish, out).await.map(|()| true)
            }
        }
    })
}

async fn verify(config: &Config, out: &mut dyn Write) -> anyhow::Result<bool> {
    let desk = open_desk(config).await?;
    let (checked, bad) = desk.keys().verify_all().await?;
    for (master, n) in desk.keys().keystore().count_by_master().await? {
        writeln!(out, "master key {master}: {n} wrapped keys")?;
    }
    for (owner, why) in &bad {
        writeln!(out, "FAILED {owner:?}: {why}")?;
    }
    writeln!(out, "{checked} keys checked, {} failed", bad.len())?;
    let audit = desk
        .audit(&shell_actor(), "keys.verify")
        .detail(format!("checked={checked} failed={}", bad.len()));
    desk.commit(vec![], audit).await?;
    desk.store().close().await;
    Ok(bad.is_empty())
}

async fn rotate(
    config: &Config,
    keep_old: bool,
    finish: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let desk = open_desk(config).await?;
    let MasterKeySource::File(path) = desk.keys().source() else {
        anyhow::bail!(
            "key rotation rewrites the master key file, but this desk's key comes from {}; rotate with a key file",
            desk.keys().source().describe()
        );
    };
    let path = path.clone();
    let mut set = load_key_file(&path)?;
    let actor = shell_actor();
    if finish {
        return finish_rotation(&desk, &path, &mut set, out).await;
    }
    if set.retired().is_empty() {
        let old = set.primary().id().to_owned();
        let new = set.add_new_primary();
        write_key_file_atomically(&path, &set)?;
        writeln!(
            out,
            "new master key {new}; {old} retired (still in {} until the rotation ends)",
            path.display()
        )?;
        desk.commit(
            vec![],
            desk.audit(&actor, "keys.rotate.begin")
                .detail(format!("new={new} old={old}")),
        )
        .await?;
    } else {
        writeln!(
            out,
            "resuming the rotation to master key {}",
            set.primary().id()
        )?;
    }
    desk.keys().reload_master()?;
    let done = desk
        .keys()
        .rewrap_all(&|n| {
            if n % 1000 == 0 {
                eprint!("\rre-wrapped {n} keys");
            }
        })
        .await
        .context("the rotation stopped; run `privdesk keys rotate` again to resume (every key still opens)")?;
    eprintln!();
    writeln!(out, "re-wrapped {done} keys under {}", set.primary().id())?;
    desk.commit(
        vec![],
        desk.audit(&actor, "keys.rotate.rewrap")
            .detail(format!("rewrapped={done}")),
    )
    .await?;
    if keep_old {
        writeln!(
            out,
            "the old key stays in the key file; run `privdesk keys rotate --finish` once every host reloaded"
        )?;
        desk.store().close().await;
        return Ok(());
    }
    finish_rotation(&desk, &path, &mut set, out).await
}

async fn finish_rotation(
    desk: &crate::desk::Desk,
    path: &std::path::Path,
    set: &mut crate::crypto::MasterKeySet,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let primary = set.primary().id().to_owned();
    let pending: u64 = desk
        .keys()
        .keystore()
        .count_by_master()
        .await?
        .into_iter()
        .filter(|(m, _)| *m != primary)
        .map(|(_, n)| n)
        .sum();
    if pending > 0 {
        anyhow::bail!(
            "{pending} keys are still wrapped by a retired master key (a host that had not reloaded created them?); \
             run `privdesk keys rotate` again first"
        );
    }
    let removed = set.retire_all_but_primary();
    write_key_file_atomically(path, set)?;
    for id in &removed {
        writeln!(
            out,
            "removed retired master key {id} from {}",
            path.display()
        )?;
    }
    writeln!(out, "rotation complete: every key is wrapped by {primary}")?;
    let audit = desk
        .audit(&shell_actor(), "keys.rotate.finish")
        .detail(format!("primary={primary} removed={}", removed.join(",")));
    desk.commit(vec![], audit).await?;
    desk.store().close().await;
    Ok(())
}
