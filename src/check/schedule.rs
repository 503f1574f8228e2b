//! Validation of Amazon `EventBridge` schedule expressions.
//!
//! An ECS scheduled task is an `AWS::Events::Rule` whose `ScheduleExpression` is either
//! `rate(value unit)` or `cron(minutes hours day-of-month month day-of-week year)`.
//! AWS only rejects a bad expression at deploy time, with a bare "Parameter
//! `ScheduleExpression` is not valid"; [`check`] finds the same mistakes at compile time
//! and locates each one inside the expression, so a caret can be drawn under it.
//!
//! The module must stay pure and self-contained: it only reads the expression text. It
//! must not compute fire times, read the clock or the environment, do any I/O or call AWS,
//! and it must not panic on any input: text is only split at ASCII delimiters, so every
//! slice and every reported range lies on character boundaries.
//!
//! The rules follow the `EventBridge` user guide ("Cron expressions reference" and "Rate
//! expressions"). Where the guide is silent, these choices are made:
//!
//! - Cron fields are "separated by white space": one or more ASCII spaces are accepted
//!   between fields (that is what the guide says, and Quartz, whose syntax `EventBridge`
//!   cron follows, splits on runs of blanks). Tabs, newlines and other whitespace are
//!   rejected, since they only appear by accident.
//! - Whitespace around the expression, right inside the parentheses (`cron( 0 10 * * ? * )`)
//!   or before `(` is rejected: the documented syntax has none, it is always a typo,
//!   removing it is trivial, and a deploy that AWS rejects is not.
//! - `rate(value unit)` takes exactly one space, as documented.
//! - Month and weekday names (`JAN`, `mon`) and the `L` and `W` wildcards are
//!   case-insensitive (Quartz upper-cases the expression); the function names `cron` and
//!   `rate` and the rate units must be lowercase.
//! - Numbers may have leading zeros (`05`), as in Quartz.
//! - Ranges may wrap around in the cyclic fields (`FRI-MON`, `22-2`), as in Quartz; a year
//!   range that goes backwards is rejected, since years do not wrap.
//! - `/` is accepted in day-of-week (`1/2`), although the guide's table leaves it out for
//!   that field: Quartz supports it, and when unsure the checker accepts rather than block
//!   an expression AWS may take.
//! - Increments are bounded like in Quartz: at most 59 minutes, 23 hours, 31 days, 12
//!   months, 7 weekdays (AWS rejects `cron(*/60 * * * ? *)`), and 229 years (the span of
//!   valid years).
//! - `?`, `L`, `LW`, `15W`, `6L` and `3#2` must be the whole field: the guide says so for
//!   `#`, and Quartz rejects the others in lists too.

use std::ops::Range;

/// A problem in a schedule expression, located inside the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    /// Byte range inside the expression string that the problem is about (for a caret).
    pub range: std::ops::Range<usize>,
    /// Lowercase message; names values in backticks, e.g. "hour `25` is out of range 0-23".
    pub message: String,
    /// What to do, e.g. "use `rate(5 minutes)`: the unit is plural when the value is not 1".
    pub help: Option<String>,
}

/// Checks `cron(...)` and `rate(...)` expressions; returns the first problem found.
///
/// # Errors
///
/// Returns the first problem found, reading the expression from left to right (except
/// that an over-long expression is reported before anything else).
pub fn check(expression: &str) -> Result<(), ScheduleError> {
    check_whole(expression)?;
    let (function, arguments) = split_call(expression)?;
    match function {
        Function::Cron => check_cron(arguments),
        Function::Rate => check_rate(arguments),
    }
}

impl ScheduleError {
    fn new(range: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            range,
            message: message.into(),
            help: None,
        }
    }

    fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The longest `ScheduleExpression` that `AWS::Events::Rule` accepts, in characters.
const MAX_CHARACTERS: usize = 256;

const ACCEPTED_FORMS: &str = "use `rate(value unit)`, e.g. `rate(5 minutes)`, or \
    `cron(minutes hours day-of-month month day-of-week year)`, e.g. `cron(0 12 * * ? *)`";

const CRON_FIELDS: &str = "the six fields are: minutes hours day-of-month month day-of-week \
    year, e.g. `cron(0 10 * * ? *)`";

const RATE_FORM: &str = "write `rate(value unit)`, e.g. `rate(5 minutes)`";

/// Returns `candidate` if it is a valid expression, so that a help never suggests a fix
/// that is itself wrong. Every caller builds a candidate that no longer has the problem
/// being reported, so the recursion is shallow.
fn suggest(candidate: String) -> Option<String> {
    check(&candidate).is_ok().then_some(candidate)
}

/// A piece of the expression together with its byte offset in the expression.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    text: &'a str,
    start: usize,
}

impl<'a> Token<'a> {
    fn end(self) -> usize {
        self.start + self.text.len()
    }

    fn range(self) -> Range<usize> {
        self.start..self.end()
    }

    /// The parts before and after the first `separator`, which belongs to neither.
    fn split_once(self, separator: char) -> Option<(Token<'a>, Token<'a>)> {
        let index = self.text.find(separator)?;
        let after = index + separator.len_utf8();
        Some((
            Token {
                text: &self.text[..index],
                start: self.start,
            },
            Token {
                text: &self.text[after..],
                start: self.start + after,
            },
        ))
    }

    fn split(self, separator: char) -> impl Iterator<Item = Token<'a>> {
        let mut start = self.start;
        self.text.split(separator).map(move |text| {
            let token = Token { text, start };
            start += text.len() + separator.len_utf8();
            token
        })
    }

    /// Everything but the last character, and the last character.
    fn split_last(self) -> Option<(Token<'a>, char)> {
        let (index, last) = self.text.char_indices().next_back()?;
        let rest = Token {
            text: &self.text[..index],
            start: self.start,
        };
        Some((rest, last))
    }

    fn is(self, text: &str) -> bool {
        self.text.eq_ignore_ascii_case(text)
    }

    fn is_number(self) -> bool {
        is_digits(self.text)
    }
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// The value of a string of ASCII digits; too large a value saturates, so that it is
/// reported as out of range.
fn number(text: &str) -> Option<u32> {
    is_digits(text).then(|| text.parse().unwrap_or(u32::MAX))
}

/// A character as it can be shown between backticks.
fn describe(character: char) -> String {
    match character {
        '\t' | '\n' | '\r' => character.escape_default().to_string(),
        _ if character.is_whitespace() || character.is_control() => {
            character.escape_unicode().to_string()
        }
        _ => character.to_string(),
    }
}

fn describe_text(text: &str) -> String {
    text.chars().map(describe).collect()
}

