//! The Russian production calendar (working days) and deadline arithmetic.
//!
//! The calendar is data (`assets/calendar/ru.toml`, embedded at build time): for each
//! covered year, the *exception days* — weekdays that are not working days (public holidays,
//! transferred days off) and weekend days that are working days (by the government's
//! decree on day-off transfers), plus shortened pre-holiday days, which are informative only.
//! Every other Monday–Friday is a working day and every other Saturday and Sunday is not.
//!
//! Deadlines follow DOMAIN.md ("Deadlines"):
//! - "N working days after receipt": the instant of receipt is turned into a civil date in
//!   the provider's time zone; day 1 is the first working day *after* that date (even when
//!   the day of receipt is itself a working day); the request is due at the end of day N,
//!   23:59:59 in that zone.
//! - Hour clocks (24 h, 72 h, 1 h, 4 h) run in calendar time: `received + hours`.
//!
//! A date in a year the data does not cover is an error, never a guess. A year whose decree
//! is not yet published is marked provisional; callers warn when they use it
//! ([`Calendar::provisional_years_between`]).
//!
//! Nothing here reads a clock or a file: instants, zones and the TOML text are passed in.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The IANA name of the provider's default time zone.
pub const DEFAULT_ZONE: &str = "Europe/Moscow";

/// Where the embedded calendar data comes from (used as the origin in its errors).
pub const EMBEDDED_ORIGIN: &str = "assets/calendar/ru.toml";

const EMBEDDED: &str = include_str!("../../assets/calendar/ru.toml");

/// An error of the calendar: its data, a date it does not cover, or time arithmetic.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// The TOML text could not be read into the calendar's schema (syntax, unknown or missing
    /// key, wrong type). `near` is the text of the offending line, which names the key.
    #[error("{origin}:{line}:{column}: {message}{near}", near = near_text(near.as_deref()))]
    Syntax {
        origin: String,
        line: usize,
        column: usize,
        message: String,
        near: Option<String>,
    },
    /// The TOML text is well-formed but a value breaks a rule of the calendar.
    #[error("{origin}:{line}: `{key}`: {message}")]
    Invalid {
        origin: String,
        line: usize,
        key: String,
        message: String,
    },
    /// The date falls in a year the calendar has no data for.
    #[error("the production calendar does not cover {year} (it covers {covered})")]
    YearNotCovered { year: i16, covered: String },
    /// The time zone could not be loaded.
    #[error("time zone `{name}`: {source}")]
    TimeZone { name: String, source: jiff::Error },
    /// Date or time arithmetic went out of range.
    #[error("date arithmetic out of range: {0}")]
    Time(#[from] jiff::Error),
}

fn near_text(near: Option<&str>) -> String {
    match near {
        Some(text) => format!(" (near `{text}`)"),
        None => String::new(),
    }
}

/// What kind of exception a listed day is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DayKind {
    /// A non-working public holiday on a weekday (Labour Code art. 112 part 1).
    Holiday,
    /// A weekday made a day off by a transfer (art. 112 part 2, or the government's decree).
    DayOff,
    /// A Saturday or Sunday made a working day by the government's decree.
    Working,
    /// A weekday that stays a working day, one hour shorter before a holiday (art. 95).
    /// Informative only: it does not change deadline arithmetic.
    Short,
}

impl DayKind {
    /// The name used in the data file and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::DayOff => "day-off",
            DayKind::Working => "working",
            DayKind::Short => "short",
        }
    }

    /// Whether a day of this kind is a working day.
    pub fn is_working(self) -> bool {
        matches!(self, DayKind::Working | DayKind::Short)
    }
}

impl fmt::Display for DayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One exception day of the production calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionDay {
    pub date: Date,
    pub kind: DayKind,
    /// A working weekend day that is also one hour shorter (only with [`DayKind::Working`]).
    pub short: bool,
    pub name: String,
    /// The legal source of this day.
    pub source: String,
    /// For a transferred day off: the weekend day whose rest moved here.
    pub moved_from: Option<Date>,
}

impl ExceptionDay {
    /// Whether this day is a working day.
    pub fn is_working(&self) -> bool {
        self.kind.is_working()
    }

    /// Whether this day is a shortened pre-holiday working day.
    pub fn is_shortened(&self) -> bool {
        self.kind == DayKind::Short || self.short
    }
}

/// One covered year: its status, source and exception days (sorted by date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearInfo {
    pub year: i16,
    /// The government's decree for this year is not yet published: the data follows the
    /// Labour Code alone and may change.
    pub provisional: bool,
    /// The decree (or rule) the year's transfers follow.
    pub source: String,
    /// Why the year is provisional and what may change (always set when provisional).
    pub note: Option<String>,
    /// The exception days, sorted by date, each date once.
    pub days: Vec<ExceptionDay>,
}

impl YearInfo {
    /// The exception listed for `date`, if any.
    pub fn exception(&self, date: Date) -> Option<&ExceptionDay> {
        self.days
            .binary_search_by(|day| day.date.cmp(&date))
            .ok()
            .and_then(|i| self.days.get(i))
    }
}

/// How close a request is to its deadline, for queue lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Urgency {
    /// The due instant has passed.
    Overdue,
    /// Due no later than the end of the first working day after today (see
    /// [`Calendar::urgency`]).
    DueSoon,
    /// Due later than that.
    OnTrack,
}

/// Whether a request due at `due` is overdue at `now`.
///
/// Compared to the whole second: a request due at 23:59:59 is overdue from 00:00:00 the next
/// day, not during the last second of its day.
pub fn is_overdue(now: Timestamp, due: Timestamp) -> bool {
    now.as_second() > due.as_second()
}

/// The Russian production calendar for the covered years.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeMap<i16, YearInfo>,
}

