//! The decision clock and the install-by rule, and the calendar arithmetic
//! they use. Pure: `today` is always passed in.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::ApplicationStatus;
use crate::domain::asset::InvalidField;

/// Default days a council has to decide, before any pause (the FCC's
/// shot clocks are 60 and 90 days; 56 is eight working weeks).
pub const DEFAULT_DECISION_PERIOD_DAYS: u32 = 56;
/// Default days after approval to install (six months of 365.25/12 days,
/// rounded up).
pub const DEFAULT_INSTALL_BY_DAYS: u32 = 183;

/// A council's periods for applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSettings {
    /// Days from submission to the decision due date, 1 to 365.
    pub decision_period_days: u32,
    /// Days from approval to the install-by date, 1 to 1,095.
    pub install_by_days: u32,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        ApplicationSettings {
            decision_period_days: DEFAULT_DECISION_PERIOD_DAYS,
            install_by_days: DEFAULT_INSTALL_BY_DAYS,
        }
    }
}

impl ApplicationSettings {
    /// Checks both periods, naming each bad one.
    pub fn validate(&self) -> Result<(), Vec<InvalidField>> {
        let mut bad = Vec::new();
        if !(1..=365).contains(&self.decision_period_days) {
            bad.push(InvalidField::new(
                "decision_period_days",
                "must be between 1 and 365 days",
            ));
        }
        if !(1..=1095).contains(&self.install_by_days) {
            bad.push(InvalidField::new(
                "install_by_days",
                "must be between 1 and 1095 days (three years)",
            ));
        }
        if bad.is_empty() { Ok(()) } else { Err(bad) }
    }
}

/// `date` plus `days`, saturating at the end of the calendar the `time`
/// crate supports (far beyond any term allowed here).
pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(Duration::days(days)).unwrap_or(Date::MAX)
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    (to - from).whole_days()
}

/// The decision clock of one application.
///
/// The council has `period_days` from submission; a request for
/// information stops the clock from the day it is sent until the day the
/// operator responds, and those days are added to the due date. A decision
/// on the due date is on time; the day after, it is overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionClock {
    /// Day the application was submitted.
    pub submitted_on: Date,
    /// The council's decision period when it was submitted.
    pub period_days: u32,
    /// Days paused by earlier requests for information, now answered.
    pub paused_days: u32,
    /// Day the current request for information was sent, while unanswered.
    pub paused_since: Option<Date>,
}

impl DecisionClock {
    /// A clock started on `submitted_on`.
    pub fn start(submitted_on: Date, period_days: u32) -> DecisionClock {
        DecisionClock {
            submitted_on,
            period_days,
            paused_days: 0,
            paused_since: None,
        }
    }

    /// The due date counting only answered pauses: what the store keeps to
    /// list overdue applications (a paused application is never overdue).
    pub fn due(&self) -> Date {
        add_days(
            self.submitted_on,
            i64::from(self.period_days) + i64::from(self.paused_days),
        )
    }

    /// The due date as it stands on `today`: while paused, the days paused
    /// so far are added, so the date moves on each day the operator takes.
    pub fn due_on(&self, today: Date) -> Date {
        match self.paused_since {
            Some(since) => add_days(self.due(), days_between(since, today).max(0)),
            None => self.due(),
        }
    }

    /// Days paused so far, counting an unanswered request up to `today`.
    pub fn paused_days_on(&self, today: Date) -> i64 {
        i64::from(self.paused_days)
            + self
                .paused_since
                .map_or(0, |since| days_between(since, today).max(0))
    }

    /// Stops the clock on `on` (a request for information).
    pub fn pause(self, on: Date) -> DecisionClock {
        DecisionClock {
            paused_since: Some(self.paused_since.unwrap_or(on)),
            ..self
        }
    }

    /// Restarts the clock on `on` (the operator's response), adding the
    /// days it was stopped.
    pub fn resume(self, on: Date) -> DecisionClock {
        let Some(since) = self.paused_since else {
            return self;
        };
        let paused = u32::try_from(days_between(since, on).max(0)).unwrap_or(u32::MAX);
        DecisionClock {
            paused_days: self.paused_days.saturating_add(paused),
            paused_since: None,
            ..self
        }
    }