// The expression as a whole.

fn check_whole(expression: &str) -> Result<(), ScheduleError> {
    if expression.trim().is_empty() {
        return Err(
            ScheduleError::new(0..expression.len(), "schedule expression is empty")
                .with_help(ACCEPTED_FORMS),
        );
    }
    if let Some((index, _)) = expression.char_indices().nth(MAX_CHARACTERS) {
        let count = expression.chars().count();
        return Err(ScheduleError::new(
            index..expression.len(),
            format!(
                "schedule expression is {count} characters long, the maximum is {MAX_CHARACTERS}"
            ),
        ));
    }
    let leading = expression.len() - expression.trim_start().len();
    if leading > 0 {
        return Err(
            ScheduleError::new(0..leading, "unexpected whitespace before the expression")
                .with_help("remove it"),
        );
    }
    let content_end = expression.trim_end().len();
    if content_end < expression.len() {
        return Err(ScheduleError::new(
            content_end..expression.len(),
            "unexpected whitespace after the expression",
        )
        .with_help("remove it"));
    }
    Ok(())
}

enum Function {
    Cron,
    Rate,
}

/// Splits `name(arguments)` and returns the function and the arguments.
fn split_call(expression: &str) -> Result<(Function, Token<'_>), ScheduleError> {
    let Some(open) = expression.find('(') else {
        return Err(missing_parentheses(expression));
    };
    let name = &expression[..open];
    let function = match name {
        "cron" => Function::Cron,
        "rate" => Function::Rate,
        _ => return Err(unknown_function(expression, open)),
    };
    let start = open + 1;
    let Some(length) = expression[start..].find(')') else {
        let help = suggest(format!("{expression})")).map_or_else(
            || "add `)` at the end".to_owned(),
            |fixed| format!("write `{fixed}`"),
        );
        return Err(
            ScheduleError::new(expression.len()..expression.len(), "missing closing `)`")
                .with_help(help),
        );
    };
    let arguments = Token {
        text: &expression[start..start + length],
        start,
    };
    let after = arguments.end() + 1;
    if after < expression.len() {
        return Err(ScheduleError::new(
            after..expression.len(),
            "unexpected text after the closing `)`",
        )
        .with_help("a schedule expression ends with its closing `)`"));
    }
    Ok((function, arguments))
}

fn missing_parentheses(expression: &str) -> ScheduleError {
    let (word, rest) = expression.split_once(' ').unwrap_or((expression, ""));
    let function = word.to_ascii_lowercase();
    if function == "cron" || function == "rate" {
        let help = suggest(format!("{function}({})", rest.trim())).map_or_else(
            || format!("put the {function} arguments inside parentheses: `{function}(...)`"),
            |fixed| format!("write `{fixed}`"),
        );
        return ScheduleError::new(
            0..word.len(),
            format!("missing parentheses after `{}`", describe_text(word)),
        )
        .with_help(help);
    }
    // Bare fields, e.g. `0 10 * * ? *` or `5 minutes`.
    let help = ["cron", "rate"]
        .into_iter()
        .find_map(|function| suggest(format!("{function}({expression})")))
        .map_or_else(
            || ACCEPTED_FORMS.to_owned(),
            |fixed| format!("wrap it: `{fixed}`"),
        );
    ScheduleError::new(
        0..expression.len(),
        "schedule expression must be `cron(...)` or `rate(...)`",
    )
    .with_help(help)
}

fn unknown_function(expression: &str, open: usize) -> ScheduleError {
    let name = &expression[..open];
    let trimmed = name.trim_end();
    if trimmed.eq_ignore_ascii_case("at") {
        return at_not_supported(expression, open);
    }
    if trimmed.len() < name.len() && (trimmed == "cron" || trimmed == "rate") {
        return ScheduleError::new(trimmed.len()..open, "unexpected space before `(`")
            .with_help(format!("write `{trimmed}(` without a space"));
    }
    let lowercase = name.to_ascii_lowercase();
    if lowercase == "cron" || lowercase == "rate" {
        let help = suggest(format!("{lowercase}{}", &expression[open..])).map_or_else(
            || format!("write `{lowercase}(...)`"),
            |fixed| format!("write `{fixed}`"),
        );
        return ScheduleError::new(0..open, format!("`{name}` must be lowercase")).with_help(help);
    }
    if name.is_empty() {
        return ScheduleError::new(0..1, "missing `cron` or `rate` before `(`")
            .with_help(ACCEPTED_FORMS);
    }
    ScheduleError::new(
        0..open,
        format!("unknown schedule function `{}`", describe_text(name)),
    )
    .with_help(ACCEPTED_FORMS)
}

/// One-time `at(yyyy-mm-ddThh:mm:ss)` schedules exist in `EventBridge` Scheduler only.
fn at_not_supported(expression: &str, open: usize) -> ScheduleError {
    let help = match at_as_cron(&expression[open + 1..]) {
        Some(cron) => format!(
            "`at()` only works in EventBridge Scheduler; a rule can pin a cron expression \
             to that date instead: `{cron}` (in UTC)"
        ),
        None => "`at()` only works in EventBridge Scheduler; a rule can pin a cron expression \
                 to a date instead, e.g. `cron(30 14 25 12 ? 2025)` for 2025-12-25 14:30 UTC"
            .to_owned(),
    };
    ScheduleError::new(
        0..expression.len(),
        "one-time `at(...)` schedules are not supported by EventBridge rules",
    )
    .with_help(help)
}

/// `2025-12-25T14:30:00)` becomes `cron(30 14 25 12 ? 2025)`.
fn at_as_cron(arguments: &str) -> Option<String> {
    let (date, time) = arguments.strip_suffix(')')?.split_once('T')?;
    let date: Vec<u32> = date.split('-').map(number).collect::<Option<_>>()?;
    let time: Vec<u32> = time.split(':').map(number).collect::<Option<_>>()?;
    let ([year, month, day], [hour, minute, _]) = (date.as_slice(), time.as_slice()) else {
        return None;
    };
    suggest(format!("cron({minute} {hour} {day} {month} ? {year})"))
}

// What is shared by `cron(...)` and `rate(...)`.