impl Calendar {
    /// The calendar embedded in the binary (`assets/calendar/ru.toml`).
    pub fn embedded() -> Result<Calendar, CalendarError> {
        Calendar::parse(EMBEDDED, EMBEDDED_ORIGIN)
    }

    /// Parses calendar data in the schema documented at the top of `assets/calendar/ru.toml`.
    /// `origin` (a path, or a name) is quoted in errors, with the line and the key.
    pub fn parse(text: &str, origin: &str) -> Result<Calendar, CalendarError> {
        let raw: RawFile = toml::from_str(text).map_err(|err| {
            let (line, column) = err
                .span()
                .map_or((1, 1), |span| line_column(text, span.start));
            CalendarError::Syntax {
                origin: origin.to_owned(),
                line,
                column,
                message: err.message().trim().to_owned(),
                near: err.span().and_then(|span| line_text(text, span.start)),
            }
        })?;
        let ctx = Ctx { text, origin };
        if raw.year.is_empty() {
            return Err(ctx.invalid(0..0, "year", "the calendar lists no year"));
        }
        let mut years = BTreeMap::new();
        for raw_year in raw.year {
            let (info, span) = ctx.year(raw_year.into_inner())?;
            if years.contains_key(&info.year) {
                return Err(ctx.invalid(
                    span,
                    "year.year",
                    format!("year {} is listed twice", info.year),
                ));
            }
            years.insert(info.year, info);
        }
        Ok(Calendar { years })
    }

    /// The provider's default time zone ([`DEFAULT_ZONE`], Europe/Moscow).
    pub fn default_zone() -> Result<TimeZone, CalendarError> {
        TimeZone::get(DEFAULT_ZONE).map_err(|source| CalendarError::TimeZone {
            name: DEFAULT_ZONE.to_owned(),
            source,
        })
    }

