//! Hours on of an off/on pair of `EventBridge` cron expressions: how much of
//! a month something switched off by one schedule and on by another runs.
//!
//! The two expressions are walked over a fixed reference year (2027, not a
//! leap year, from its 1 January 00:00 to the next in the schedule's IANA
//! time zone), every fire time found by the `croner` crate, which reads the
//! Quartz syntax `EventBridge` takes (`?`, `L`, `W`, `#`, weekdays 1–7 with 1
//! Sunday, names) and the daylight-saving gaps and overlaps of the zone. The
//! state at the start of the year is the one the last fire before it left,
//! so a schedule that repeats is counted the same every day of the year.
//! The year field is not evaluated: the reference year stands for every year.
//! The result never depends on the clock: the same expressions give the same
//! hours on every machine.
//!
//! It must not read the clock or files; [`super::estimate`] and later any
//! other schedule (a district's hosts) call it.

use chrono::{DateTime, TimeZone};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// The reference year the expressions are walked over.
pub const REFERENCE_YEAR: i32 = 2027;

/// Why a pair of expressions could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursOnError(pub String);

impl std::fmt::Display for HoursOnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HoursOnError {}

/// The share of the reference year (0 to 1) between an `on` fire and the
/// next `off` fire.
///
/// # Errors
///
/// An expression that is not `cron(...)` with six fields, that `croner`
/// cannot read, or a time zone that is not an IANA name.
pub fn on_fraction(off: &str, on: &str, timezone: &str) -> Result<f64, HoursOnError> {
    let tz: chrono_tz::Tz = timezone
        .parse()
        .map_err(|_| HoursOnError(format!("`{timezone}` is not an IANA time zone")))?;
    let off = parse(off)?;
    let on = parse(on)?;
    let start = midnight(tz, REFERENCE_YEAR)?;
    let end = midnight(tz, REFERENCE_YEAR + 1)?;
    let mut events: Vec<(DateTime<chrono_tz::Tz>, bool)> = Vec::new();
    for (cron, turns_on) in [(&off, false), (&on, true)] {
        let mut at = start;
        let mut inclusive = true;
        while let Ok(next) = cron.find_next_occurrence(&at, inclusive) {
            if next >= end {
                break;
            }
            events.push((next, turns_on));
            at = next;
            inclusive = false;
        }
    }
    // At the same minute, `on` wins: the pair then never switches off.
    events.sort_by_key(|(at, turns_on)| (*at, *turns_on));
    let before = |cron: &Cron| cron.find_previous_occurrence(&start, false).ok();
    let mut running = match (before(&off), before(&on)) {
        (Some(off), Some(on)) => on >= off,
        (Some(_), None) => false,
        // Never switched off, or switched on before anything.
        (None, _) => true,
    };
    let mut on_seconds = 0_i64;
    let mut since = start;
    for (at, turns_on) in events {
        if running {
            on_seconds += (at - since).num_seconds();
        }
        running = turns_on;
        since = at;
    }
    if running {
        on_seconds += (end - since).num_seconds();
    }
    let year = (end - start).num_seconds();
    #[allow(clippy::cast_precision_loss)] // seconds of a year: exact in an f64
    Ok(on_seconds as f64 / year as f64)
}

/// Hours on in a month of `hours_per_month` hours (730 in the price table),
/// to the hundredth of an hour.
///
/// # Errors
///
/// As [`on_fraction`].
pub fn hours_on_per_month(
    off: &str,
    on: &str,
    timezone: &str,
    hours_per_month: f64,
) -> Result<f64, HoursOnError> {
    let fraction = on_fraction(off, on, timezone)?;
    Ok((fraction * hours_per_month * 100.0).round() / 100.0)
}

/// `cron(m h dom month dow year)` as `croner` reads it: seconds `0` first,
/// the year field as `*` (see the module's note).
fn parse(expression: &str) -> Result<Cron, HoursOnError> {
    let inner = expression
        .strip_prefix("cron(")
        .and_then(|e| e.strip_suffix(')'))
        .ok_or_else(|| HoursOnError(format!("`{expression}` is not a cron(...) expression")))?;
    let fields: Vec<&str> = inner.split_whitespace().collect();
    let [minute, hour, day, month, weekday, _year] = fields[..] else {
        return Err(HoursOnError(format!(
            "`{expression}` does not have six fields"
        )));
    };
    CronParser::builder()
        .seconds(Seconds::Optional)
        .alternative_weekdays(true)
        .build()
        .parse(&format!("0 {minute} {hour} {day} {month} {weekday} *"))
        .map_err(|e| HoursOnError(format!("`{expression}`: {e}")))
}