fn check_arguments(arguments: Token, function: &str) -> Result<(), ScheduleError> {
    if arguments.text.trim().is_empty() {
        let parentheses = arguments.start - 1..arguments.end() + 1;
        let help = if function == "cron" {
            CRON_FIELDS
        } else {
            RATE_FORM
        };
        return Err(
            ScheduleError::new(parentheses, format!("{function} expression is empty"))
                .with_help(help),
        );
    }
    let unexpected = arguments
        .text
        .char_indices()
        .find(|&(_, c)| c.is_control() || (c.is_whitespace() && c != ' '));
    if let Some((index, character)) = unexpected {
        let start = arguments.start + index;
        return Err(ScheduleError::new(
            start..start + character.len_utf8(),
            format!("unexpected character `{}`", describe(character)),
        )
        .with_help("separate the parts with plain spaces"));
    }
    let text = arguments.text;
    let help = || {
        suggest(format!("{function}({})", text.trim_matches(' '))).map_or_else(
            || "remove it".to_owned(),
            |fixed| format!("remove it: `{fixed}`"),
        )
    };
    let leading = text.len() - text.trim_start_matches(' ').len();
    if leading > 0 {
        let range = arguments.start..arguments.start + leading;
        return Err(ScheduleError::new(range, "unexpected space after `(`").with_help(help()));
    }
    let trailing = text.len() - text.trim_end_matches(' ').len();
    if trailing > 0 {
        let range = arguments.end() - trailing..arguments.end();
        return Err(ScheduleError::new(range, "unexpected space before `)`").with_help(help()));
    }
    Ok(())
}

// `cron(minutes hours day-of-month month day-of-week year)`.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    DayOfMonth,
    DayOfWeek,
}

/// What one cron field accepts.
struct Field {
    /// As used in messages: "hour `25` is out of range 0-23".
    name: &'static str,
    min: u32,
    max: u32,
    /// Names for `min`, `min + 1`, ...
    names: &'static [&'static str],
    kind: Kind,
    /// Whether a range like `22-2` wraps around (every field but the year).
    wraps: bool,
    max_step: u32,
    step_example: &'static str,
    range_help: Option<&'static str>,
}

impl Field {
    fn name_value(&self, text: &str) -> Option<u32> {
        (self.min..)
            .zip(self.names)
            .find_map(|(value, name)| name.eq_ignore_ascii_case(text).then_some(value))
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: [Field; 6] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
        kind: Kind::Plain,
        wraps: true,
        max_step: 59,
        step_example: "0/15",
        range_help: None,
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
        kind: Kind::Plain,
        wraps: true,
        max_step: 23,
        step_example: "0/6",
        range_help: None,
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
        kind: Kind::DayOfMonth,
        wraps: true,
        max_step: 31,
        step_example: "1/7",
        range_help: None,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
        kind: Kind::Plain,
        wraps: true,
        max_step: 12,
        step_example: "1/3",
        range_help: Some("use 1-12 or JAN-DEC"),
    },
    Field {
        name: "day-of-week",
        min: 1,
        max: 7,
        names: &WEEKDAYS,
        kind: Kind::DayOfWeek,
        wraps: true,
        max_step: 7,
        step_example: "1/2",
        range_help: Some("use 1-7, where 1 is Sunday and 7 is Saturday, or SUN-SAT"),
    },
    Field {
        name: "year",
        min: 1970,
        max: 2199,
        names: &[],
        kind: Kind::Plain,
        wraps: false,
        max_step: 229,
        step_example: "2025/2",
        range_help: None,
    },
];

fn check_cron(arguments: Token) -> Result<(), ScheduleError> {
    check_arguments(arguments, "cron")?;
    let fields: Vec<Token> = arguments
        .split(' ')
        .filter(|field| !field.text.is_empty())
        .collect();
    let fields =
        <[Token; 6]>::try_from(fields).map_err(|fields| field_count_error(arguments, &fields))?;
    for (field, spec) in fields.iter().zip(&FIELDS) {
        check_field(*field, spec)?;
    }
    check_day_fields(&fields)
}

fn cron_of<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    format!("cron({})", fields.into_iter().collect::<Vec<_>>().join(" "))
}

fn field_count_error(arguments: Token, fields: &[Token]) -> ScheduleError {
    let count = fields.len();
    let plural = if count == 1 { "" } else { "s" };
    let texts: Vec<&str> = fields.iter().map(|field| field.text).collect();
    let help = match texts.as_slice() {
        // A unix cron: append the year, and put `?` in a day field if neither has it.
        [minutes, hours, day_of_month, month, day_of_week] => {
            let (day_of_month, day_of_week, changed) = match (*day_of_month, *day_of_week) {
                (dom, dow) if dom == "?" || dow == "?" => (dom, dow, false),
                (dom, "*") => (dom, "?", true),
                ("*", dow) => ("?", dow, true),
                (dom, dow) => (dom, dow, false),
            };
            let fields = [*minutes, *hours, day_of_month, *month, day_of_week, "*"];
            let needs = if changed {
                "a sixth field, the year, and `?` in day-of-month or day-of-week"
            } else {
                "a sixth field, the year"
            };
            Some(suggest(cron_of(fields)).map_or_else(
                || format!("EventBridge cron needs {needs}; {CRON_FIELDS}"),
                |fixed| format!("EventBridge cron needs {needs}: use `{fixed}`"),
            ))
        }
        // A Quartz cron with seconds first.
        [_, rest @ ..] if count == 7 => suggest(cron_of(rest.iter().copied()))
            .map(|fixed| format!("EventBridge cron has no seconds field: use `{fixed}`")),
        _ => None,
    };
    ScheduleError::new(
        arguments.range(),
        format!("cron expression has {count} field{plural}, expected 6"),
    )
    .with_help(help.unwrap_or_else(|| CRON_FIELDS.to_owned()))
}

fn check_field(field: Token, spec: &Field) -> Result<(), ScheduleError> {
    let in_list = field.text.contains(',');
    for item in field.split(',') {
        if item.text.is_empty() {
            let comma = if item.start == field.start {
                item.start
            } else {
                item.start - 1
            };
            return Err(ScheduleError::new(
                comma..comma + 1,
                format!("empty value in the {} list", spec.name),
            )
            .with_help("remove the extra `,`"));
        }
        if !check_special_item(item, spec)? {
            check_plain_item(item, spec)?;
        } else if in_list {
            return Err(ScheduleError::new(
                item.range(),
                format!("`{}` can't be combined with other values", item.text),
            )
            .with_help(format!(
                "`{}` must be the whole {} field",
                item.text, spec.name
            )));
        }
    }
    Ok(())
}