    /// The covered years, in order.
    pub fn years(&self) -> impl Iterator<Item = i16> + '_ {
        self.years.keys().copied()
    }

    /// The covered years for people: `2024-2028 (2028 provisional)`.
    pub fn covered_description(&self) -> String {
        let mut ranges: Vec<(i16, i16)> = Vec::new();
        for year in self.years() {
            match ranges.last_mut() {
                Some((_, last)) if i32::from(*last) + 1 == i32::from(year) => *last = year,
                _ => ranges.push((year, year)),
            }
        }
        let mut text = ranges
            .iter()
            .map(|&(first, last)| {
                if first == last {
                    first.to_string()
                } else {
                    format!("{first}-{last}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let provisional: Vec<String> = self
            .years
            .values()
            .filter(|info| info.provisional)
            .map(|info| info.year.to_string())
            .collect();
        if !provisional.is_empty() {
            text = format!("{text} ({} provisional)", provisional.join(", "));
        }
        text
    }

    /// A covered year's status, source and exception days.
    pub fn year_info(&self, year: i16) -> Result<&YearInfo, CalendarError> {
        self.years
            .get(&year)
            .ok_or_else(|| CalendarError::YearNotCovered {
                year,
                covered: self.covered_description(),
            })
    }

    /// Whether `year` is covered and provisional.
    pub fn is_provisional(&self, year: i16) -> bool {
        self.years.get(&year).is_some_and(|info| info.provisional)
    }

    /// The provisional years among those from `from` to `to` (inclusive, either order), for
    /// a warning next to a deadline computed through them.
    pub fn provisional_years_between(&self, from: Date, to: Date) -> Vec<i16> {
        let (low, high) = if from <= to {
            (from.year(), to.year())
        } else {
            (to.year(), from.year())
        };
        self.years
            .range(low..=high)
            .filter(|(_, info)| info.provisional)
            .map(|(&year, _)| year)
            .collect()
    }

    /// The exception listed for `date`, if any; an error if its year is not covered.
    pub fn exception(&self, date: Date) -> Result<Option<&ExceptionDay>, CalendarError> {
        Ok(self.year_info(date.year())?.exception(date))
    }

    /// Whether `date` is a working day (five-day week). An error if its year is not covered.
    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        Ok(match self.exception(date)? {
            Some(day) => day.is_working(),
            None => !is_weekend(date.weekday()),
        })
    }

    /// The `n`-th working day after `date` (day 1 is the first working day after `date`,
    /// whether or not `date` is itself a working day). `n = 0` gives `date` itself.
    pub fn nth_working_day_after(&self, date: Date, n: u32) -> Result<Date, CalendarError> {
        let mut day = date;
        let mut counted = 0;
        while counted < n {
            day = day.tomorrow()?;
            if self.is_working_day(day)? {
                counted += 1;
            }
        }
        Ok(day)
    }

    /// The number of working days `d` with `from < d <= to` (0 when `to <= from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = day.tomorrow()?;
            if self.is_working_day(day)? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The number of working days in a month (`month` 1–12) of a covered year.
    pub fn working_days_in_month(&self, year: i16, month: i8) -> Result<u32, CalendarError> {
        let first = Date::new(year, month, 1)?;
        let before = first.yesterday()?;
        // Counting from the day before the 1st: that day's year need not be covered.
        let mut count = 0;
        let mut day = before;
        while day < first.last_of_month() {
            day = day.tomorrow()?;
            if self.is_working_day(day)? {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The number of working days in a covered year.
    pub fn working_days_in_year(&self, year: i16) -> Result<u32, CalendarError> {
        let mut total = 0;
        for month in 1..=12 {
            total += self.working_days_in_month(year, month)?;
        }
        Ok(total)
    }

    /// The civil date of `instant` in `tz`.
    pub fn civil_date(instant: Timestamp, tz: &TimeZone) -> Date {
        tz.to_datetime(instant).date()
    }

    /// The end of `date` in `tz`: the start of its last second, 23:59:59 (or, in a zone whose
    /// clocks jump over that time, the last whole second before the jump).
    pub fn end_of_day(date: Date, tz: &TimeZone) -> Result<Timestamp, CalendarError> {
        let last_instant = date
            .to_zoned_datetime(tz.clone())?
            .end_of_day()?
            .timestamp();
        Ok(Timestamp::from_second(last_instant.as_second())?)
    }

    /// The due instant of "`n` working days after receipt": the end (23:59:59 in `tz`) of the
    /// `n`-th working day after the civil date of `received` in `tz`.
    ///
    /// Applied to a due instant instead of a receipt, this is an extension by `n` working
    /// days (the new due date is the end of the `n`-th working day after the old one).
    pub fn due_after_working_days(
        &self,
        received: Timestamp,
        n: u32,
        tz: &TimeZone,
    ) -> Result<Timestamp, CalendarError> {
        let day = self.nth_working_day_after(Calendar::civil_date(received, tz), n)?;
        Calendar::end_of_day(day, tz)
    }

    /// Whether `due` falls no later than the due instant of an `n`-working-day clock started
    /// `now` (the end of the `n`-th working day after today's date in `tz`). Says nothing
    /// about whether `due` has already passed: see [`is_overdue`].
    pub fn within_working_days(
        &self,
        now: Timestamp,
        due: Timestamp,
        n: u32,
        tz: &TimeZone,
    ) -> Result<bool, CalendarError> {
        Ok(due <= self.due_after_working_days(now, n, tz)?)
    }

    /// How close a request due at `due` is to its deadline at `now`, for a queue list.
    ///
    /// - [`Urgency::Overdue`]: `now` is past `due` ([`is_overdue`]);
    /// - [`Urgency::DueSoon`] ("due within one working day"): `due` is no later than the end
    ///   of the first working day after today's date in `tz` — the deadline a one-working-day
    ///   clock started now would get. It covers everything due later today (working day or
    ///   not) and everything due by the end of the next working day, so on a Friday it
    ///   reaches to Monday night, and before a holiday period to its first working day.
    /// - [`Urgency::OnTrack`]: later than that.
    pub fn urgency(
        &self,
        now: Timestamp,
        due: Timestamp,
        tz: &TimeZone,
    ) -> Result<Urgency, CalendarError> {
        if is_overdue(now, due) {
            Ok(Urgency::Overdue)
        } else if self.within_working_days(now, due, 1, tz)? {
            Ok(Urgency::DueSoon)
        } else {
            Ok(Urgency::OnTrack)
        }
    }
}

fn is_weekend(weekday: Weekday) -> bool {
    matches!(weekday, Weekday::Saturday | Weekday::Sunday)
}

/// A deadline rule: a number of working days (production calendar) or of hours (calendar
/// time). Written in configuration as `"10 working days"`, `"1 working day"`, `"24h"` or
/// `"24 hours"` (case-insensitive); displayed as `10 working days`, `1 working day`,
/// `24 hours`, `1 hour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Clock {
    /// Due at the end of the N-th working day after the day of receipt.
    WorkingDays(u32),
    /// Due N hours after the instant of receipt, in calendar time.
    Hours(u32),
}

impl Clock {
    /// The due instant of a request received at `received`.
    pub fn due(
        &self,
        calendar: &Calendar,
        received: Timestamp,
        tz: &TimeZone,
    ) -> Result<Timestamp, CalendarError> {
        match *self {
            Clock::WorkingDays(n) => calendar.due_after_working_days(received, n, tz),
            Clock::Hours(hours) => {
                Ok(received.checked_add(SignedDuration::from_hours(i64::from(hours)))?)
            }
        }
    }
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Clock::WorkingDays(1) => f.write_str("1 working day"),
            Clock::WorkingDays(n) => write!(f, "{n} working days"),
            Clock::Hours(1) => f.write_str("1 hour"),
            Clock::Hours(n) => write!(f, "{n} hours"),
        }
    }
}

/// A deadline rule that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid deadline `{input}`: {reason}; expected `N working days` or `N hours` with N a \
     whole number from 1 (e.g. `10 working days`, `1 working day`, `24h`, `72 hours`)"
)]
pub struct ClockParseError {
    pub input: String,
    pub reason: &'static str,
}

impl FromStr for Clock {
    type Err = ClockParseError;

    fn from_str(input: &str) -> Result<Clock, ClockParseError> {
        let error = |reason| ClockParseError {
            input: input.to_owned(),
            reason,
        };
        let text = input.trim().to_lowercase();
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        if number.is_empty() {
            return Err(error("it does not start with a number"));
        }
        let n: u32 = number
            .parse()
            .map_err(|_| error("the number is too large"))?;
        if n == 0 {
            return Err(error("the number must be at least 1"));
        }
        let unit = unit.split_whitespace().collect::<Vec<_>>().join(" ");
        match unit.as_str() {
            "working day" | "working days" => Ok(Clock::WorkingDays(n)),
            "h" | "hour" | "hours" => Ok(Clock::Hours(n)),
            "" => Err(error("the unit is missing")),
            _ => Err(error("unknown unit")),
        }
    }
}

