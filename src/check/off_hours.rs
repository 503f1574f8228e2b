//! Off-hours schedules: the `off` and `on` times of a heritage's `schedule`.
//!
//! berth staggers the steps of switching off and on by a few minutes (see
//! `plan::off_hours`), so it needs each expression to name one minute and one
//! hour of the day; the day fields are free. This module reads those two fields
//! and checks the time zone against the IANA database that `chrono-tz` ships.
//! It is pure: it never reads the clock or computes fire times.

use std::ops::Range;

use super::schedule::{self, ScheduleError};

/// The minute and hour of an expression, with the day fields after them
/// (`day-of-month month day-of-week year`, as written).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimeOfDay {
    pub minute: u32,
    pub hour: u32,
    pub days: String,
}

/// How many minutes after `off` each step runs: the listener rules answer 503
/// and the services stop at once, the database stops once they have.
pub const OFF_DATABASE_DELAY: u32 = 10;
/// How many minutes after `on` each step runs: the database starts first, the
/// services once it accepts connections, the listener rules forward again last.
pub const ON_SERVICES_DELAY: u32 = 10;
pub const ON_RULES_DELAY: u32 = 15;

impl TimeOfDay {
    /// The same days, `minutes` later; `None` when that is the next day.
    #[must_use]
    pub fn later(&self, minutes: u32) -> Option<(u32, u32)> {
        let total = self.hour * 60 + self.minute + minutes;
        (total < 24 * 60).then_some((total % 60, total / 60))
    }

    /// The cron expression of this time, `minutes` later (same day).
    #[must_use]
    pub fn cron(&self, minutes: u32) -> String {
        let (minute, hour) = self.later(minutes).unwrap_or((self.minute, self.hour));
        format!("cron({minute} {hour} {})", self.days)
    }
}

/// Checks one `off` or `on` expression: a valid `EventBridge` cron expression
/// whose minute and hour are single numbers.
///
/// # Errors
///
/// The problem, located inside the expression.
pub fn time_of_day(expression: &str) -> Result<TimeOfDay, ScheduleError> {
    schedule::check(expression)?;
    let Some(inner) = expression
        .strip_prefix("cron(")
        .and_then(|e| e.strip_suffix(')'))
    else {
        return Err(ScheduleError {
            range: 0..expression.len(),
            message: "an off-hours time must be a `cron(...)` expression".to_owned(),
            help: Some("write a time of day, e.g. `cron(0 22 * * ? *)`".to_owned()),
        });
    };
    let mut fields = Vec::new();
    let mut start = None;
    for (i, c) in inner.char_indices().chain([(inner.len(), ' ')]) {
        match (c == ' ', start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                fields.push((&inner[s..i], 5 + s..5 + i));
                start = None;
            }
            _ => {}
        }
    }
    let number = |(text, range): &(&str, Range<usize>), what: &str, max: u32| {
        text.parse::<u32>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| ScheduleError {
                range: range.clone(),
                message: format!("the {what} of an off-hours time must be one number, not `{text}`"),
                help: Some(
                    "berth staggers the steps by minutes from one time of day: write one minute and one hour, e.g. `cron(0 22 * * ? *)`, and put the days in the day fields".to_owned(),
                ),
            })
    };
    let minute = number(&fields[0], "minute", 59)?;
    let hour = number(&fields[1], "hour", 23)?;
    let days = fields[2..]
        .iter()
        .map(|(t, _)| *t)
        .collect::<Vec<_>>()
        .join(" ");
    Ok(TimeOfDay { minute, hour, days })
}

/// Whether `name` is a time zone of the IANA database (as `EventBridge`
/// Scheduler's `ScheduleExpressionTimezone` takes), and if not, a close one.
///
/// # Errors
///
/// A suggestion: the zone whose name differs only in case, if there is one.
pub fn time_zone(name: &str) -> Result<(), Option<&'static str>> {
    if name.parse::<chrono_tz::Tz>().is_ok() {
        return Ok(());
    }
    Err(chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .find(|n| n.eq_ignore_ascii_case(name) || n.eq_ignore_ascii_case(&name.replace(' ', "_"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_time_of_day() {
        let t = time_of_day("cron(30 22 ? * MON-FRI *)").unwrap();
        assert_eq!(
            (t.minute, t.hour, t.days.as_str()),
            (30, 22, "? * MON-FRI *")
        );
    }

    #[test]
    fn refuses_lists_rates_and_bad_cron() {
        for (expression, range) in [
            ("cron(0,30 22 * * ? *)", 5..9),
            ("cron(0 22-23 * * ? *)", 7..12),
            ("cron(0 */2 * * ? *)", 7..10),
        ] {
            assert_eq!(
                time_of_day(expression).unwrap_err().range,
                range,
                "{expression}"
            );
        }
        assert!(time_of_day("rate(1 day)").is_err());
        assert!(time_of_day("cron(0 25 * * ? *)").is_err());
        assert!(time_of_day("cron(0 22 * * * *)").is_err(), "`?` rule");
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(time_zone("Asia/Tokyo"), Ok(()));
        assert_eq!(time_zone("UTC"), Ok(()));
        assert_eq!(time_zone("asia/tokyo"), Err(Some("Asia/Tokyo")));
        assert_eq!(time_zone("America/New York"), Err(Some("America/New_York")));
        assert_eq!(time_zone("Mars/Olympus"), Err(None));
    }
}