fn midnight(tz: chrono_tz::Tz, year: i32) -> Result<DateTime<chrono_tz::Tz>, HoursOnError> {
    tz.with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .earliest()
        .ok_or_else(|| HoursOnError(format!("no midnight of 1 January {year} in {tz}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(off: &str, on: &str, tz: &str) -> f64 {
        hours_on_per_month(off, on, tz, 730.0).unwrap()
    }

    #[test]
    fn every_night_off_from_one_to_seven_is_eighteen_hours_of_twenty_four() {
        let fraction = on_fraction("cron(0 1 * * ? *)", "cron(0 7 * * ? *)", "Asia/Tokyo");
        assert!((fraction.unwrap() - 18.0 / 24.0).abs() < 1e-12);
        assert!((hours("cron(0 1 * * ? *)", "cron(0 7 * * ? *)", "UTC") - 547.5).abs() < 1e-9);
    }

    #[test]
    fn weekends_off_count_the_days_of_the_reference_year() {
        // Off from Friday 22:00 to Monday 07:00: 57 hours of each week's 168.
        // 2027 starts on a Friday (before 22:00, so on) and ends on a Friday.
        let fraction = on_fraction(
            "cron(0 22 ? * FRI *)",
            "cron(0 7 ? * MON *)",
            "Europe/Berlin",
        )
        .unwrap();
        // 52 whole weekends off, and the last Friday's 2 hours after 22:00.
        let off_hours = 52.0 * 57.0 + 2.0;
        assert!(
            (fraction - (8760.0 - off_hours) / 8760.0).abs() < 1e-12,
            "{fraction}"
        );
        // Quartz weekday numbers: 6 is Friday, 2 is Monday.
        let numbered = on_fraction("cron(0 22 ? * 6 *)", "cron(0 7 ? * 2 *)", "Europe/Berlin");
        assert!((numbered.unwrap() - fraction).abs() < 1e-15);
    }

    #[test]
    fn the_last_day_of_the_month_and_nth_weekdays_are_read() {
        // Off on the last day of each month at 00:00, on again at 01:00.
        let fraction = on_fraction("cron(0 0 L * ? *)", "cron(0 1 L * ? *)", "UTC").unwrap();
        assert!((fraction - (8760.0 - 12.0) / 8760.0).abs() < 1e-12);
        // Off the first Monday of each month for an hour.
        let fraction = on_fraction("cron(0 9 ? * 2#1 *)", "cron(0 10 ? * 2#1 *)", "UTC").unwrap();
        assert!((fraction - (8760.0 - 12.0) / 8760.0).abs() < 1e-12);
    }

    #[test]
    fn the_nights_across_daylight_saving_changes_even_out_over_the_year() {
        // 01:00–07:00 every night in New York: 365 nights of 6 hours, less
        // the spring night (5 hours) plus the autumn night (7 hours).
        let fraction =
            on_fraction("cron(0 1 * * ? *)", "cron(0 7 * * ? *)", "America/New_York").unwrap();
        assert!((fraction - (8760.0 - 365.0 * 6.0) / 8760.0).abs() < 1e-12);
    }

    #[test]
    fn an_off_that_never_fires_leaves_it_on_and_bad_input_is_an_error() {
        assert!((hours("cron(0 1 30 2 ? *)", "cron(0 7 * * ? *)", "UTC") - 730.0).abs() < 1e-9);
        assert!(on_fraction("rate(1 day)", "cron(0 7 * * ? *)", "UTC").is_err());
        assert!(on_fraction("cron(0 1 * * ? *)", "cron(0 7 * * ? *)", "Mars/Olympus").is_err());
        assert!(on_fraction("cron(0 1 * * ?)", "cron(0 7 * * ? *)", "UTC").is_err());
    }
}
