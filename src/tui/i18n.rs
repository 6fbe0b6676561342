//! The desk's own text, from Fluent catalogs in `assets/i18n/` (English and Russian, with
//! Russian plural forms), and dates and times as each language writes them.
//!
//! Unicode isolation marks are turned off: they are bidi controls, and nothing bidi reaches
//! the terminal (arguments are sanitized text or numbers).

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::domain::staff::Lang;

const EN: &str = include_str!("../../assets/i18n/en.ftl");
const RU: &str = include_str!("../../assets/i18n/ru.ftl");

type Bundle = FluentBundle<FluentResource>;

pub struct I18n {
    en: Bundle,
    ru: Bundle,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("I18n")
    }
}

/// An argument to a message.
pub enum Arg<'a> {
    Str(&'a str),
    Num(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Str(s)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Num(n)
    }
}

impl From<u64> for Arg<'_> {
    fn from(n: u64) -> Self {
        Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<usize> for Arg<'_> {
    fn from(n: usize) -> Self {
        Arg::Num(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

fn bundle(lang: &str, text: &str) -> anyhow::Result<Bundle> {
    let id: unic_langid::LanguageIdentifier = lang.parse()?;
    let mut b = Bundle::new_concurrent(vec![id]);
    b.set_use_isolating(false);
    let res = FluentResource::try_new(text.to_owned())
        .map_err(|(_, errs)| anyhow::anyhow!("the {lang} catalog does not parse: {errs:?}"))?;
    b.add_resource(res)
        .map_err(|errs| anyhow::anyhow!("the {lang} catalog has duplicates: {errs:?}"))?;
    Ok(b)
}

impl I18n {
    pub fn new() -> anyhow::Result<I18n> {
        Ok(I18n {
            en: bundle("en", EN)?,
            ru: bundle("ru", RU)?,
        })
    }

    fn bundle(&self, lang: Lang) -> &Bundle {
        match lang {
            Lang::En => &self.en,
            Lang::Ru => &self.ru,
        }
    }

    /// The message `key` in `lang` (English if the Russian catalog lacks it; the key
    /// itself if both do, which a test forbids).
    pub fn tr(&self, lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        for b in [self.bundle(lang), &self.en] {
            if let Some(pattern) = b.get_message(key).and_then(|m| m.value()) {
                let mut fa = FluentArgs::new();
                for (name, value) in args {
                    match value {
                        Arg::Str(s) => fa.set(*name, FluentValue::from(*s)),
                        Arg::Num(n) => fa.set(*name, FluentValue::from(*n)),
                    }
                }
                let mut errors = vec![];
                let out = b.format_pattern(pattern, Some(&fa), &mut errors);
                return out.into_owned();
            }
        }
        key.to_owned()
    }

    /// Every message id of a catalog (tests compare the two).
    pub fn keys(lang: Lang) -> Vec<String> {
        let text = match lang {
            Lang::En => EN,
            Lang::Ru => RU,
        };
        text.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_owned()))
            .collect()
    }

    /// `25 Nov 14:05` / `25 нояб. 14:05`, in the provider's zone; the year when not this year.
    pub fn datetime(&self, lang: Lang, t: Timestamp, tz: &TimeZone, now: Timestamp) -> String {
        let z = t.to_zoned_datetime(tz.clone());
        let this_year = now.to_zoned_datetime(tz.clone()).year() == z.year();
        let months = self.tr(lang, "months-short", &[]);
        let month = months
            .split_whitespace()
            .nth(usize::try_from(z.month() - 1).unwrap_or(0))
            .unwrap_or("?");
        if this_year {
            format!("{} {} {:02}:{:02}", z.day(), month, z.hour(), z.minute())
        } else {
            format!(
                "{} {} {} {:02}:{:02}",
                z.day(),
                month,
                z.year(),
                z.hour(),
                z.minute()
            )
        }
    }

    /// The same for a list column: `3 h`, `−2 d`, `−5 дн.`.
    pub fn until_short(&self, lang: Lang, due: Timestamp, now: Timestamp) -> String {
        let secs = due.as_second() - now.as_second();
        let a = secs.unsigned_abs();
        let (unit, n) = if a >= 2 * 86_400 {
            ("days", a / 86_400)
        } else if a >= 3_600 {
            ("hours", a / 3_600)
        } else {
            ("minutes", (a / 60).max(1))
        };
        let amount = self.tr(lang, &format!("span-short-{unit}"), &[("n", n.into())]);
        if secs < 0 {
            format!("−{amount}")
        } else {
            amount
        }
    }

    /// A configured length, exactly: `90 s`, `4 min`, `1 h 30 min`, `2 дня 3 ч`.
    pub fn span(&self, lang: Lang, d: std::time::Duration) -> String {
        let s = d.as_secs();
        if s < 60 {
            return self.tr(lang, "span-seconds", &[("n", s.into())]);
        }
        let parts = [
            ("span-days", s / 86_400),
            ("span-hours", s % 86_400 / 3_600),
            ("span-minutes", s % 3_600 / 60),
            ("span-seconds", s % 60),
        ];
        parts
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(key, n)| self.tr(lang, key, &[("n", (*n).into())]))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Time to a deadline: `in 3 h`, `через 2 дня`, `overdue 5 min`, `просрочено на 1 день`.
    pub fn until(&self, lang: Lang, due: Timestamp, now: Timestamp) -> String {
        let secs = due.as_second() - now.as_second();
        let overdue = secs < 0;
        let a = secs.unsigned_abs();
        let (unit, n) = if a >= 2 * 86_400 {
            ("days", a / 86_400)
        } else if a >= 3_600 {
            ("hours", a / 3_600)
        } else {
            ("minutes", (a / 60).max(1))
        };
        let amount = self.tr(lang, &format!("span-{unit}"), &[("n", n.into())]);
        let key = if overdue {
            "deadline-overdue"
        } else {
            "deadline-in"
        };
        self.tr(lang, key, &[("span", Arg::Str(&amount))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_parse_and_hold_the_same_keys() {
        let i = I18n::new().unwrap();
        let en = I18n::keys(Lang::En);
        let ru = I18n::keys(Lang::Ru);
        assert!(en.len() > 50, "{}", en.len());
        for k in &en {
            assert!(ru.contains(k), "ru.ftl lacks {k}");
            assert_ne!(i.tr(Lang::Ru, k, &[]), *k);
        }
        for k in &ru {
            assert!(en.contains(k), "en.ftl lacks {k}");
        }
    }

    #[test]
    fn russian_plurals() {
        let i = I18n::new().unwrap();
        let days = |n: i64| i.tr(Lang::Ru, "span-days", &[("n", n.into())]);
        assert_eq!(days(1), "1 день");
        assert_eq!(days(2), "2 дня");
        assert_eq!(days(5), "5 дней");
        assert_eq!(days(21), "21 день");
        assert_eq!(days(22), "22 дня");
        assert_eq!(days(11), "11 дней");
        assert_eq!(i.tr(Lang::En, "span-days", &[("n", 1_i64.into())]), "1 day");
        assert_eq!(
            i.tr(Lang::En, "span-days", &[("n", 3_i64.into())]),
            "3 days"
        );
    }

    #[test]
    fn no_isolation_marks_reach_the_terminal() {
        let i = I18n::new().unwrap();
        let s = i.tr(Lang::En, "deadline-in", &[("span", Arg::Str("3 h"))]);
        assert!(
            !s.chars().any(|c| ('\u{2066}'..='\u{2069}').contains(&c)),
            "{s:?}"
        );
    }

    #[test]
    fn dates_follow_the_language() {
        let i = I18n::new().unwrap();
        let tz = TimeZone::get("Europe/Moscow").unwrap();
        let t: Timestamp = "2026-11-25T11:05:00Z".parse().unwrap();
        assert_eq!(i.datetime(Lang::En, t, &tz, t), "25 Nov 14:05");
        assert_eq!(i.datetime(Lang::Ru, t, &tz, t), "25 нояб. 14:05");
        let later: Timestamp = "2027-01-02T00:00:00Z".parse().unwrap();
        assert_eq!(i.datetime(Lang::En, t, &tz, later), "25 Nov 2026 14:05");
        assert_eq!(i.until(Lang::En, later, t), "in 37 days");
        assert_eq!(i.until(Lang::Ru, t, later), "просрочено на 37 дней");
        assert_eq!(i.until_short(Lang::Ru, t, later), "−37 дн.");
        assert_eq!(i.until_short(Lang::En, later, t), "37 d");
    }
}
