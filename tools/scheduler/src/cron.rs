//! Cron expressions: parsed once when a job is declared (a bad expression
//! is an error in the plugin's `on_boot`, not a silent job that never runs),
//! evaluated in UTC on whole seconds, so every replica computes the same
//! fire times and can claim them by that time.

use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

use microcore::Error;

/// A parsed cron expression.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    cron: Cron,
}

impl Schedule {
    /// Parses `expr` (5 fields, or 6 with seconds first) for job `job`.
    pub(crate) fn parse(job: &str, expr: &str) -> Result<Self, Error> {
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(expr)
            .map_err(|e| {
                Error::config(format!(
                    "job '{job}': cron expression '{expr}' is invalid: {e}; expected \
                     `sec min hour day-of-month month day-of-week` (seconds optional), \
                     such as \"*/5 * * * * *\" or \"0 3 * * *\""
                ))
            })?;
        let schedule = Self { cron };
        if schedule.next_after(Utc::now()).is_none() {
            return Err(Error::config(format!(
                "job '{job}': cron expression '{expr}' never fires"
            )));
        }
        Ok(schedule)
    }

    /// The first fire strictly after `t`.
    pub(crate) fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&whole_second(t), false).ok()
    }

    /// The latest fire in `(since, now]`, and whether an earlier one in that
    /// window was passed over for it (the loop ran late).
    pub(crate) fn latest_due(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<(DateTime<Utc>, bool)> {
        let latest = self
            .cron
            .find_previous_occurrence(&whole_second(now), true)
            .ok()
            .filter(|fire| *fire > since && *fire <= now)?;
        let skipped = self
            .cron
            .find_previous_occurrence(&latest, false)
            .is_ok_and(|earlier| earlier > since);
        Some((latest, skipped))
    }
}

/// `t` without its fraction of a second: fires are whole seconds.
fn whole_second(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
}

/// Checks an expression without keeping it (for docs and tests).
///
/// ```
/// assert!(microcore_scheduler::is_valid_cron("*/5 * * * * *"));
/// assert!(microcore_scheduler::is_valid_cron("0 3 * * MON-FRI"));
/// assert!(!microcore_scheduler::is_valid_cron("every minute"));
/// ```
pub fn is_valid_cron(expr: &str) -> bool {
    Schedule::parse("-", expr).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32, ms: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 6, h, m, s).unwrap() + TimeDelta::milliseconds(ms)
    }

    #[test]
    fn every_second_fires_on_whole_seconds() {
        let s = Schedule::parse("t", "* * * * * *").unwrap();
        assert_eq!(s.next_after(at(10, 0, 0, 500)), Some(at(10, 0, 1, 0)));
        assert_eq!(s.next_after(at(10, 0, 1, 0)), Some(at(10, 0, 2, 0)));
        assert_eq!(
            s.latest_due(at(10, 0, 0, 500), at(10, 0, 1, 3)),
            Some((at(10, 0, 1, 0), false))
        );
        assert_eq!(s.latest_due(at(10, 0, 1, 3), at(10, 0, 1, 900)), None);
        // Late by three seconds: only the latest runs, the rest are skipped.
        assert_eq!(
            s.latest_due(at(10, 0, 0, 500), at(10, 0, 4, 10)),
            Some((at(10, 0, 4, 0), true))
        );
    }

    #[test]
    fn five_fields_mean_second_zero_and_weekdays_are_standard() {
        // 2025-01-06 is a Monday: 1 is Monday, as in crontab.
        let s = Schedule::parse("t", "30 3 * * 1").unwrap();
        assert_eq!(s.next_after(at(0, 0, 0, 0)), Some(at(3, 30, 0, 0)));
        let s = Schedule::parse("t", "0 0 12 * * SUN").unwrap();
        assert_eq!(
            s.next_after(at(0, 0, 0, 0)),
            Some(Utc.with_ymd_and_hms(2025, 1, 12, 12, 0, 0).unwrap())
        );
    }

    #[test]
    fn nicknames_and_last_day_of_month() {
        let daily = Schedule::parse("t", "@daily").unwrap();
        assert_eq!(
            daily.next_after(at(10, 0, 0, 0)),
            Some(Utc.with_ymd_and_hms(2025, 1, 7, 0, 0, 0).unwrap())
        );
        let last = Schedule::parse("t", "0 0 12 L * *").unwrap();
        assert_eq!(
            last.next_after(at(10, 0, 0, 0)),
            Some(Utc.with_ymd_and_hms(2025, 1, 31, 12, 0, 0).unwrap())
        );
        let weekdays = Schedule::parse("t", "0 9 * * MON-FRI").unwrap();
        assert_eq!(
            weekdays.next_after(at(10, 0, 0, 0)),
            Some(at(9, 0, 0, 0) + TimeDelta::days(1))
        );
    }

    #[test]
    fn bad_expressions_name_the_job() {
        let e = Schedule::parse("cleanup", "61 * * * * *").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("job 'cleanup': cron expression '61 * * * * *' is invalid"),
            "{e}"
        );
        let e = Schedule::parse("leap", "0 0 0 30 2 *").unwrap_err();
        assert!(e.to_string().contains("never fires"), "{e}");
    }
}
