//! `privdesk calendar`: show the production calendar of a year, or compute a due date.
//!
//! - `privdesk calendar [YEAR]` lists the year's exception days (non-working weekdays,
//!   working weekend days, shortened pre-holiday days) month by month with the number of
//!   working days, then the year's totals. A provisional year is announced first.
//! - `privdesk calendar due RECEIVED N` prints when a request received at RECEIVED is due,
//!   N working days later (or by a rule such as `24h`), in the provider's time zone.
//!
//! Output is plain text.

use std::io::Write;

use anyhow::{Context, Result};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use crate::domain::calendar::{Calendar, Clock, DayKind, ExceptionDay, YearInfo, weekday_name};

/// Show the production calendar of a year, or when a request is due.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CalendarArgs {
    #[command(subcommand)]
    pub command: Option<CalendarCmd>,
    /// The year to show (default: the current year in the provider's time zone)
    #[arg(value_name = "YEAR")]
    pub year: Option<i16>,
}

/// Subcommands of `privdesk calendar`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CalendarCmd {
    /// Print when a request received at RECEIVED is due
    Due {
        /// When the request was received: a date (2026-01-05), a date and time in the
        /// provider's time zone (2026-01-05T10:00), or an instant with an offset
        /// (2026-01-05T10:00:00+03:00, 2026-01-05T07:00:00Z)
        #[arg(value_name = "RECEIVED")]
        received: String,
        /// The deadline: a number of working days (10), or a rule such as "3 working days",
        /// "24h" or "72 hours"
        #[arg(value_name = "N")]
        rule: String,
    },
}

