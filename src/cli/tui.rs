//! `privdesk` / `privdesk tui`: the desk in this terminal.

use std::sync::Arc;

use crate::config::Config;
use crate::domain::staff::{Lang, Source};
use crate::tui::Settings;
use crate::tui::keymap::KeyMap;
use crate::tui::theme::Theme;

use super::common::{open_desk, runtime};

/// The language of the terminal's locale (`LC_ALL`, `LC_MESSAGES`, `LANG`).
pub fn locale_lang(var: &dyn Fn(&str) -> Option<String>) -> Option<Lang> {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|v| var(v).filter(|s| !s.is_empty()))
        .and_then(|l| Lang::from_locale(&l))
}

/// The screen settings from the configuration and the environment.
/// Prints every action by where it works, with its keys after the config's `[keys]`.
pub fn print_keymap(config: &Config, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let keymap = keymap(config)?;
    writeln!(
        out,
        "Keys of the desk{}. Rebind in the config file: [keys] ACTION = [\"KEY\", ...]",
        config
            .source
            .as_ref()
            .map_or_else(String::new, |p| format!(" (with {})", p.display()))
    )?;
    for mode in crate::tui::keymap::Mode::ALL {
        let mut place = mode.describe().to_owned();
        if let Some(first) = place.get(..1) {
            place.replace_range(..1, &first.to_uppercase());
        }
        writeln!(out, "\n{place}:")?;
        for b in keymap.bindings().iter().filter(|b| b.mode == mode) {
            let keys: Vec<String> = b.keys.iter().map(ToString::to_string).collect();
            writeln!(out, "  {:<20} {}", b.action.name(), keys.join(", "))?;
        }
    }
    Ok(())
}

fn keymap(config: &Config) -> anyhow::Result<KeyMap> {
    KeyMap::with_overrides(&config.keys).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}",
            config
                .source
                .as_ref()
                .map_or_else(|| "config".to_owned(), |p| p.display().to_string())
        )
    })
}

pub fn settings(
    config: &Config,
    source: Source,
    locale: Option<Lang>,
    no_color: Option<&str>,
) -> anyhow::Result<Settings> {
    let keymap = keymap(config)?;
    Ok(Settings {
        lang_override: config.language_override,
        locale,
        default_lang: config.language,
        idle_lock: config.session.idle_lock.unsigned_abs(),
        source,
        keymap,
        theme: Theme::from_env(no_color),
        paste_limit: 20_000,
        reveal_ttl: config.limits.reveal_ttl.unsigned_abs(),
    })
}

pub fn run(config: &Config) -> anyhow::Result<()> {
    use std::io::IsTerminal as _;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        anyhow::bail!(
            "privdesk draws the desk in a terminal, and this is not one: run it in a terminal \
             (staff connect with `privdesk serve` and SSH); for the command line see `privdesk --help`"
        );
    }
    let env = |k: &str| std::env::var(k).ok();
    let settings = settings(
        config,
        Source::Local,
        locale_lang(&env),
        std::env::var("NO_COLOR").ok().as_deref(),
    )?;
    let rt = runtime()?;
    rt.block_on(async {
        let desk = Arc::new(open_desk(config).await?);
        desk.reload_master_key_on_sighup();
        crate::tui::local::run(desk.clone(), settings).await?;
        desk.store().close().await;
        Ok(())
    })
}