/// Checks `?`, `L`, `LW`, `15W`, `6L` and `3#2`; returns whether `item` is one of them.
fn check_special_item(item: Token, spec: &Field) -> Result<bool, ScheduleError> {
    if item.text == "?" {
        if spec.kind == Kind::Plain {
            return Err(ScheduleError::new(
                item.range(),
                "`?` is only allowed in day-of-month and day-of-week",
            )
            .with_help(format!("use `*` for every {}", spec.name)));
        }
        return Ok(true);
    }
    if let Some((weekday, instance)) = item.split_once('#') {
        check_nth_weekday(weekday, instance, spec)?;
        return Ok(true);
    }
    let Some((prefix, last)) = item.split_last() else {
        return Ok(false);
    };
    match last.to_ascii_uppercase() {
        'W' => check_nearest_weekday(item, prefix, spec).map(|()| true),
        'L' if prefix.text.is_empty()
            || prefix.is_number()
            || WEEKDAYS.iter().any(|name| prefix.is(name)) =>
        {
            check_last(item, prefix, spec).map(|()| true)
        }
        _ => Ok(false),
    }
}

const NTH_WEEKDAY: &str = "`3#2` is the second Tuesday of the month: a weekday, `#`, and which \
    one of the month (1-5)";

/// `3#2`, `MON#1`.
fn check_nth_weekday(weekday: Token, instance: Token, spec: &Field) -> Result<(), ScheduleError> {
    let hash = weekday.end()..instance.start;
    if spec.kind != Kind::DayOfWeek {
        return Err(
            ScheduleError::new(hash, "`#` is only allowed in day-of-week").with_help(NTH_WEEKDAY),
        );
    }
    if weekday.text.is_empty() {
        return Err(ScheduleError::new(hash, "missing weekday before `#`").with_help(NTH_WEEKDAY));
    }
    value(weekday, spec)?;
    if instance.text.is_empty() {
        return Err(ScheduleError::new(hash, "missing instance after `#`").with_help(NTH_WEEKDAY));
    }
    match number(instance.text) {
        Some(1..=5) => Ok(()),
        Some(_) => Err(ScheduleError::new(
            instance.range(),
            format!(
                "day-of-week instance `{}` is out of range 1-5",
                instance.text
            ),
        )
        .with_help(
            "no weekday occurs more than five times in a month; `MON#1` is the first Monday",
        )),
        None => Err(ScheduleError::new(
            instance.range(),
            format!("day-of-week instance `{}` is not a number", instance.text),
        )
        .with_help(NTH_WEEKDAY)),
    }
}

/// `15W`, `LW`.
fn check_nearest_weekday(item: Token, day: Token, spec: &Field) -> Result<(), ScheduleError> {
    if spec.kind != Kind::DayOfMonth {
        return Err(ScheduleError::new(
            day.end()..item.end(),
            "`W` is only allowed in day-of-month",
        )
        .with_help("`15W` in day-of-month is the weekday nearest the 15th"));
    }
    if day.is("L") {
        return Ok(());
    }
    if day.is_number() {
        return value(day, spec).map(drop);
    }
    Err(ScheduleError::new(
        item.range(),
        "`W` must follow a single day, e.g. `15W` or `LW`",
    ))
}

/// `L`, and `6L` or `FRIL` in day-of-week.
fn check_last(item: Token, weekday: Token, spec: &Field) -> Result<(), ScheduleError> {
    match spec.kind {
        Kind::Plain => Err(ScheduleError::new(
            weekday.end()..item.end(),
            "`L` is only allowed in day-of-month and day-of-week",
        )
        .with_help(
            "`L` is the last day of the month in day-of-month, and `6L` the last Friday \
             of the month in day-of-week",
        )),
        // `L` alone: the last day of the month, or of the week (Saturday).
        Kind::DayOfMonth | Kind::DayOfWeek if weekday.text.is_empty() => Ok(()),
        Kind::DayOfMonth => Err(ScheduleError::new(
            item.range(),
            format!("`{}` is not valid in day-of-month", item.text),
        )
        .with_help(
            "`L` alone is the last day of the month; a weekday before `L` (`6L`, the last \
             Friday) only works in day-of-week",
        )),
        Kind::DayOfWeek => value(weekday, spec).map(drop),
    }
}

/// `*`, `5`, `MON`, `1-5`, optionally followed by `/increment`.
fn check_plain_item(item: Token, spec: &Field) -> Result<(), ScheduleError> {
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (item, None),
    };
    let step_help = || {
        format!(
            "an increment is a whole number from 1 to {}, e.g. `{}`",
            spec.max_step, spec.step_example
        )
    };
    if base.text.is_empty() {
        return Err(
            ScheduleError::new(base.end()..base.end() + 1, "missing start before `/`").with_help(
                format!("start from `*` or a value, e.g. `{}`", spec.step_example),
            ),
        );
    }
    if base.text != "*" {
        check_range_or_value(base, spec)?;
    }
    let Some(step) = step else {
        return Ok(());
    };
    if step.text.is_empty() {
        return Err(
            ScheduleError::new(step.start - 1..step.start, "missing increment after `/`")
                .with_help(step_help()),
        );
    }
    let message = match number(step.text) {
        Some(increment) if (1..=spec.max_step).contains(&increment) => return Ok(()),
        Some(_) => format!(
            "{} increment `{}` is out of range 1-{}",
            spec.name, step.text, spec.max_step
        ),
        None => format!("{} increment `{}` is not a number", spec.name, step.text),
    };
    Err(ScheduleError::new(step.range(), message).with_help(step_help()))
}

fn check_range_or_value(base: Token, spec: &Field) -> Result<(), ScheduleError> {
    let Some((start, end)) = base.split_once('-') else {
        return value(base, spec).map(drop);
    };
    let dash = start.end()..end.start;
    if start.text.is_empty() {
        return Err(ScheduleError::new(
            dash,
            format!("missing start of the {} range", spec.name),
        ));
    }
    if end.text.is_empty() {
        return Err(ScheduleError::new(
            dash,
            format!("missing end of the {} range", spec.name),
        ));
    }
    let first = value(start, spec)?;
    let last = value(end, spec)?;
    if first > last && !spec.wraps {
        return Err(ScheduleError::new(
            base.range(),
            format!("{} range `{}` ends before it starts", spec.name, base.text),
        )
        .with_help(format!(
            "write the earlier {} first: `{}-{}`",
            spec.name, end.text, start.text
        )));
    }
    Ok(())
}

