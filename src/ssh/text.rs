//! The server's own messages, in the session's language (catalog keys `ssh-*`).

use std::time::Duration;

use crate::domain::staff::{Lang, Staff};
use crate::tui::Settings;
use crate::tui::i18n::{Arg, I18n};

/// The language a session's screen uses: `--lang`, else the member's own, else the
/// client's locale, else the configuration's (the same order as the App's).
pub fn lang_for(settings: &Settings, staff: Option<&Staff>) -> Lang {
    settings
        .lang_override
        .or(staff.and_then(|s| s.lang))
        .or(settings.locale)
        .or(settings.default_lang)
        .unwrap_or_default()
}

/// Why the server closed a desk session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    Shutdown,
    Idle,
    Lifetime,
    /// Disabled, role changed or key removed.
    Revoked,
}

impl Closing {
    pub fn name(self) -> &'static str {
        match self {
            Closing::Shutdown => "shutdown",
            Closing::Idle => "idle",
            Closing::Lifetime => "lifetime",
            Closing::Revoked => "revoked",
        }
    }

    pub fn message(
        self,
        i18n: &I18n,
        lang: Lang,
        idle_disconnect: Duration,
        max_lifetime: Duration,
    ) -> String {
        match self {
            Closing::Shutdown => i18n.tr(lang, "ssh-shutdown", &[]),
            Closing::Idle => i18n.tr(
                lang,
                "ssh-idle",
                &[("span", Arg::Str(&i18n.span(lang, idle_disconnect)))],
            ),
            Closing::Lifetime => i18n.tr(
                lang,
                "ssh-lifetime",
                &[("span", Arg::Str(&i18n.span(lang, max_lifetime)))],
            ),
            Closing::Revoked => i18n.tr(lang, "session-ended", &[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_both_languages() {
        let i18n = I18n::new().unwrap();
        for lang in [Lang::En, Lang::Ru] {
            for c in [
                Closing::Shutdown,
                Closing::Idle,
                Closing::Lifetime,
                Closing::Revoked,
            ] {
                let m = c.message(
                    &i18n,
                    lang,
                    Duration::from_hours(1),
                    Duration::from_hours(12),
                );
                assert!(!m.starts_with("ssh-") && !m.is_empty(), "{m}");
            }
            let idle =
                Closing::Idle.message(&i18n, lang, Duration::from_secs(90), Duration::from_mins(4));
            let life = Closing::Lifetime.message(
                &i18n,
                lang,
                Duration::from_secs(90),
                Duration::from_mins(4),
            );
            let (m90, m4) = match lang {
                Lang::En => ("1 min 30 s", "(4 min)"),
                Lang::Ru => ("1 мин 30 с", "(4 мин)"),
            };
            assert!(idle.contains(m90), "{idle}");
            assert!(life.contains(m4), "{life}");
            for key in [
                "ssh-full",
                "ssh-no-pty",
                "ssh-no-exec",
                "ssh-no-subsystem",
                "ssh-unavailable",
                "ssh-error",
            ] {
                assert!(I18n::keys(lang).iter().any(|k| k == key), "{lang}: {key}");
            }
        }
    }
}