    /// Is a decision overdue on `today` for an application in `status`?
    pub fn is_overdue(&self, status: ApplicationStatus, today: Date) -> bool {
        status.clock_runs() && self.paused_since.is_none() && today > self.due()
    }
}

/// The day an approval decided on `approved_on` must be installed by.
pub fn install_deadline(approved_on: Date, settings: &ApplicationSettings) -> Date {
    add_days(approved_on, i64::from(settings.install_by_days))
}

/// Has an approval lapsed on `today`? Only once the install-by day itself
/// has passed.
pub fn has_lapsed(status: ApplicationStatus, install_deadline: Date, today: Date) -> bool {
    status == ApplicationStatus::Approved && today > install_deadline
}

/// The same day `years` years after `date` (28 February for 29 February in
/// a year that has none).
pub fn add_years(date: Date, years: u32) -> Date {
    let Ok(years) = i32::try_from(years) else {
        return Date::MAX;
    };
    let Some(year) = date.year().checked_add(years) else {
        return Date::MAX;
    };
    date.replace_year(year)
        .or_else(|_| date.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_clock_pauses_for_information_and_resumes_on_response() {
        // Submitted 1 March with 56 days: due 26 April.
        let c = DecisionClock::start(date!(2027 - 03 - 01), 56);
        assert_eq!(c.due(), date!(2027 - 04 - 26));
        assert!(!c.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 04 - 26)));
        assert!(c.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 04 - 27)));
        assert!(c.is_overdue(ApplicationStatus::Submitted, date!(2027 - 04 - 27)));
        assert!(!c.is_overdue(ApplicationStatus::Approved, date!(2027 - 05 - 27)));

        // Information asked for on 10 March, answered on 24 March: 14 days.
        let paused = c.pause(date!(2027 - 03 - 10));
        assert_eq!(paused.due_on(date!(2027 - 03 - 17)), date!(2027 - 05 - 03));
        assert_eq!(paused.paused_days_on(date!(2027 - 03 - 17)), 7);
        assert!(!paused.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 12 - 31)));
        // Asking again while paused keeps the first day.
        assert_eq!(paused.pause(date!(2027 - 03 - 12)), paused);
        let resumed = paused.resume(date!(2027 - 03 - 24));
        assert_eq!(resumed.paused_days, 14);
        assert_eq!(resumed.due(), date!(2027 - 05 - 10));
        assert!(!resumed.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 05 - 10)));
        assert!(resumed.is_overdue(ApplicationStatus::UnderReview, date!(2027 - 05 - 11)));
        // A second pause of 3 days adds up.
        let again = resumed
            .pause(date!(2027 - 04 - 01))
            .resume(date!(2027 - 04 - 04));
        assert_eq!(again.paused_days, 17);
        assert_eq!(again.due(), date!(2027 - 05 - 13));
        // Resuming a running clock changes nothing.
        assert_eq!(again.resume(date!(2027 - 04 - 05)), again);
    }

    #[test]
    fn approvals_lapse_the_day_after_install_by() {
        let s = ApplicationSettings::default();
        let deadline = install_deadline(date!(2027 - 01 - 15), &s);
        assert_eq!(deadline, date!(2027 - 07 - 17));
        assert!(!has_lapsed(ApplicationStatus::Approved, deadline, deadline));
        assert!(has_lapsed(
            ApplicationStatus::Approved,
            deadline,
            date!(2027 - 07 - 18)
        ));
        assert!(!has_lapsed(
            ApplicationStatus::Installed,
            deadline,
            date!(2030 - 01 - 01)
        ));
    }

    #[test]
    fn settings_name_each_bad_period() {
        assert!(ApplicationSettings::default().validate().is_ok());
        let bad = ApplicationSettings {
            decision_period_days: 0,
            install_by_days: 5000,
        }
        .validate()
        .unwrap_err();
        let fields: Vec<_> = bad.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["decision_period_days", "install_by_days"]);
    }

    #[test]
    fn years_are_added_on_the_calendar() {
        assert_eq!(add_years(date!(2027 - 04 - 01), 3), date!(2030 - 04 - 01));
        assert_eq!(add_years(date!(2028 - 02 - 29), 1), date!(2029 - 02 - 28));
        assert_eq!(add_years(date!(2028 - 02 - 29), 4), date!(2032 - 02 - 29));
    }
}