/// A single number or name, e.g. `25` or `MON`.
fn value(token: Token, spec: &Field) -> Result<u32, ScheduleError> {
    let text = token.text;
    if let Some(number) = number(text) {
        if (spec.min..=spec.max).contains(&number) {
            return Ok(number);
        }
        let error = ScheduleError::new(
            token.range(),
            format!(
                "{} `{text}` is out of range {}-{}",
                spec.name, spec.min, spec.max
            ),
        );
        return Err(match spec.range_help {
            Some(help) => error.with_help(help),
            None => error,
        });
    }
    if let Some(number) = spec.name_value(text) {
        return Ok(number);
    }
    if ["*", "?", "L", "W", "LW"]
        .iter()
        .any(|special| token.is(special))
    {
        return Err(ScheduleError::new(
            token.range(),
            format!("`{text}` can't be combined with `-`, `/` or `#`"),
        ));
    }
    if let Some((index, character)) = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
    {
        let start = token.start + index;
        return Err(ScheduleError::new(
            start..start + character.len_utf8(),
            format!(
                "unexpected character `{}` in {}",
                describe(character),
                spec.name
            ),
        ));
    }
    if spec.names.is_empty() {
        return Err(ScheduleError::new(
            token.range(),
            format!("{} `{text}` is not a number", spec.name),
        ));
    }
    if !text.bytes().all(|byte| byte.is_ascii_alphabetic()) {
        return Err(ScheduleError::new(
            token.range(),
            format!("{} `{text}` is not a number or a name", spec.name),
        )
        .with_help(spec.range_help.unwrap_or_default()));
    }
    let abbreviation = text.get(..3).and_then(|prefix| {
        spec.names
            .iter()
            .find(|name| name.eq_ignore_ascii_case(prefix))
    });
    let error = ScheduleError::new(
        token.range(),
        format!("unknown {} name `{text}`", spec.name),
    );
    Err(match (abbreviation, spec.range_help) {
        (Some(name), _) => error.with_help(format!("use the three-letter name `{name}`")),
        (None, Some(help)) => error.with_help(help),
        (None, None) => error,
    })
}

/// Exactly one of day-of-month and day-of-week is `?`.
fn check_day_fields(fields: &[Token; 6]) -> Result<(), ScheduleError> {
    let [_, _, day_of_month, _, day_of_week, _] = *fields;
    let range = day_of_month.start..day_of_week.end();
    let texts = fields.map(|field| field.text);
    let with_days = |dom: &str, dow: &str| {
        let [minutes, hours, _, month, _, year] = texts;
        suggest(cron_of([minutes, hours, dom, month, dow, year]))
    };
    match (day_of_month.text == "?", day_of_week.text == "?") {
        (true, false) | (false, true) => Ok(()),
        (true, true) => {
            let help = with_days("*", "?").map_or_else(
                || "set one of them, e.g. `*` in day-of-month for every day".to_owned(),
                |fixed| {
                    format!("set one of them, e.g. `*` in day-of-month for every day: `{fixed}`")
                },
            );
            Err(
                ScheduleError::new(range, "day-of-month and day-of-week can't both be `?`")
                    .with_help(help),
            )
        }
        (false, false) => {
            let fixed = match (day_of_month.text, day_of_week.text) {
                (dom, "*") => with_days(dom, "?"),
                ("*", dow) => with_days("?", dow),
                _ => None,
            };
            let reason = "EventBridge can't combine the two day fields; put `?` in the one \
                          you don't use";
            let help =
                fixed.map_or_else(|| reason.to_owned(), |fixed| format!("{reason}: `{fixed}`"));
            Err(
                ScheduleError::new(range, "either day-of-month or day-of-week must be `?`")
                    .with_help(help),
            )
        }
    }
}

// `rate(value unit)`.

const UNITS: [(&str, &str); 3] = [("minute", "minutes"), ("hour", "hours"), ("day", "days")];

/// `rate(5 minutes)`, with the unit in the form `count` needs.
fn rate_of(count: u64, (singular, plural): (&str, &str)) -> String {
    let unit = if count == 1 { singular } else { plural };
    format!("rate({count} {unit})")
}

fn check_rate(arguments: Token) -> Result<(), ScheduleError> {
    check_arguments(arguments, "rate")?;
    let Some((value, rest)) = arguments.split_once(' ') else {
        return Err(missing_rate_part(arguments));
    };
    let count = rate_value(value)?;
    let spaces = rest.text.len() - rest.text.trim_start_matches(' ').len();
    if spaces > 0 {
        let unit = rest.text.trim_start_matches(' ');
        let help = suggest(format!("rate({} {unit})", value.text))
            .map_or_else(|| RATE_FORM.to_owned(), |fixed| format!("write `{fixed}`"));
        return Err(ScheduleError::new(
            value.end()..rest.start + spaces,
            "expected a single space between the value and the unit",
        )
        .with_help(help));
    }
    let (unit, extra) = match rest.split_once(' ') {
        Some((unit, extra)) => (unit, Some(extra)),
        None => (rest, None),
    };
    rate_unit(count, unit)?;
    match extra {
        Some(extra) => Err(ScheduleError::new(
            extra.range(),
            format!("unexpected text `{}` after the unit", extra.text),
        )
        .with_help(RATE_FORM)),
        None => Ok(()),
    }
}

/// `rate(5)`, `rate(5minutes)`, `rate(minutes)`.
fn missing_rate_part(arguments: Token) -> ScheduleError {
    let text = arguments.text;
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == text.len() {
        let help = text
            .parse()
            .ok()
            .and_then(|count| suggest(rate_of(count, UNITS[0])))
            .map_or_else(
                || "add `minute(s)`, `hour(s)` or `day(s)`".to_owned(),
                |fixed| format!("add `minute(s)`, `hour(s)` or `day(s)`, e.g. `{fixed}`"),
            );
        return ScheduleError::new(arguments.range(), "rate expression is missing a unit")
            .with_help(help);
    }
    if digits > 0 {
        let help = suggest(format!("rate({} {})", &text[..digits], &text[digits..]))
            .map_or_else(|| RATE_FORM.to_owned(), |fixed| format!("write `{fixed}`"));
        return ScheduleError::new(
            arguments.range(),
            "missing space between the value and the unit",
        )
        .with_help(help);
    }
    let help = suggest(format!("rate(1 {text})"))
        .or_else(|| suggest(format!("rate(5 {text})")))
        .map_or_else(
            || RATE_FORM.to_owned(),
            |fixed| format!("write e.g. `{fixed}`"),
        );
    ScheduleError::new(arguments.range(), "rate expression is missing a value").with_help(help)
}

fn rate_value(value: Token) -> Result<u64, ScheduleError> {
    let text = value.text;
    if value.is_number() {
        return match text.parse() {
            Ok(0) => Err(ScheduleError::new(
                value.range(),
                "rate value `0` must be a positive integer",
            )
            .with_help("the shortest rate is `rate(1 minute)`")),
            Ok(count) => Ok(count),
            Err(_) => Err(ScheduleError::new(
                value.range(),
                format!("rate value `{text}` is too large"),
            )),
        };
    }
    let error = ScheduleError::new(
        value.range(),
        format!("rate value `{text}` must be a positive integer"),
    );
    Err(if text.starts_with('+') {
        error.with_help("remove the `+`")
    } else if text.contains('.') {
        error.with_help(
            "use a whole number of a smaller unit, e.g. `rate(90 minutes)` for 1.5 hours",
        )
    } else {
        error
    })
}