/// Runs `privdesk calendar` with the given calendar and provider time zone, writing to `out`.
pub fn run(
    args: &CalendarArgs,
    calendar: &Calendar,
    tz: &TimeZone,
    out: &mut dyn Write,
) -> Result<()> {
    match &args.command {
        Some(CalendarCmd::Due { received, rule }) => print_due(calendar, tz, received, rule, out),
        None => {
            let year = match args.year {
                Some(year) => year,
                None => Calendar::civil_date(Timestamp::now(), tz).year(),
            };
            print_year(calendar, year, out)
        }
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn warn_provisional(info: &YearInfo, out: &mut dyn Write) -> Result<()> {
    if info.provisional {
        let note = info
            .note
            .as_deref()
            .unwrap_or("no decree on day-off transfers yet");
        writeln!(
            out,
            "warning: the {} calendar is provisional: {note}",
            info.year
        )?;
    }
    Ok(())
}

fn kind_label(day: &ExceptionDay) -> String {
    if day.kind == DayKind::Working && day.short {
        "working, short".to_owned()
    } else {
        day.kind.to_string()
    }
}

fn print_year(calendar: &Calendar, year: i16, out: &mut dyn Write) -> Result<()> {
    let info = calendar.year_info(year)?;
    warn_provisional(info, out)?;
    writeln!(
        out,
        "Production calendar of Russia, {year} (five-day week, Saturday and Sunday off)"
    )?;
    writeln!(out, "source: {}", info.source)?;
    if !info.provisional
        && let Some(note) = &info.note
    {
        writeln!(out, "note: {note}")?;
    }
    let width = info
        .days
        .iter()
        .map(|day| kind_label(day).len())
        .max()
        .unwrap_or(0);
    let mut total = 0;
    for (month, name) in (1_i8..).zip(MONTHS) {
        let count = calendar.working_days_in_month(year, month)?;
        total += count;
        writeln!(out)?;
        writeln!(out, "{name} {year}: {count} working days")?;
        for day in info.days.iter().filter(|day| day.date.month() == month) {
            writeln!(
                out,
                "  {} {}  {:<width$}  {} [{}]",
                day.date,
                weekday_name(day.date.weekday()),
                kind_label(day),
                day.name,
                day.source,
            )?;
        }
    }
    let days_in_year = u32::try_from(Date::new(year, 1, 1)?.days_in_year())?;
    let short = info.days.iter().filter(|day| day.is_shortened()).count();
    writeln!(out)?;
    writeln!(
        out,
        "{year}: {total} working days ({short} of them shortened by one hour before a \
         holiday), {} days off, {days_in_year} days",
        days_in_year - total,
    )?;
    Ok(())
}

/// A receipt as given on the command line: the instant, and whether only a date was given.
fn parse_received(text: &str, tz: &TimeZone) -> Result<(Timestamp, bool)> {
    let text = text.trim();
    if let Ok(instant) = text.parse::<Timestamp>() {
        return Ok((instant, false));
    }
    let has_time = text.contains(['T', 't', ' ']);
    if !has_time && let Ok(date) = text.parse::<Date>() {
        return Ok((tz.to_timestamp(date.at(0, 0, 0, 0))?, true));
    }
    if let Ok(datetime) = text.parse::<DateTime>() {
        return Ok((tz.to_timestamp(datetime)?, false));
    }
    Err(super::usage(format!(
        "invalid receipt time `{text}`: expected a date (2026-01-05), a date and time in the \
         provider's time zone (2026-01-05T10:00) or an instant with an offset \
         (2026-01-05T10:00:00+03:00)"
    )))
}

fn parse_rule(text: &str) -> Result<Clock> {
    if let Ok(n) = text.trim().parse::<u32>() {
        if n == 0 {
            return Err(super::usage(format!(
                "invalid deadline `{text}`: the number of working days must be at least 1"
            )));
        }
        return Ok(Clock::WorkingDays(n));
    }
    text.parse::<Clock>()
        .map_err(|e| super::usage(e.to_string()))
}

fn show(instant: Timestamp, tz: &TimeZone) -> String {
    instant
        .to_zoned_datetime(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

fn print_due(
    calendar: &Calendar,
    tz: &TimeZone,
    received: &str,
    rule: &str,
    out: &mut dyn Write,
) -> Result<()> {
    let (received, date_only) = parse_received(received, tz)?;
    let clock = parse_rule(rule)?;
    let due = clock.due(calendar, received, tz)?;
    let received_date = Calendar::civil_date(received, tz);
    if let Clock::WorkingDays(_) = clock {
        let due_date = Calendar::civil_date(due, tz);
        for year in calendar.provisional_years_between(received_date, due_date) {
            warn_provisional(calendar.year_info(year)?, out)?;
        }
    }
    let zone = tz.iana_name().unwrap_or("the provider's zone");
    let since = if date_only {
        received_date.to_string()
    } else {
        show(received, tz)
    };
    writeln!(out, "due {} ({zone}), {clock} after {since}", show(due, tz))
        .context("cannot write the due date")?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Top {
        Calendar(CalendarArgs),
    }

    fn args(argv: &[&str]) -> CalendarArgs {
        let cli = Cli::try_parse_from(std::iter::once("privdesk").chain(argv.iter().copied()))
            .expect("valid arguments");
        let Top::Calendar(args) = cli.command;
        args
    }

    fn output(argv: &[&str]) -> Result<String> {
        let calendar = Calendar::embedded()?;
        let tz = Calendar::default_zone()?;
        let mut out = Vec::new();
        run(&args(argv), &calendar, &tz, &mut out)?;
        Ok(String::from_utf8(out)?)
    }

    #[test]
    fn shows_a_year_month_by_month() {
        let text = output(&["calendar", "2025"]).expect("2025 is covered");
        assert!(!text.contains("warning"), "{text}");
        assert!(
            text.starts_with("Production calendar of Russia, 2025"),
            "{text}"
        );
        assert!(text.contains("source: Постановление Правительства РФ от 04.10.2024 № 1335"));
        assert!(text.contains("\nJanuary 2025: 17 working days\n"), "{text}");
        assert!(
            text.contains("\nNovember 2025: 19 working days\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "  2025-01-01 Wed  holiday         New Year holidays [ТК РФ ст. 112 ч. 1]\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  2025-11-01 Sat  working, short  Working day"),
            "{text}"
        );
        assert!(
            text.contains("  2025-11-03 Mon  day-off         Day off moved from Sat 2025-11-01")
        );
        assert!(text.ends_with(
            "\n2025: 247 working days (4 of them shortened by one hour before a holiday), 118 \
             days off, 365 days\n"
        ));
        assert!(!text.contains('\u{1b}'), "no colour codes");
    }

    #[test]
    fn warns_about_a_provisional_year_first() {
        let text = output(&["calendar", "2028"]).expect("2028 is covered");
        assert!(
            text.starts_with("warning: the 2028 calendar is provisional: "),
            "{text}"
        );
        assert!(text.contains("  2028-11-06 Mon  day-off"), "{text}");
    }

    #[test]
    fn a_year_not_covered_says_which_are() {
        let err = output(&["calendar", "2031"]).expect_err("not covered");
        assert_eq!(
            err.to_string(),
            "the production calendar does not cover 2031 (it covers 2024-2028 (2028 provisional))"
        );
    }

    #[test]
    fn prints_a_due_date() {
        let text = output(&["calendar", "due", "2026-01-05", "10"]).expect("covered");
        assert_eq!(
            text,
            "due 2026-01-23 23:59:59 MSK (Europe/Moscow), 10 working days after 2026-01-05\n"
        );
        // 21:30 UTC on Friday 31 Oct 2025 is already Saturday 1 Nov in Moscow.
        let text = output(&["calendar", "due", "2025-10-31T21:30:00Z", "1"]).expect("covered");
        assert_eq!(
            text,
            "due 2025-11-05 23:59:59 MSK (Europe/Moscow), 1 working day after 2025-11-01 \
             00:30:00 MSK\n"
        );
        let text = output(&["calendar", "due", "2025-12-31T23:30", "24h"]).expect("covered");
        assert_eq!(
            text,
            "due 2026-01-01 23:30:00 MSK (Europe/Moscow), 24 hours after 2025-12-31 23:30:00 MSK\n"
        );
    }

    #[test]
    fn a_due_date_in_a_provisional_year_is_warned_about() {
        let text = output(&["calendar", "due", "2027-12-27", "10 working days"]).expect("covered");
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default();
        assert!(
            first.starts_with("warning: the 2028 calendar is provisional: "),
            "{text}"
        );
        assert_eq!(
            lines.next(),
            Some("due 2028-01-18 23:59:59 MSK (Europe/Moscow), 10 working days after 2027-12-27")
        );
    }

    #[test]
    fn bad_due_arguments_are_explained() {
        let err = output(&["calendar", "due", "05.01.2026", "10"]).expect_err("bad date");
        assert!(
            err.to_string().contains("expected a date (2026-01-05)"),
            "{err}"
        );
        let err = output(&["calendar", "due", "2026-01-05", "ten"]).expect_err("bad rule");
        assert!(
            err.to_string()
                .contains("expected `N working days` or `N hours`"),
            "{err}"
        );
        let err = output(&["calendar", "due", "2031-01-05", "3"]).expect_err("not covered");
        assert!(err.to_string().contains("it covers 2024-2028"), "{err}");
    }
}
