//! Deadlines per request kind (DOMAIN.md, "Deadlines"): defaults from 152-FZ and the
//! service levels, every one configurable, computed with the working-day calendar.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, CalendarError, Clock};
use super::request::RequestKind;
use super::workflow::Severity;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Deadlines {
    /// Answering a password-reset request (service level).
    pub password_reset: Clock,
    /// A designated-contact change (service level).
    pub contact_change: Clock,
    /// Triage of a new compromise report, before its severity is known.
    pub compromise_triage: Clock,
    /// A compromise report by severity 1 to 4 (service level).
    pub compromise_severity: [Clock; 4],
    /// Account-state report: 152-FZ art. 20 part 1 (as amended by 266-FZ).
    pub subject_report: Clock,
    /// The one extension of an account-state report, with a reasoned notice: art. 20 part 2.
    pub subject_report_extension: Clock,
    /// Deletion (destroy, or refuse with reasons): art. 20 part 3.
    pub subject_deletion: Clock,
    /// Blocking and unblocking: art. 21 part 3.
    pub subject_blocking: Clock,
    pub subject_unblocking: Clock,
    /// Notice of a personal-data leak to the regulator: art. 21 part 3.1.
    pub leak_notice: Clock,
    /// Result of the leak investigation to the regulator: art. 21 part 3.1.
    pub leak_investigation: Clock,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            password_reset: Clock::WorkingDays(1),
            contact_change: Clock::WorkingDays(3),
            compromise_triage: Clock::Hours(1),
            compromise_severity: [
                Clock::Hours(1),
                Clock::Hours(4),
                Clock::WorkingDays(1),
                Clock::WorkingDays(3),
            ],
            subject_report: Clock::WorkingDays(10),
            subject_report_extension: Clock::WorkingDays(5),
            subject_deletion: Clock::WorkingDays(7),
            subject_blocking: Clock::WorkingDays(3),
            subject_unblocking: Clock::WorkingDays(3),
            leak_notice: Clock::Hours(24),
            leak_investigation: Clock::Hours(72),
        }
    }
}

/// The two regulator deadlines of a compromise that leaked personal data (152-FZ art. 21
/// part 3.1), both counted from its detection: the receipt of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeakDeadlines {
    /// Notice of the leak to the regulator.
    pub notice: Timestamp,
    /// The result of the investigation to the regulator.
    pub investigation: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("only an account-state report can be extended (152-FZ art. 20 part 2)")]
    NotExtendable,
    #[error("this request was already extended once; the law allows one extension")]
    AlreadyExtended,
}

impl Deadlines {
    /// The clock a request of `kind` runs on; compromise reports by severity once triaged.
    pub fn clock(&self, kind: RequestKind, severity: Option<Severity>) -> Clock {
        match kind {
            RequestKind::PasswordReset => self.password_reset,
            RequestKind::ContactChange => self.contact_change,
            RequestKind::Compromise => match severity {
                None => self.compromise_triage,
                Some(s) => self.compromise_severity[usize::from(s.level().clamp(1, 4) - 1)],
            },
            RequestKind::SubjectReport => self.subject_report,
            RequestKind::SubjectBlocking => self.subject_blocking,
            RequestKind::SubjectUnblocking => self.subject_unblocking,
            RequestKind::SubjectDeletion => self.subject_deletion,
        }
    }

    pub fn due(
        &self,
        kind: RequestKind,
        severity: Option<Severity>,
        received: Timestamp,
        calendar: &Calendar,
        tz: &TimeZone,
    ) -> Result<Timestamp, DeadlineError> {
        Ok(self.clock(kind, severity).due(calendar, received, tz)?)
    }

    /// The regulator's deadlines for a leak detected at `detected`.
    pub fn leak(
        &self,
        detected: Timestamp,
        calendar: &Calendar,
        tz: &TimeZone,
    ) -> Result<LeakDeadlines, DeadlineError> {
        Ok(LeakDeadlines {
            notice: self.leak_notice.due(calendar, detected, tz)?,
            investigation: self.leak_investigation.due(calendar, detected, tz)?,
        })
    }

    /// A triaged compromise report is due by its severity, and no later than the notice to
    /// the regulator when personal data leaked.
    pub fn compromise_due(
        &self,
        severity: Severity,
        personal_data_leak: bool,
        received: Timestamp,
        calendar: &Calendar,
        tz: &TimeZone,
    ) -> Result<Timestamp, DeadlineError> {
        let by_severity = self.due(
            RequestKind::Compromise,
            Some(severity),
            received,
            calendar,
            tz,
        )?;
        if !personal_data_leak {
            return Ok(by_severity);
        }
        Ok(by_severity.min(self.leak(received, calendar, tz)?.notice))
    }