fn rate_unit(count: u64, unit: Token) -> Result<(), ScheduleError> {
    let text = unit.text;
    if let Some(&(singular, plural)) = UNITS.iter().find(|(s, p)| text == *s || text == *p) {
        return if count == 1 && text == plural {
            Err(ScheduleError::new(
                unit.range(),
                format!("unit `{text}` must be singular when the value is 1"),
            )
            .with_help(format!(
                "use `rate(1 {singular})`: the unit is singular when the value is 1"
            )))
        } else if count != 1 && text == singular {
            Err(ScheduleError::new(
                unit.range(),
                format!("unit `{text}` must be plural when the value is not 1"),
            )
            .with_help(format!(
                "use `rate({count} {plural})`: the unit is plural when the value is not 1"
            )))
        } else {
            Ok(())
        };
    }
    let lowercase = text.to_ascii_lowercase();
    if let Some(&forms) = UNITS
        .iter()
        .find(|(s, p)| lowercase == *s || lowercase == *p)
    {
        return Err(ScheduleError::new(
            unit.range(),
            format!("rate unit `{text}` must be lowercase"),
        )
        .with_help(format!("write `{}`", rate_of(count, forms))));
    }
    let in_full = |forms| format!("write the unit in full: `{}`", rate_of(count, forms));
    let help = match lowercase.trim_end_matches('s') {
        "week" | "wk" => count.checked_mul(7).map_or_else(
            || "use days instead".to_owned(),
            |days| format!("use days instead: `rate({days} days)`"),
        ),
        "second" | "sec" => "EventBridge rules run at most once a minute; the shortest rate is \
                             `rate(1 minute)`"
            .to_owned(),
        "month" | "year" | "yr" => "months and years vary in length; use a cron expression \
                                    instead, e.g. `cron(0 0 1 * ? *)` for midnight on the \
                                    first of every month"
            .to_owned(),
        "m" | "min" => in_full(UNITS[0]),
        "h" | "hr" => in_full(UNITS[1]),
        "d" => in_full(UNITS[2]),
        _ => "use `minute(s)`, `hour(s)` or `day(s)`, e.g. `rate(5 minutes)`".to_owned(),
    };
    Err(ScheduleError::new(
        unit.range(),
        format!("rate unit `{}` is not supported", describe_text(text)),
    )
    .with_help(help))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expressions AWS accepts.
    const VALID: &[&str] = &[
        // From the brief and the EventBridge user guide.
        "cron(15 20 ? * * *)",
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 0 L * ? *)",
        "cron(0 0 LW * ? *)",
        "cron(0 0 15W * ? *)",
        "cron(0 0 ? * 6L *)",
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 day)",
        "rate(12 hours)",
        // Lists, ranges, steps and names.
        "cron(0 0 1,15 * ? *)",
        "cron(0 0 1 JAN,APR,JUL,OCT ? *)",
        "cron(5 4 * jan-mar ? *)",
        "cron(0 12 ? * 1,7 *)",
        "cron(*/5 * * * ? *)",
        "cron(10-50/20 * * * ? *)",
        "cron(0 0 1/7 * ? *)",
        "cron(0 0 * */3 ? *)",
        "cron(0 0 ? * * 2025/2)",
        "cron(30 2 ? * SUN 2025-2030)",
        "cron(0 0 ? * 1/2 *)",
        // Wrapping ranges.
        "cron(0 22-2 ? * FRI-MON *)",
        // Special forms, in any case.
        "cron(0 0 ? * L *)",
        "cron(0 0 ? * FRIL *)",
        "cron(0 0 lw * ? *)",
        "cron(0 12 ? * mon#1 *)",
        "cron(0 0 ? * 7#5 *)",
        // Bounds, leading zeros, extra spaces between fields.
        "cron(59 23 31 12 ? 2199)",
        "cron(0 0 1 1 ? 1970)",
        "cron(05 07 * * ? *)",
        "cron(0  10  *  *  ?  *)",
        "rate(1 hour)",
        "rate(2 days)",
        "rate(90 minutes)",
        "rate(05 minutes)",
    ];

    /// `expression => message at range` rows, one per line.
    macro_rules! invalid {
        ($($expression:literal => $message:literal at $range:expr,)*) => {
            &[$(($expression, $message, $range)),*]
        };
    }

    /// Expressions AWS rejects: the expected message and range.
    const INVALID: &[(&str, &str, Range<usize>)] = invalid![
        // The whole expression.
        "" => "schedule expression is empty" at 0..0,
        "   " => "schedule expression is empty" at 0..3,
        " rate(5 minutes)" => "unexpected whitespace before the expression" at 0..1,
        "cron(0 10 * * ? *) " => "unexpected whitespace after the expression" at 18..19,
        "cron 0 0 * * ? *" => "missing parentheses after `cron`" at 0..4,
        "0 10 * * ? *" => "schedule expression must be `cron(...)` or `rate(...)`" at 0..12,
        "every(5 minutes)" => "unknown schedule function `every`" at 0..5,
        "(5 minutes)" => "missing `cron` or `rate` before `(`" at 0..1,
        "CRON(0 10 * * ? *)" => "`CRON` must be lowercase" at 0..4,
        "cron (0 10 * * ? *)" => "unexpected space before `(`" at 4..5,
        "at(2025-12-25T14:30:00)" =>
            "one-time `at(...)` schedules are not supported by EventBridge rules" at 0..23,
        "rate(5 minutes" => "missing closing `)`" at 14..14,
        "cron(0 10 * * ? *))" => "unexpected text after the closing `)`" at 18..19,
        "cron(0 10 * * ? *) extra" => "unexpected text after the closing `)`" at 18..24,
        // Cron: the shape.
        "cron()" => "cron expression is empty" at 4..6,
        "cron( 0 10 * * ? *)" => "unexpected space after `(`" at 5..6,
        "cron(0 10 * * ? * )" => "unexpected space before `)`" at 17..18,
        "cron(0\t10 * * ? *)" => "unexpected character `\\t`" at 6..7,
        "cron(0 10 * * *)" => "cron expression has 5 fields, expected 6" at 5..15,
        "cron(0 0 10 * * ? *)" => "cron expression has 7 fields, expected 6" at 5..19,
        "cron(*)" => "cron expression has 1 field, expected 6" at 5..6,
        // Cron: values out of range.
        "cron(60 0 * * ? *)" => "minute `60` is out of range 0-59" at 5..7,
        "cron(0 25 * * ? *)" => "hour `25` is out of range 0-23" at 7..9,
        "cron(0 0 32 * ? *)" => "day-of-month `32` is out of range 1-31" at 9..11,
        "cron(0 0 32W * ? *)" => "day-of-month `32` is out of range 1-31" at 9..11,
        "cron(0 0 1 13 ? *)" => "month `13` is out of range 1-12" at 11..13,
        "cron(0 0 ? * 8 *)" => "day-of-week `8` is out of range 1-7" at 13..14,
        "cron(0 0 ? * 0 *)" => "day-of-week `0` is out of range 1-7" at 13..14,
        "cron(0 0 1 1 ? 2200)" => "year `2200` is out of range 1970-2199" at 15..19,
        "cron(0 0 1 1 ? 99999999999)" => "year `99999999999` is out of range 1970-2199" at 15..26,
        // Cron: names.
        "cron(0 0 1 FOO ? *)" => "unknown month name `FOO`" at 11..14,
        "cron(0 0 ? * MONDAY *)" => "unknown day-of-week name `MONDAY`" at 13..19,
        "cron(0 0 ? * JUL *)" => "unknown day-of-week name `JUL`" at 13..16,
        "cron(0 0 1 1a ? *)" => "month `1a` is not a number or a name" at 11..13,
        "cron(x 0 * * ? *)" => "minute `x` is not a number" at 5..6,
        // Cron: wildcards in the wrong place.
        "cron(L 0 * * ? *)" => "`L` is only allowed in day-of-month and day-of-week" at 5..6,
        "cron(0 0 1 ? ? *)" => "`?` is only allowed in day-of-month and day-of-week" at 11..12,
        "cron(0 0 ? * 15W *)" => "`W` is only allowed in day-of-month" at 15..16,
        "cron(0 0 1#2 * ? *)" => "`#` is only allowed in day-of-week" at 10..11,
        "cron(0 0 5L * ? *)" => "`5L` is not valid in day-of-month" at 9..11,
        "cron(0 0 W * ? *)" => "`W` must follow a single day, e.g. `15W` or `LW`" at 9..10,
        "cron(0 0 L-3 * ? *)" => "`L` can't be combined with `-`, `/` or `#`" at 9..10,
        "cron(0 0 ? * 3#1,6#3 *)" => "`3#1` can't be combined with other values" at 13..16,
        "cron(0 0 ?,1 * * *)" => "`?` can't be combined with other values" at 9..10,
        // Cron: `#` instances.
        "cron(0 9 ? * 2#6 *)" => "day-of-week instance `6` is out of range 1-5" at 15..16,
        "cron(0 0 ? * MON#0 *)" => "day-of-week instance `0` is out of range 1-5" at 17..18,
        "cron(0 0 ? * 2# *)" => "missing instance after `#`" at 14..15,
        "cron(0 0 ? * 9#1 *)" => "day-of-week `9` is out of range 1-7" at 13..14,
        // Cron: lists, ranges and increments.
        "cron(0/0 * * * ? *)" => "minute increment `0` is out of range 1-59" at 7..8,
        "cron(*/60 * * * ? *)" => "minute increment `60` is out of range 1-59" at 7..9,
        "cron(0 5/ * * ? *)" => "missing increment after `/`" at 8..9,
        "cron(0 /5 * * ? *)" => "missing start before `/`" at 7..8,
        "cron(0 0/x * * ? *)" => "hour increment `x` is not a number" at 9..10,
        "cron(0 -5 * * ? *)" => "missing start of the hour range" at 7..8,
        "cron(0 5- * * ? *)" => "missing end of the hour range" at 8..9,
        "cron(0 1-2-3 * * ? *)" => "unexpected character `-` in hour" at 10..11,
        "cron(0 0 1,,2 * ? *)" => "empty value in the day-of-month list" at 10..11,
        "cron(0 0 ,1 * ? *)" => "empty value in the day-of-month list" at 9..10,
        "cron(0 0 * * ? 2030-2020)" => "year range `2030-2020` ends before it starts" at 15..24,
        // Cron: the two day fields.
        "cron(0 10 ? * ? *)" => "day-of-month and day-of-week can't both be `?`" at 10..15,
        "cron(0 10 * * * *)" => "either day-of-month or day-of-week must be `?`" at 10..15,
        "cron(0 10 1 * MON *)" => "either day-of-month or day-of-week must be `?`" at 10..17,
        // Rate.
        "rate()" => "rate expression is empty" at 4..6,
        "rate( 5 minutes)" => "unexpected space after `(`" at 5..6,
        "rate(1 minutes)" => "unit `minutes` must be singular when the value is 1" at 7..14,
        "rate(5 minute)" => "unit `minute` must be plural when the value is not 1" at 7..13,
        "rate(01 hours)" => "unit `hours` must be singular when the value is 1" at 8..13,
        "rate(0 minutes)" => "rate value `0` must be a positive integer" at 5..6,
        "rate(-1 minutes)" => "rate value `-1` must be a positive integer" at 5..7,
        "rate(+5 minutes)" => "rate value `+5` must be a positive integer" at 5..7,
        "rate(1.5 hours)" => "rate value `1.5` must be a positive integer" at 5..8,
        "rate(99999999999999999999 days)" =>
            "rate value `99999999999999999999` is too large" at 5..25,
        "rate(5 weeks)" => "rate unit `weeks` is not supported" at 7..12,
        "rate(30 seconds)" => "rate unit `seconds` is not supported" at 8..15,
        "rate(5 Minutes)" => "rate unit `Minutes` must be lowercase" at 7..14,
        "rate(5  minutes)" => "expected a single space between the value and the unit" at 6..8,
        "rate(5 minutes please)" => "unexpected text `please` after the unit" at 15..21,
        "rate(5)" => "rate expression is missing a unit" at 5..6,
        "rate(5minutes)" => "missing space between the value and the unit" at 5..13,
        "rate(minutes)" => "rate expression is missing a value" at 5..12,
        // Non-ASCII text.
        "cron(0 ñ * * ? *)" => "unexpected character `ñ` in hour" at 7..9,
        "cron(0 10 * * ?\u{a0}*)" => "unexpected character `\\u{a0}`" at 15..17,
        "cron(0 10 ? * MØN *)" => "unexpected character `Ø` in day-of-week" at 15..17,
        "crön(0 10 * * ? *)" => "unknown schedule function `crön`" at 0..5,
        "rate(5 minutés)" => "rate unit `minutés` is not supported" at 7..15,
        "rate(５ minutes)" => "rate value `５` must be a positive integer" at 5..8,
        "cron(0 10 * * ? *)\u{200b}" => "unexpected text after the closing `)`" at 18..21,
    ];

    /// The expression with a caret line under `range`, for failure messages.
    fn caret(expression: &str, range: &Range<usize>) -> String {
        let before = expression
            .get(..range.start)
            .unwrap_or_default()
            .chars()
            .count();
        let width = expression
            .get(range.clone())
            .unwrap_or_default()
            .chars()
            .count();
        format!(
            "{expression}\n{}{}",
            " ".repeat(before),
            "^".repeat(width.max(1))
        )
    }

    #[test]
    fn accepts_valid_expressions() {
        let failures: Vec<String> = VALID
            .iter()
            .filter_map(|expression| {
                check(expression)
                    .err()
                    .map(|error| format!("{expression}: {error:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "rejected:\n{}", failures.join("\n"));
    }

    #[test]
    fn rejects_invalid_expressions() {
        let mut failures = Vec::new();
        for (expression, message, range) in INVALID {
            match check(expression) {
                Ok(()) => failures.push(format!("{expression:?}: accepted")),
                Err(error) if error.message != *message || error.range != *range => {
                    let expected = format!("expected {message:?} at {range:?}");
                    let got = format!("got {:?} at {:?}", error.message, error.range);
                    let caret = caret(expression, &error.range);
                    failures.push(format!("{expression:?}\n  {expected}\n  {got}\n{caret}"));
                }
                Err(_) => {}
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn helps_with_the_fix() {
        let cases = [
            (
                "rate(5 minute)",
                "use `rate(5 minutes)`: the unit is plural when the value is not 1",
            ),
            (
                "rate(1 minutes)",
                "use `rate(1 minute)`: the unit is singular when the value is 1",
            ),
            (
                "cron(0 10 * * *)",
                "EventBridge cron needs a sixth field, the year, and `?` in day-of-month or \
                 day-of-week: use `cron(0 10 * * ? *)`",
            ),
            (
                "cron(0 10 ? * MON)",
                "EventBridge cron needs a sixth field, the year: use `cron(0 10 ? * MON *)`",
            ),
            (
                "cron(0 0 10 * * ? *)",
                "EventBridge cron has no seconds field: use `cron(0 10 * * ? *)`",
            ),
            (
                "cron(0 10 * * * *)",
                "EventBridge can't combine the two day fields; put `?` in the one you don't \
                 use: `cron(0 10 * * ? *)`",
            ),
            (
                "cron(0 10 ? * ? *)",
                "set one of them, e.g. `*` in day-of-month for every day: `cron(0 10 * * ? *)`",
            ),
            (
                "at(2025-12-25T14:30:00)",
                "`at()` only works in EventBridge Scheduler; a rule can pin a cron expression \
                 to that date instead: `cron(30 14 25 12 ? 2025)` (in UTC)",
            ),
            ("cron 0 0 * * ? *", "write `cron(0 0 * * ? *)`"),
            ("5 minutes", "wrap it: `rate(5 minutes)`"),
            ("rate(5 weeks)", "use days instead: `rate(35 days)`"),
            ("rate(5 mins)", "write the unit in full: `rate(5 minutes)`"),
            ("rate(5minutes)", "write `rate(5 minutes)`"),
            ("cron(0 0 ? * MONDAY *)", "use the three-letter name `MON`"),
            ("cron( 0 10 * * ? *)", "remove it: `cron(0 10 * * ? *)`"),
            ("CRON(0 10 * * ? *)", "write `cron(0 10 * * ? *)`"),
        ];
        for (expression, help) in cases {
            let error = check(expression).expect_err(expression);
            assert_eq!(error.help.as_deref(), Some(help), "{expression}");
        }
    }

    #[test]
    fn rejects_expressions_longer_than_256_characters() {
        let years = vec!["2025"; 60].join(",");
        let expression = format!("cron(0 0 1 1 ? {years})");
        let error = check(&expression).expect_err("too long");
        assert_eq!(
            error.message,
            format!(
                "schedule expression is {} characters long, the maximum is 256",
                expression.len()
            )
        );
        assert_eq!(error.range, 256..expression.len());
    }

    /// Every expression a help suggests in backticks must itself be valid.
    fn check_suggestions(expression: &str, error: &ScheduleError) {
        let help = error.help.as_deref().unwrap_or_default();
        let suggestions = help
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|quoted| quoted.starts_with("cron(") || quoted.starts_with("rate("))
            .filter(|quoted| quoted.ends_with(')') && !quoted.contains("..."))
            .filter(|quoted| !quoted.contains("value unit") && !quoted.contains("minutes hours"));
        for suggestion in suggestions {
            assert_eq!(check(suggestion), Ok(()), "help for {expression:?}: {help}");
        }
    }

    /// Properties every error must have, whatever the input.
    fn assert_well_formed(expression: &str) {
        let Err(error) = check(expression) else {
            return;
        };
        assert!(
            expression.get(error.range.clone()).is_some(),
            "{expression:?}: range {:?} is not on character boundaries",
            error.range
        );
        assert!(
            !error.message.is_empty() && !error.message.starts_with(char::is_uppercase),
            "{expression:?}: {:?}",
            error.message
        );
        check_suggestions(expression, &error);
    }

    #[test]
    fn errors_are_well_formed_for_mutated_inputs() {
        let replacements = [
            "",
            "ñ",
            "🦀",
            " ",
            "  ",
            "\t",
            "?",
            "L",
            "W",
            "#",
            "/",
            "-",
            ",",
            "*",
            "(",
            ")",
            "0",
            "9",
            "99999999999",
            "MON",
            "x",
        ];
        let seeds = VALID
            .iter()
            .copied()
            .chain(INVALID.iter().map(|(expression, _, _)| *expression));
        let mut checked = 0;
        for seed in seeds {
            assert_well_formed(seed);
            for (index, character) in seed.char_indices() {
                let (before, after) = (&seed[..index], &seed[index..]);
                let replaced = &seed[index + character.len_utf8()..];
                for replacement in replacements {
                    assert_well_formed(&format!("{before}{replacement}{after}"));
                    assert_well_formed(&format!("{before}{replacement}{replaced}"));
                    checked += 2;
                }
            }
            for (index, _) in seed.char_indices() {
                assert_well_formed(&seed[..index]);
                assert_well_formed(&seed[index..]);
            }
        }
        assert!(checked > 10_000);
    }
}
