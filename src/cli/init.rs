//! `privdesk init`: the master key, the key store, the database.

use std::io::Write;

use crate::config::Config;
use crate::desk::Desk;

use super::common::{runtime, shell_actor};

pub fn run(config: &Config, out: &mut dyn Write) -> anyhow::Result<()> {
    let rt = runtime()?;
    rt.block_on(async {
        let cal = super::load_calendar(config)?;
        let report = Desk::init(config, cal, &shell_actor(), false).await?;
        if let Some(path) = &report.key_file_created {
            writeln!(out, "created the master key file {} (mode 0600)", path.display())?;
            writeln!(
                out,
                "  Back it up now, offline and apart from the database: losing it loses every client's personal data."
            )?;
        }
        writeln!(out, "master key:  {}", report.key_source)?;
        writeln!(out, "key store:   {}", crate::store::redact_url(&config.key_store_url))?;
        writeln!(out, "database:    {}", crate::store::redact_url(&config.database_url))?;
        if report.already_initialised {
            writeln!(out, "This desk was already initialised; its schema is up to date.")?;
        } else {
            writeln!(out, "The desk is ready. Add staff with `privdesk staff add LOGIN --role ROLE`.")?;
        }
        report.desk.store().close().await;
        Ok(())
    })
}