impl Serialize for Clock {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Clock {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Clock, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

// ---- The data file's schema, as read by serde before validation. ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    year: Vec<Spanned<RawYear>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i16>,
    provisional: bool,
    source: Spanned<String>,
    note: Option<Spanned<String>>,
    #[serde(default)]
    day: Vec<Spanned<RawDay>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDay {
    date: Spanned<toml::value::Datetime>,
    kind: Spanned<DayKind>,
    name: Spanned<String>,
    source: Spanned<String>,
    moved_from: Option<Spanned<toml::value::Datetime>>,
    short: Option<Spanned<bool>>,
}

struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Ctx<'_> {
    fn invalid(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> CalendarError {
        CalendarError::Invalid {
            origin: self.origin.to_owned(),
            line: line_column(self.text, span.start).0,
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn non_empty(&self, value: &Spanned<String>, key: &str) -> Result<String, CalendarError> {
        let text = value.get_ref().trim();
        if text.is_empty() {
            return Err(self.invalid(value.span(), key, "must not be empty"));
        }
        Ok(text.to_owned())
    }

    fn date(
        &self,
        value: &Spanned<toml::value::Datetime>,
        key: &str,
    ) -> Result<Date, CalendarError> {
        let datetime = value.get_ref();
        let expected = "expected a local date such as 2025-01-01, without a time or an offset";
        let (Some(date), None, None) = (datetime.date, datetime.time, datetime.offset) else {
            return Err(self.invalid(value.span(), key, expected));
        };
        let year =
            i16::try_from(date.year).map_err(|_| self.invalid(value.span(), key, expected))?;
        let month =
            i8::try_from(date.month).map_err(|_| self.invalid(value.span(), key, expected))?;
        let day = i8::try_from(date.day).map_err(|_| self.invalid(value.span(), key, expected))?;
        Date::new(year, month, day)
            .map_err(|err| self.invalid(value.span(), key, format!("not a date: {err}")))
    }

    fn year(&self, raw: RawYear) -> Result<(YearInfo, Range<usize>), CalendarError> {
        let span = raw.year.span();
        let year = *raw.year.get_ref();
        let source = self.non_empty(&raw.source, "year.source")?;
        let note = match &raw.note {
            Some(note) => Some(self.non_empty(note, "year.note")?),
            None => None,
        };
        if raw.provisional && note.is_none() {
            return Err(self.invalid(
                raw.year.span(),
                "year.note",
                format!("provisional year {year} needs a note saying why and what may change"),
            ));
        }
        let mut days: Vec<ExceptionDay> = Vec::with_capacity(raw.day.len());
        let mut spans: BTreeMap<Date, Range<usize>> = BTreeMap::new();
        for raw_day in raw.day {
            let raw_day = raw_day.into_inner();
            let date = self.date(&raw_day.date, "year.day.date")?;
            let date_span = raw_day.date.span();
            if date.year() != year {
                return Err(self.invalid(
                    date_span,
                    "year.day.date",
                    format!("{date} is not in year {year}"),
                ));
            }
            if spans.insert(date, date_span.clone()).is_some() {
                return Err(self.invalid(
                    date_span,
                    "year.day.date",
                    format!("{date} is listed twice"),
                ));
            }
            let kind = *raw_day.kind.get_ref();
            let weekend = is_weekend(date.weekday());
            let kind_error = match kind {
                DayKind::Holiday | DayKind::DayOff | DayKind::Short if weekend => {
                    Some("is on a weekend; only a weekday can be a `holiday`, `day-off` or `short`")
                }
                DayKind::Working if !weekend => {
                    Some("is a weekday; only a Saturday or a Sunday can be a `working` exception")
                }
                _ => None,
            };
            if let Some(problem) = kind_error {
                return Err(self.invalid(
                    raw_day.kind.span(),
                    "year.day.kind",
                    format!("{date} ({}) {problem}", weekday_name(date.weekday())),
                ));
            }
            let short = match &raw_day.short {
                Some(short) if kind != DayKind::Working => {
                    return Err(self.invalid(
                        short.span(),
                        "year.day.short",
                        "only a `working` day takes `short` (a weekday uses kind = \"short\")",
                    ));
                }
                Some(short) => *short.get_ref(),
                None => false,
            };
            let moved_from = match &raw_day.moved_from {
                Some(from) if kind != DayKind::DayOff => {
                    return Err(self.invalid(
                        from.span(),
                        "year.day.moved_from",
                        "only a `day-off` takes `moved_from`",
                    ));
                }
                Some(from) => Some(self.date(from, "year.day.moved_from")?),
                None => None,
            };
            days.push(ExceptionDay {
                date,
                kind,
                short,
                name: self.non_empty(&raw_day.name, "year.day.name")?,
                source: self.non_empty(&raw_day.source, "year.day.source")?,
                moved_from,
            });
        }
        days.sort_by_key(|day| day.date);
        let info = YearInfo {
            year,
            provisional: raw.provisional,
            source,
            note,
            days,
        };
        Ok((info, span))
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The trimmed text of the line holding byte `offset`, cut to 80 characters.
fn line_text(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let end = text
        .get(offset..)?
        .find('\n')
        .map_or(text.len(), |i| offset + i);
    let line = text.get(start..end)?.trim();
    if line.is_empty() {
        return None;
    }
    Some(line.chars().take(80).collect())
}

/// The English three-letter name of a weekday.
pub fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn calendar() -> Calendar {
        Calendar::embedded().expect("the embedded calendar parses")
    }

    fn moscow() -> TimeZone {
        Calendar::default_zone().expect("Europe/Moscow is bundled")
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().expect("a valid timestamp")
    }

    /// The due instant for `n` working days after `received`, as RFC 3339 in Moscow.
    fn due(received: &str, n: u32) -> String {
        let tz = moscow();
        let due = calendar()
            .due_after_working_days(ts(received), n, &tz)
            .expect("covered");
        due.display_with_offset(tz.to_offset(due)).to_string()
    }

    #[test]
    fn embedded_calendar_covers_2024_to_2028() {
        let cal = calendar();
        assert_eq!(
            cal.years().collect::<Vec<_>>(),
            vec![2024, 2025, 2026, 2027, 2028]
        );
        assert_eq!(cal.covered_description(), "2024-2028 (2028 provisional)");
        for year in 2024..=2027 {
            assert!(!cal.is_provisional(year), "{year}");
            assert!(cal.year_info(year).expect("covered").note.is_none());
        }
        assert!(cal.is_provisional(2028));
        assert!(!cal.is_provisional(2023));
        let info = cal.year_info(2028).expect("covered");
        assert!(info.note.as_deref().is_some_and(|n| n.contains("decree")));
        let y2025 = cal.year_info(2025).expect("covered");
        assert!(
            y2025.source.contains("04.10.2024 № 1335"),
            "{}",
            y2025.source
        );
        assert!(
            cal.year_info(2026)
                .expect("covered")
                .source
                .contains("24.09.2025 № 1466")
        );
        assert!(
            cal.year_info(2027)
                .expect("covered")
                .source
                .contains("17.09.2026 № 1187")
        );
        assert!(
            cal.year_info(2024)
                .expect("covered")
                .source
                .contains("10.08.2023 № 1314")
        );
        assert_eq!(
            cal.provisional_years_between(date(2027, 12, 20), date(2028, 1, 15)),
            vec![2028]
        );
        assert!(
            cal.provisional_years_between(date(2025, 1, 1), date(2027, 12, 31))
                .is_empty()
        );
    }

    #[test]
    fn every_exception_has_a_name_and_a_source() {
        let cal = calendar();
        for year in cal.years() {
            for day in &cal.year_info(year).expect("covered").days {
                assert!(!day.name.is_empty() && !day.source.is_empty(), "{day:?}");
                if day.kind == DayKind::DayOff {
                    assert!(day.moved_from.is_some(), "{day:?}");
                }
            }
        }
    }

    /// Non-working weekdays and working weekend days of 2025 and 2026, written out from the
    /// official production calendars (decrees No. 1335 of 04.10.2024 and No. 1466 of
    /// 24.09.2025, Labour Code art. 112), independently of the data file.
    #[rustfmt::skip]
    const OFF_WEEKDAYS_2025: &[(i8, i8)] = &[
        (1, 1), (1, 2), (1, 3), (1, 6), (1, 7), (1, 8),
        (5, 1), (5, 2), (5, 8), (5, 9),
        (6, 12), (6, 13),
        (11, 3), (11, 4),
        (12, 31),
    ];
    const WORKING_WEEKEND_2025: &[(i8, i8)] = &[(11, 1)];
    const MONTHS_2025: [u32; 12] = [17, 20, 21, 22, 18, 19, 23, 21, 22, 23, 19, 22];

    #[rustfmt::skip]
    const OFF_WEEKDAYS_2026: &[(i8, i8)] = &[
        (1, 1), (1, 2), (1, 5), (1, 6), (1, 7), (1, 8), (1, 9),
        (2, 23), (3, 9),
        (5, 1), (5, 11),
        (6, 12),
        (11, 4),
        (12, 31),
    ];
    const WORKING_WEEKEND_2026: &[(i8, i8)] = &[];
    const MONTHS_2026: [u32; 12] = [15, 19, 21, 22, 19, 21, 23, 21, 22, 22, 20, 22];

    fn check_year(year: i16, off: &[(i8, i8)], working: &[(i8, i8)], months: [u32; 12]) {
        let cal = calendar();
        let mut day = date(year, 1, 1);
        let mut per_month = [0_u32; 12];
        while day.year() == year {
            let md = (day.month(), day.day());
            let expected = if is_weekend(day.weekday()) {
                working.contains(&md)
            } else {
                !off.contains(&md)
            };
            let actual = cal.is_working_day(day).expect("covered");
            assert_eq!(actual, expected, "{day} ({:?})", day.weekday());
            if actual {
                let index = usize::try_from(day.month() - 1).expect("month 1-12");
                per_month[index] += 1;
            }
            day = day.tomorrow().expect("in range");
        }
        assert_eq!(per_month, months, "{year} per month");
        for (month, &count) in (1..=12).zip(months.iter()) {
            assert_eq!(
                cal.working_days_in_month(year, month).expect("covered"),
                count
            );
        }
    }

    #[test]
    fn every_day_of_2025_matches_the_official_calendar() {
        check_year(2025, OFF_WEEKDAYS_2025, WORKING_WEEKEND_2025, MONTHS_2025);
        assert_eq!(calendar().working_days_in_year(2025).expect("covered"), 247);
    }

    #[test]
    fn every_day_of_2026_matches_the_official_calendar() {
        check_year(2026, OFF_WEEKDAYS_2026, WORKING_WEEKEND_2026, MONTHS_2026);
        assert_eq!(calendar().working_days_in_year(2026).expect("covered"), 247);
    }

    #[test]
    fn yearly_totals_of_the_other_years() {
        let cal = calendar();
        assert_eq!(cal.working_days_in_year(2024).expect("covered"), 248);
        assert_eq!(cal.working_days_in_year(2027).expect("covered"), 247);
        // 2028 is provisional: no decree yet, so only the Labour Code transfers (Unity Day,
        // Saturday 4 November, moves to Monday 6 November).
        assert_eq!(cal.working_days_in_year(2028).expect("covered"), 249);
        assert!(!cal.is_working_day(date(2028, 11, 6)).expect("covered"));
        // 2027: Saturday 20 February works for Monday 22 February.
        assert!(cal.is_working_day(date(2027, 2, 20)).expect("covered"));
        assert!(!cal.is_working_day(date(2027, 2, 22)).expect("covered"));
        // 2024: three working Saturdays.
        for (m, d) in [(4, 27), (11, 2), (12, 28)] {
            assert!(cal.is_working_day(date(2024, m, d)).expect("covered"));
        }
    }

    #[test]
    fn short_days_stay_working_days() {
        let cal = calendar();
        let day = cal
            .exception(date(2025, 3, 7))
            .expect("covered")
            .expect("listed");
        assert_eq!(day.kind, DayKind::Short);
        assert!(day.is_shortened() && day.is_working());
        let saturday = cal
            .exception(date(2025, 11, 1))
            .expect("covered")
            .expect("listed");
        assert_eq!(saturday.kind, DayKind::Working);
        assert!(saturday.is_shortened());
        assert!(cal.is_working_day(date(2025, 3, 7)).expect("covered"));
    }

    #[test]
    fn ten_working_days_across_the_new_year_holidays() {
        // Tue 30 Dec 2025: Dec 31 and Jan 1-11 are days off, so day 1 is Mon 12 Jan 2026.
        assert_eq!(
            due("2025-12-30T10:00:00+03:00", 1),
            "2026-01-12T23:59:59+03:00"
        );
        assert_eq!(
            due("2025-12-30T10:00:00+03:00", 10),
            "2026-01-23T23:59:59+03:00"
        );
        let cal = calendar();
        assert_eq!(
            cal.nth_working_day_after(date(2025, 12, 30), 10)
                .expect("covered"),
            date(2026, 1, 23)
        );
        assert_eq!(
            cal.working_days_between(date(2025, 12, 30), date(2026, 1, 23))
                .expect("covered"),
            10
        );
    }

    #[test]
    fn the_working_saturday_counts_and_the_november_days_off_do_not() {
        // Fri 31 Oct 2025: day 1 is Sat 1 Nov (a working day); Sun 2, Mon 3 (day off) and
        // Tue 4 (Unity Day) do not count; day 2 is Wed 5 Nov.
        let received = "2025-10-31T12:00:00+03:00";
        assert_eq!(due(received, 1), "2025-11-01T23:59:59+03:00");
        assert_eq!(due(received, 2), "2025-11-05T23:59:59+03:00");
        assert_eq!(due(received, 3), "2025-11-06T23:59:59+03:00");
        assert_eq!(due(received, 10), "2025-11-17T23:59:59+03:00");
    }

    #[test]
    fn receipt_on_a_day_off() {
        // Sun 2 Nov 2025: day 1 is Wed 5 Nov.
        assert_eq!(
            due("2025-11-02T09:00:00+03:00", 1),
            "2025-11-05T23:59:59+03:00"
        );
        assert_eq!(
            due("2025-11-02T09:00:00+03:00", 7),
            "2025-11-13T23:59:59+03:00"
        );
        // Sun 8 Mar 2026 (a holiday on a Sunday; Mon 9 Mar is its day off): day 1 is Tue 10.
        assert_eq!(
            due("2026-03-08T09:00:00+03:00", 3),
            "2026-03-12T23:59:59+03:00"
        );
    }

    #[test]
    fn day_one_is_the_next_working_day_even_after_a_working_day() {
        // Mon 10 Nov 2025, a working day: day 1 is Tue 11 Nov.
        assert_eq!(
            due("2025-11-10T08:00:00+03:00", 1),
            "2025-11-11T23:59:59+03:00"
        );
        // n = 0: the end of the day of receipt.
        assert_eq!(
            due("2025-11-10T08:00:00+03:00", 0),
            "2025-11-10T23:59:59+03:00"
        );
    }

    #[test]
    fn the_day_of_receipt_is_the_date_in_the_providers_zone() {
        // 2025-10-31T21:30Z is 00:30 on Sat 1 Nov in Moscow (still Fri 31 Oct in UTC): the
        // day of receipt is Sat 1 Nov, so day 1 is Wed 5 Nov, not Sat 1 Nov.
        assert_eq!(due("2025-10-31T21:30:00Z", 1), "2025-11-05T23:59:59+03:00");
        // 20:59:59Z is 23:59:59 on Fri 31 Oct in Moscow: day 1 is Sat 1 Nov.
        assert_eq!(due("2025-10-31T20:59:59Z", 1), "2025-11-01T23:59:59+03:00");
        // 23:30 on Tue 30 Dec in Moscow (20:30Z): still 30 Dec.
        assert_eq!(
            due("2025-12-30T23:30:00+03:00", 1),
            "2026-01-12T23:59:59+03:00"
        );
        // 23:30 in UTC on 30 Dec is 02:30 on Wed 31 Dec in Moscow: same day 1 (Dec 31 is off).
        assert_eq!(due("2025-12-30T23:30:00Z", 1), "2026-01-12T23:59:59+03:00");
        // And in UTC the due instant is 20:59:59Z.
        let tz = moscow();
        let due = calendar()
            .due_after_working_days(ts("2025-12-30T23:30:00Z"), 10, &tz)
            .expect("covered");
        assert_eq!(due, ts("2026-01-23T20:59:59Z"));
        // Another zone: the date is taken in that zone.
        let utc = TimeZone::UTC;
        let due = calendar()
            .due_after_working_days(ts("2025-10-31T21:30:00Z"), 1, &utc)
            .expect("covered");
        assert_eq!(due, ts("2025-11-01T23:59:59Z"));
    }

    #[test]
    fn hour_clocks_run_in_calendar_time() {
        let cal = calendar();
        let tz = moscow();
        let at = |clock: Clock, received: &str| {
            let due = clock.due(&cal, ts(received), &tz).expect("in range");
            due.display_with_offset(tz.to_offset(due)).to_string()
        };
        // Across midnight, into the New Year holidays: holidays do not stop an hour clock.
        assert_eq!(
            at(Clock::Hours(1), "2025-12-31T23:30:00+03:00"),
            "2026-01-01T00:30:00+03:00"
        );
        assert_eq!(
            at(Clock::Hours(24), "2025-12-31T22:30:00+03:00"),
            "2026-01-01T22:30:00+03:00"
        );
        assert_eq!(
            at(Clock::Hours(72), "2025-10-31T15:00:00+03:00"),
            "2025-11-03T15:00:00+03:00"
        );
        assert_eq!(
            at(Clock::Hours(4), "2025-11-02T22:00:00+03:00"),
            "2025-11-03T02:00:00+03:00"
        );
        // No daylight saving time in Moscow: over the last Sunday of March and of October the
        // wall clock moves by exactly the hours added.
        assert_eq!(
            at(Clock::Hours(24), "2025-03-29T12:00:00+03:00"),
            "2025-03-30T12:00:00+03:00"
        );
        assert_eq!(
            at(Clock::Hours(24), "2025-10-25T12:00:00+03:00"),
            "2025-10-26T12:00:00+03:00"
        );
        // A working-day clock through the same type.
        assert_eq!(
            at(Clock::WorkingDays(1), "2025-10-31T15:00:00+03:00"),
            "2025-11-01T23:59:59+03:00"
        );
    }

    #[test]
    fn a_year_not_covered_is_an_error() {
        let cal = calendar();
        let err = cal
            .is_working_day(date(2023, 6, 1))
            .expect_err("2023 is not covered");
        assert!(
            matches!(err, CalendarError::YearNotCovered { year: 2023, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "the production calendar does not cover 2023 (it covers 2024-2028 (2028 provisional))"
        );
        let err = cal.year_info(2030).expect_err("2030 is not covered");
        assert!(matches!(
            err,
            CalendarError::YearNotCovered { year: 2030, .. }
        ));
        // A count that runs past the last covered year.
        let tz = moscow();
        let err = cal
            .due_after_working_days(ts("2028-12-25T10:00:00+03:00"), 10, &tz)
            .expect_err("runs into 2029");
        assert!(
            matches!(err, CalendarError::YearNotCovered { year: 2029, .. }),
            "{err:?}"
        );
        // A receipt before the first covered year.
        let err = cal
            .due_after_working_days(ts("2023-12-29T10:00:00+03:00"), 1, &tz)
            .expect_err("2023");
        assert!(matches!(
            err,
            CalendarError::YearNotCovered { year: 2023, .. }
        ));
    }

    #[test]
    fn urgency_for_queue_lists() {
        let cal = calendar();
        let tz = moscow();
        let u = |now: &str, due: &str| cal.urgency(ts(now), ts(due), &tz).expect("covered");
        // Due at the end of today.
        assert_eq!(
            u("2025-11-10T10:00:00+03:00", "2025-11-10T23:59:59+03:00"),
            Urgency::DueSoon
        );
        // In its last second it is not yet overdue; the next day it is.
        assert_eq!(
            u("2025-11-10T23:59:59.5+03:00", "2025-11-10T23:59:59+03:00"),
            Urgency::DueSoon
        );
        assert_eq!(
            u("2025-11-11T00:00:00+03:00", "2025-11-10T23:59:59+03:00"),
            Urgency::Overdue
        );
        // Due at the end of the next working day.
        assert_eq!(
            u("2025-11-10T10:00:00+03:00", "2025-11-11T23:59:59+03:00"),
            Urgency::DueSoon
        );
        assert_eq!(
            u("2025-11-10T10:00:00+03:00", "2025-11-12T23:59:59+03:00"),
            Urgency::OnTrack
        );
        // On Friday 31 Oct 2025 the next working day is Saturday 1 Nov.
        assert_eq!(
            u("2025-10-31T10:00:00+03:00", "2025-11-01T23:59:59+03:00"),
            Urgency::DueSoon
        );
        assert_eq!(
            u("2025-10-31T10:00:00+03:00", "2025-11-05T23:59:59+03:00"),
            Urgency::OnTrack
        );
        // On Saturday 1 Nov the next working day is Wednesday 5 Nov.
        assert_eq!(
            u("2025-11-01T10:00:00+03:00", "2025-11-05T23:59:59+03:00"),
            Urgency::DueSoon
        );
        // An hour clock due later today.
        assert_eq!(
            u("2025-11-02T10:00:00+03:00", "2025-11-02T11:00:00+03:00"),
            Urgency::DueSoon
        );
        assert!(
            cal.within_working_days(
                ts("2025-11-10T10:00:00+03:00"),
                ts("2025-11-12T23:59:59+03:00"),
                2,
                &tz
            )
            .expect("covered")
        );
        assert!(is_overdue(
            ts("2025-11-11T00:00:00+03:00"),
            ts("2025-11-10T23:59:59+03:00")
        ));
    }

    #[test]
    fn clock_parses_and_prints() {
        let cases = [
            ("10 working days", Clock::WorkingDays(10), "10 working days"),
            ("1 working day", Clock::WorkingDays(1), "1 working day"),
            (
                "  3 Working   Days ",
                Clock::WorkingDays(3),
                "3 working days",
            ),
            ("24h", Clock::Hours(24), "24 hours"),
            ("72 H", Clock::Hours(72), "72 hours"),
            ("24 hours", Clock::Hours(24), "24 hours"),
            ("1 hour", Clock::Hours(1), "1 hour"),
        ];
        for (text, clock, shown) in cases {
            assert_eq!(text.parse::<Clock>(), Ok(clock), "{text}");
            assert_eq!(clock.to_string(), shown);
            assert_eq!(shown.parse::<Clock>(), Ok(clock));
        }
        for bad in [
            "",
            "ten working days",
            "0 hours",
            "10",
            "10 days",
            "5 minutes",
            "99999999999h",
        ] {
            let err = bad.parse::<Clock>().expect_err(bad);
            let text = err.to_string();
            assert!(
                text.contains("expected `N working days` or `N hours`"),
                "{text}"
            );
        }
    }

    #[test]
    fn clock_reads_from_configuration() {
        #[derive(Debug, Deserialize, Serialize, PartialEq)]
        struct Config {
            report: Clock,
            leak_notice: Clock,
        }
        let config: Config =
            toml::from_str("report = \"10 Working Days\"\nleak_notice = \"24h\"\n").expect("valid");
        assert_eq!(
            config,
            Config {
                report: Clock::WorkingDays(10),
                leak_notice: Clock::Hours(24)
            }
        );
        let text = toml::to_string(&config).expect("serializes");
        assert_eq!(
            text,
            "report = \"10 working days\"\nleak_notice = \"24 hours\"\n"
        );
        let err = toml::from_str::<Config>("report = \"ten days\"\nleak_notice = \"24h\"\n")
            .expect_err("invalid");
        let text = err.to_string();
        assert!(
            text.contains("line 1") && text.contains("expected `N working days`"),
            "{text}"
        );
    }

    const GOOD: &str = r#"
[[year]]
year = 2025
provisional = false
source = "decree"

[[year.day]]
date = 2025-11-01
kind = "working"
short = true
name = "Working Saturday"
source = "decree"
"#;

    fn parse_err(text: &str) -> String {
        Calendar::parse(text, "test.toml")
            .expect_err("invalid")
            .to_string()
    }

    #[test]
    fn parse_accepts_a_minimal_calendar() {
        let cal = Calendar::parse(GOOD, "test.toml").expect("valid");
        assert!(cal.is_working_day(date(2025, 11, 1)).expect("covered"));
        assert!(!cal.is_working_day(date(2025, 11, 2)).expect("covered"));
        assert!(cal.is_working_day(date(2025, 11, 3)).expect("covered"));
        assert!(cal.is_working_day(date(2026, 1, 5)).is_err());
    }

    #[test]
    fn parse_errors_name_the_origin_the_line_and_the_key() {
        // An unknown key (line 5).
        let err = parse_err(
            "[[year]]\nyear = 2025\nprovisional = false\nsource = \"d\"\nnote_ = \"x\"\n",
        );
        assert!(err.starts_with("test.toml:5:"), "{err}");
        assert!(err.contains("note_"), "{err}");
        // A value of the wrong type (line 3).
        let err = parse_err("[[year]]\nyear = 2025\nprovisional = \"no\"\nsource = \"d\"\n");
        assert!(err.starts_with("test.toml:3:"), "{err}");
        assert!(err.contains("provisional"), "{err}");
        // A missing key.
        let err = parse_err("[[year]]\nyear = 2025\nprovisional = false\n");
        assert!(
            err.contains("test.toml:") && err.contains("source"),
            "{err}"
        );
        // An unknown kind (line 9).
        let err = parse_err(&GOOD.replace("kind = \"working\"", "kind = \"weekend\""));
        assert!(err.starts_with("test.toml:9:"), "{err}");
        assert!(err.contains("kind"), "{err}");
        // Syntax error.
        let err = parse_err("[[year]\nyear = 2025\n");
        assert!(err.starts_with("test.toml:1:"), "{err}");
    }

    #[test]
    fn parse_rejects_days_that_break_the_rules() {
        // `working` on a weekday (Mon 3 Nov 2025), on line 9.
        let err = parse_err(&GOOD.replace("2025-11-01", "2025-11-03"));
        assert_eq!(
            err,
            "test.toml:9: `year.day.kind`: 2025-11-03 (Mon) is a weekday; only a Saturday or a \
             Sunday can be a `working` exception"
        );
        // A date outside its year, on line 8.
        let err = parse_err(&GOOD.replace("2025-11-01", "2026-11-07"));
        assert_eq!(
            err,
            "test.toml:8: `year.day.date`: 2026-11-07 is not in year 2025"
        );
        // A date with a time.
        let err = parse_err(&GOOD.replace("2025-11-01", "2025-11-01T10:00:00"));
        assert!(
            err.starts_with("test.toml:8: `year.day.date`: expected a local date"),
            "{err}"
        );
        // The same date twice.
        let twice = format!(
            "{GOOD}\n[[year.day]]\ndate = 2025-11-01\nkind = \"working\"\nname = \"x\"\nsource = \"y\"\n"
        );
        let err = parse_err(&twice);
        assert_eq!(
            err,
            "test.toml:15: `year.day.date`: 2025-11-01 is listed twice"
        );
        // `short` on a day other than `working`.
        let err = parse_err(
            &GOOD
                .replace("2025-11-01", "2025-11-03")
                .replace("kind = \"working\"", "kind = \"day-off\""),
        );
        assert!(err.starts_with("test.toml:10: `year.day.short`"), "{err}");
        // A provisional year without a note.
        let err = parse_err(&GOOD.replace("provisional = false", "provisional = true"));
        assert!(err.starts_with("test.toml:3: `year.note`"), "{err}");
        // The same year twice.
        let err = parse_err(&format!(
            "{GOOD}\n[[year]]\nyear = 2025\nprovisional = false\nsource = \"d\"\n"
        ));
        assert_eq!(err, "test.toml:15: `year.year`: year 2025 is listed twice");
        // An empty name.
        let err = parse_err(&GOOD.replace("\"Working Saturday\"", "\" \""));
        assert_eq!(err, "test.toml:11: `year.day.name`: must not be empty");
        // No year at all.
        let err = parse_err("year = []\n");
        assert!(err.contains("`year`: the calendar lists no year"), "{err}");
    }
}
