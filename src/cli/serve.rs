//! `privdesk serve`: the desk over SSH, until SIGTERM or Ctrl-C.

use std::io::Write;
use std::sync::Arc;

use clap::Args;

use crate::config::Config;
use crate::ssh::{Server, SessionEnv, SettingsFactory, Setup};
use crate::tui::i18n::I18n;

use super::common::{open_desk, runtime};

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The address to listen on (default: ssh.listen, 127.0.0.1:2222).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
}

pub fn run(config: &Config, args: &ServeArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    // A bad key binding fails now, not at the first login.
    super::tui::settings(config, crate::domain::staff::Source::Local, None, None)?;
    let rt = runtime()?;
    rt.block_on(async {
        let desk = Arc::new(open_desk(config).await?);
        // Change notices from other processes and hosts (LISTEN/NOTIFY on PostgreSQL).
        desk.store().watch_changes();
        // A rolling master-key rotation: re-read the key file on SIGHUP.
        desk.reload_master_key_on_sighup();
        let cfg = config.clone();
        let settings: SettingsFactory = Arc::new(move |env: &SessionEnv| {
            super::tui::settings(
                &cfg,
                env.source.clone(),
                env.locale,
                env.no_color.as_deref(),
            )
        });
        let listen = args
            .listen
            .clone()
            .unwrap_or_else(|| config.ssh.listen.clone());
        let server = Server::bind(Setup {
            desk: desk.clone(),
            i18n: Arc::new(I18n::new()?),
            listen,
            ssh: config.ssh.clone(),
            session: config.session.clone(),
            settings,
        })
        .await?;
        let (fingerprint, created) = server.host_key();
        if created {
            writeln!(
                out,
                "generated the SSH host key {} ({fingerprint})",
                config.ssh.host_key.display()
            )?;
        }
        writeln!(
            out,
            "privdesk serving staff over SSH on {}; host key {fingerprint}",
            server.local_addr()?
        )?;
        out.flush()?;
        tracing::info!(addr = %server.local_addr()?, host_key = %fingerprint, "ssh server started");
        server.run(stop_signal()).await?;
        desk.store().close().await;
        writeln!(out, "privdesk: stopped")?;
        Ok(())
    })
}

/// SIGTERM (systemd's stop) or SIGINT (Ctrl-C).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