    /// The due instant after the single extension of an account-state report.
    pub fn extended(
        &self,
        kind: RequestKind,
        already_extended: bool,
        current_due: Timestamp,
        calendar: &Calendar,
        tz: &TimeZone,
    ) -> Result<Timestamp, DeadlineError> {
        if kind != RequestKind::SubjectReport {
            return Err(DeadlineError::NotExtendable);
        }
        if already_extended {
            return Err(DeadlineError::AlreadyExtended);
        }
        Ok(self
            .subject_report_extension
            .due(calendar, current_due, tz)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moscow() -> TimeZone {
        TimeZone::get("Europe/Moscow").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn defaults_follow_the_domain_table() {
        let d = Deadlines::default();
        assert_eq!(
            d.clock(RequestKind::SubjectReport, None),
            Clock::WorkingDays(10)
        );
        assert_eq!(
            d.clock(RequestKind::SubjectDeletion, None),
            Clock::WorkingDays(7)
        );
        assert_eq!(
            d.clock(RequestKind::SubjectBlocking, None),
            Clock::WorkingDays(3)
        );
        assert_eq!(
            d.clock(RequestKind::SubjectUnblocking, None),
            Clock::WorkingDays(3)
        );
        assert_eq!(
            d.clock(RequestKind::PasswordReset, None),
            Clock::WorkingDays(1)
        );
        assert_eq!(
            d.clock(RequestKind::ContactChange, None),
            Clock::WorkingDays(3)
        );
        let sev = |n| Some(Severity::new(n).unwrap());
        assert_eq!(d.clock(RequestKind::Compromise, sev(1)), Clock::Hours(1));
        assert_eq!(d.clock(RequestKind::Compromise, sev(2)), Clock::Hours(4));
        assert_eq!(
            d.clock(RequestKind::Compromise, sev(3)),
            Clock::WorkingDays(1)
        );
        assert_eq!(
            d.clock(RequestKind::Compromise, sev(4)),
            Clock::WorkingDays(3)
        );
        assert_eq!(d.leak_notice, Clock::Hours(24));
        assert_eq!(d.leak_investigation, Clock::Hours(72));
    }

    #[test]
    fn a_report_across_new_year_and_its_single_extension() {
        let cal = Calendar::embedded().unwrap();
        let d = Deadlines::default();
        // Received Tue 2025-12-30 10:00 MSK. Working days after it: Dec 31? (a transferred day
        // off in 2025), then Jan 1-11 2026 are holidays; day 1 is Mon 2026-01-12.
        let received = at("2025-12-30T07:00:00Z");
        let due = d
            .due(RequestKind::SubjectReport, None, received, &cal, &moscow())
            .unwrap();
        // Day 10 is Fri 2026-01-23; due at its end, Moscow time.
        assert_eq!(due, at("2026-01-23T20:59:59Z"));
        let ext = d
            .extended(RequestKind::SubjectReport, false, due, &cal, &moscow())
            .unwrap();
        assert_eq!(ext, at("2026-01-30T20:59:59Z"));
        assert!(matches!(
            d.extended(RequestKind::SubjectReport, true, ext, &cal, &moscow()),
            Err(DeadlineError::AlreadyExtended)
        ));
        assert!(matches!(
            d.extended(RequestKind::SubjectDeletion, false, due, &cal, &moscow()),
            Err(DeadlineError::NotExtendable)
        ));
    }

    #[test]
    fn hour_clocks_run_in_calendar_time() {
        let cal = Calendar::embedded().unwrap();
        let d = Deadlines::default();
        let received = at("2026-01-01T23:30:00Z");
        let due = d
            .due(
                RequestKind::Compromise,
                Some(Severity::new(1).unwrap()),
                received,
                &cal,
                &moscow(),
            )
            .unwrap();
        assert_eq!(due, at("2026-01-02T00:30:00Z"));
    }

    #[test]
    fn a_leak_brings_the_case_forward_to_the_regulator_notice() {
        let cal = Calendar::embedded().unwrap();
        let d = Deadlines::default();
        // Received Fri 2026-05-08 12:00 MSK, before the Victory Day weekend.
        let received = at("2026-05-08T09:00:00Z");
        let low = Severity::new(4).unwrap();
        let leak = d.leak(received, &cal, &moscow()).unwrap();
        assert_eq!(leak.notice, at("2026-05-09T09:00:00Z"));
        assert_eq!(leak.investigation, at("2026-05-11T09:00:00Z"));
        // Severity 4 alone: three working days after the holidays (May 9-11 are off).
        let plain = d
            .compromise_due(low, false, received, &cal, &moscow())
            .unwrap();
        assert_eq!(plain, at("2026-05-14T20:59:59Z"));
        // With a leak the case is due when the regulator must be told.
        let leaked = d
            .compromise_due(low, true, received, &cal, &moscow())
            .unwrap();
        assert_eq!(leaked, leak.notice);
        // A severity whose clock is shorter than 24 hours keeps its own.
        let urgent = Severity::new(1).unwrap();
        assert_eq!(
            d.compromise_due(urgent, true, received, &cal, &moscow())
                .unwrap(),
            at("2026-05-08T10:00:00Z")
        );
    }

    #[test]
    fn configured_deadlines_parse_from_toml() {
        let d: Deadlines = toml::from_str(
            "subject_report = \"8 working days\"\ncompromise_severity = [\"2h\", \"6h\", \"1 working day\", \"2 working days\"]\n",
        )
        .unwrap();
        assert_eq!(d.subject_report, Clock::WorkingDays(8));
        assert_eq!(d.compromise_severity[1], Clock::Hours(6));
        assert_eq!(d.subject_deletion, Clock::WorkingDays(7));
        assert!(toml::from_str::<Deadlines>("subject_reprot = \"1h\"").is_err());
    }
}
