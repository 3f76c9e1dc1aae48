//! Cron expressions as Cloudflare's Cron Triggers take them, and when they fire.
//!
//! Source: Cloudflare's "Cron Triggers" page, section *Supported cron expressions*
//! (developers.cloudflare.com/workers/configuration/cron-triggers/): five fields, UTC,
//! "most Quartz scheduler-like cron syntax extensions":
//!
//! | field         | values                                   | characters  |
//! |---------------|------------------------------------------|-------------|
//! | minute        | 0-59                                     | `* , - /`   |
//! | hour          | 0-23                                     | `* , - /`   |
//! | day of month  | 1-31                                     | `* , - / L W` |
//! | month         | 1-12, `JAN`-`DEC` (any case)             | `* , - /`   |
//! | day of week   | 1-7 = Sunday..Saturday, `SUN`-`SAT`      | `* , - / L #` |
//!
//! The day of week counts as Quartz does: `1` is **Sunday** and `7` Saturday (the page's own
//! examples: `0 17 * * sun` or `0 17 * * 1` is Sunday; `mon-fri` or `2-6` is weekdays; `6L` or
//! `friL` is the last Friday). Production refuses `0` there (`invalid cron string [code:
//! 10100]`, cloudflare/workers-sdk#8923 and #8674), and so does this parser.
//!
//! Extensions: `L` (last day of the month), `L-3` (third-to-last), `LW` (last weekday of the
//! month), `15W` (the weekday nearest the 15th, within the month), `6L` / `FRIL` (last Friday),
//! `L` alone in day of week (Saturday, as Quartz), `MON#2` / `2#2` (second Monday), and
//! `a/step` (from `a` to the field's end). Cloudflare does not document `?`, `H`, 6- or
//! 7-field expressions or `@hourly`-style macros: they are refused. Ranges must not run
//! backwards (`FRI-MON` is refused).
//!
//! Day of month and day of week together: when both are restricted (neither starts with `*`),
//! a day matches when **either** does, as POSIX and Vixie cron define (`0 0 1 * MON` runs on the
//! 1st and on every Monday); otherwise both must (a plain `*` matches every day, so only the
//! other field counts; `*/2` in either field makes the pair an AND, as in Vixie cron).
//! Cloudflare does not document this case; this is the cron rule.
//!
//! ```
//! use edgesim_core::cron::CronExpr;
//!
//! let every_5 = CronExpr::parse("*/5 * * * *").unwrap();
//! // 2026-01-01T00:00:00Z
//! let t0 = 1_767_225_600_000;
//! assert_eq!(every_5.next_after(t0), Some(t0 + 5 * 60_000));
//! assert_eq!(every_5.fires_between(t0, t0 + 15 * 60_000).count(), 3);
//! assert!(CronExpr::parse("0 0 * * 0").unwrap_err().to_string().contains("1-7"));
//! ```

use std::fmt;

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;
/// How far [`CronExpr::next_after`] looks ahead: 400 years, one whole Gregorian cycle, so an
/// expression that can fire at all is found and one that never can (`0 0 30 2 *`) ends.
const SEARCH_DAYS: i64 = 146_097;

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Why a cron expression was refused: one sentence naming the field and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronError(String);

impl CronError {
    /// The message (also what `Display` prints).
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CronError {}

/// One element of the day-of-month field.
#[derive(Clone, Debug, PartialEq, Eq)]
enum DomItem {
    /// Plain days (bit d set for day d, 1..=31).
    Days(u32),
    /// `L` (offset 0) or `L-n`: the last day of the month minus `n`.
    Last(u32),
    /// `LW`: the last weekday (Monday..Friday) of the month.
    LastWeekday,
    /// `nW`: the weekday nearest day `n`, without leaving the month.
    NearestWeekday(u32),
}

/// One element of the day-of-week field (days 1..=7, Sunday = 1).
#[derive(Clone, Debug, PartialEq, Eq)]
enum DowItem {
    /// Plain weekdays (bit d set for weekday d).
    Days(u8),
    /// `dL`: the last such weekday of the month.
    Last(u8),
    /// `d#n`: the n-th such weekday of the month (1..=5).
    Nth(u8, u8),
}

/// A parsed Cron Trigger expression. Times are UTC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronExpr {
    source: String,
    minutes: u64,
    hours: u32,
    months: u16,
    dom: Vec<DomItem>,
    dow: Vec<DowItem>,
    dom_star: bool,
    dow_star: bool,
}

/// Which field is being parsed, with its bounds and names.
#[derive(Clone, Copy)]
enum Field {
    Minute,
    Hour,
    Dom,
    Month,
    Dow,
}

impl Field {
    fn name(self) -> &'static str {
        match self {
            Field::Minute => "minute",
            Field::Hour => "hour",
            Field::Dom => "day-of-month",
            Field::Month => "month",
            Field::Dow => "day-of-week",
        }
    }

    fn bounds(self) -> (u32, u32) {
        match self {
            Field::Minute => (0, 59),
            Field::Hour => (0, 23),
            Field::Dom => (1, 31),
            Field::Month => (1, 12),
            Field::Dow => (1, 7),
        }
    }

    fn characters(self) -> &'static str {
        match self {
            Field::Dom => "* , - / L W",
            Field::Dow => "* , - / L #",
            _ => "* , - /",
        }
    }

    fn range_hint(self) -> &'static str {
        match self {
            Field::Month => "1-12 or JAN-DEC",
            Field::Dow => "1-7 or SUN-SAT, where 1 is Sunday (Cloudflare counts SUN=1 .. SAT=7)",
            Field::Minute => "0-59",
            Field::Hour => "0-23",
            Field::Dom => "1-31",
        }
    }
}

impl CronExpr {
    /// Parses `expr`, refusing what Cloudflare's documented syntax does not allow, with a
    /// message that names the field and what is wrong.
    pub fn parse(expr: &str) -> Result<CronExpr, CronError> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(CronError(format!(
                "cron expression {expr:?} has {} field{}; Cloudflare takes exactly 5: minute hour \
                 day-of-month month day-of-week",
                fields.len(),
                if fields.len() == 1 { "" } else { "s" }
            )));
        }
        let wrap = |field: Field, e: String| {
            CronError(format!(
                "cron expression {expr:?}: {} field {:?}: {e}",
                field.name(),
                fields[field as usize]
            ))
        };
        let minutes = plain_mask(fields[0], Field::Minute).map_err(|e| wrap(Field::Minute, e))?;
        let hours = plain_mask(fields[1], Field::Hour).map_err(|e| wrap(Field::Hour, e))? as u32;
        let dom = parse_dom(fields[2]).map_err(|e| wrap(Field::Dom, e))?;
        let months = plain_mask(fields[3], Field::Month).map_err(|e| wrap(Field::Month, e))? as u16;
        let dow = parse_dow(fields[4]).map_err(|e| wrap(Field::Dow, e))?;
        Ok(CronExpr {
            source: expr.to_string(),
            minutes,
            hours,
            months,
            dom,
            dow,
            dom_star: fields[2].starts_with('*'),
            dow_star: fields[4].starts_with('*'),
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether two runs can be less than an hour apart (the minute field names more than one
    /// minute). Production gives such a schedule 30 s of CPU and hourly-or-rarer ones 15 min.
    pub fn fires_more_than_hourly(&self) -> bool {
        self.minutes.count_ones() > 1
    }

    /// The first minute boundary strictly after `epoch_ms` at which the expression fires, in
    /// Unix epoch milliseconds; `None` when it never fires within 400 years (`0 0 30 2 *`).
    pub fn next_after(&self, epoch_ms: u64) -> Option<u64> {
        let start = (epoch_ms / MINUTE_MS + 1) * MINUTE_MS;
        let mut day = (start / DAY_MS) as i64;
        let first_minute = ((start % DAY_MS) / MINUTE_MS) as u32;
        let last_day = day + SEARCH_DAYS;
        let mut from_minute = first_minute;
        while day <= last_day {
            let (y, m, d) = civil_from_days(day);
            if self.months & (1 << m) == 0 {
                // Skip to the first day of the next month.
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                day = days_from_civil(ny, nm, 1);
                from_minute = 0;
                continue;
            }
            if self.day_matches(y, m, d, day)
                && let Some(minute) = self.first_minute_from(from_minute)
            {
                return Some(day as u64 * DAY_MS + u64::from(minute) * MINUTE_MS);
            }
            day += 1;
            from_minute = 0;
        }
        None
    }

    /// Every firing time `t` with `from_ms < t <= to_ms`, in order.
    pub fn fires_between(&self, from_ms: u64, to_ms: u64) -> impl Iterator<Item = u64> + '_ {
        std::iter::successors(self.next_after(from_ms), move |&t| self.next_after(t))
            .take_while(move |&t| t <= to_ms)
    }

    /// Whether the expression fires at the minute starting at `epoch_ms` (any ms within it).
    pub fn matches(&self, epoch_ms: u64) -> bool {
        let minute_start = epoch_ms / MINUTE_MS * MINUTE_MS;
        self.next_after(minute_start.saturating_sub(1)) == Some(minute_start)
    }

    /// The first minute of the day (as minutes since midnight, `>= from`) the hour and minute
    /// fields allow.
    fn first_minute_from(&self, from: u32) -> Option<u32> {
        (from..24 * 60)
            .find(|&t| self.hours & (1 << (t / 60)) != 0 && self.minutes & (1 << (t % 60)) != 0)
    }

    fn day_matches(&self, y: i64, m: u32, d: u32, days: i64) -> bool {
        let dom_ok = || self.dom.iter().any(|item| dom_item_matches(item, y, m, d));
        let dow_ok = || {
            let wd = weekday(days);
            self.dow
                .iter()
                .any(|item| dow_item_matches(item, y, m, d, wd))
        };
        // Vixie cron: AND when either field starts with `*` (a plain `*` matches every day, so
        // only the other field counts), OR when both are restricted.
        if self.dom_star || self.dow_star {
            dom_ok() && dow_ok()
        } else {
            dom_ok() || dow_ok()
        }
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for CronExpr {
    type Err = CronError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronExpr::parse(s)
    }
}

fn dom_item_matches(item: &DomItem, y: i64, m: u32, d: u32) -> bool {
    let len = month_len(y, m);
    match *item {
        DomItem::Days(mask) => mask & (1 << d) != 0,
        DomItem::Last(offset) => offset < len && d == len - offset,
        DomItem::LastWeekday => {
            let last = days_from_civil(y, m, len);
            let back = match weekday(last) {
                6 => 1, // Saturday -> Friday
                0 => 2, // Sunday -> Friday
                _ => 0,
            };
            d == len - back
        }
        DomItem::NearestWeekday(n) => {
            if n > len {
                return false;
            }
            let target = days_from_civil(y, m, n);
            let chosen = match weekday(target) {
                6 if n == 1 => n + 2,   // Saturday the 1st -> Monday the 3rd
                6 => n - 1,             // Saturday -> Friday
                0 if n == len => n - 2, // Sunday the last day -> Friday
                0 => n + 1,             // Sunday -> Monday
                _ => n,
            };
            d == chosen
        }
    }
}

/// `wd` is 0 (Sunday) .. 6 (Saturday); items use 1 (Sunday) .. 7.
fn dow_item_matches(item: &DowItem, y: i64, m: u32, d: u32, wd: u32) -> bool {
    let cf = (wd + 1) as u8;
    match *item {
        DowItem::Days(mask) => mask & (1 << cf) != 0,
        DowItem::Last(day) => day == cf && d + 7 > month_len(y, m),
        DowItem::Nth(day, n) => day == cf && (d - 1) / 7 + 1 == u32::from(n),
    }
}

/// A field of plain values (`*`, lists, ranges, steps, names) as a bit mask.
fn plain_mask(text: &str, field: Field) -> Result<u64, String> {
    let mut mask = 0u64;
    for part in text.split(',') {
        mask |= plain_part(part, field)?;
    }
    Ok(mask)
}

/// One list element of plain values.
fn plain_part(part: &str, field: Field) -> Result<u64, String> {
    let (lo, hi) = field.bounds();
    if part.is_empty() {
        return Err("an empty list element (two commas, or a comma at an end)".into());
    }
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => {
            let step: u32 = s
                .parse()
                .map_err(|_| format!("step {s:?} is not a number"))?;
            if step == 0 {
                return Err("a step of 0 never advances".into());
            }
            (r, Some(step))
        }
        None => (part, None),
    };
    let (start, end) = if range == "*" {
        (lo, hi)
    } else if let Some((a, b)) = range.split_once('-') {
        let (a, b) = (value(a, field)?, value(b, field)?);
        if a > b {
            return Err(format!(
                "range {range} runs backwards ({a} is after {b}); ranges do not wrap around"
            ));
        }
        (a, b)
    } else {
        let a = value(range, field)?;
        // Quartz's `a/step` runs from a to the end of the field; a lone value is just itself.
        if step.is_some() { (a, hi) } else { (a, a) }
    };
    let step = step.unwrap_or(1);
    let mut mask = 0u64;
    let mut v = start;
    while v <= end {
        mask |= 1 << v;
        v += step;
    }
    Ok(mask)
}

/// One value: a number in the field's range, or (month, day of week) a 3-letter name.
fn value(text: &str, field: Field) -> Result<u32, String> {
    let (lo, hi) = field.bounds();
    if text.is_empty() {
        return Err("a range or step is missing a value".into());
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let v: u32 = text.parse().map_err(|_| format!("{text:?} is too large"))?;
        if v < lo || v > hi {
            return Err(format!(
                "{v} is out of range: allowed values are {}",
                field.range_hint()
            ));
        }
        return Ok(v);
    }
    let names: &[&str] = match field {
        Field::Month => &MONTHS,
        Field::Dow => &WEEKDAYS,
        _ => &[],
    };
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(i as u32 + 1);
    }
    let special = text.chars().find(|c| !c.is_ascii_alphanumeric());
    Err(match special {
        Some(c) => format!(
            "{c:?} is not allowed here (this field takes the characters {}; values {})",
            field.characters(),
            field.range_hint()
        ),
        None => format!(
            "{text:?} is not a value of this field (allowed: {}; characters {})",
            field.range_hint(),
            field.characters()
        ),
    })
}

fn parse_dom(text: &str) -> Result<Vec<DomItem>, String> {
    let mut items = Vec::new();
    let mut days = 0u32;
    for part in text.split(',') {
        let upper = part.to_ascii_uppercase();
        if upper == "L" {
            items.push(DomItem::Last(0));
        } else if upper == "LW" {
            items.push(DomItem::LastWeekday);
        } else if let Some(n) = upper.strip_prefix("L-") {
            let n: u32 = n
                .parse()
                .map_err(|_| format!("{part:?}: L-n takes a number of days before the last"))?;
            if n > 30 {
                return Err(format!("{part:?}: a month has at most 31 days"));
            }
            items.push(DomItem::Last(n));
        } else if let Some(n) = upper.strip_suffix('W') {
            let day = value(n, Field::Dom).map_err(|e| format!("{part:?}: {e}"))?;
            items.push(DomItem::NearestWeekday(day));
        } else {
            days |= plain_part(part, Field::Dom)? as u32;
        }
    }
    if days != 0 {
        items.push(DomItem::Days(days));
    }
    Ok(items)
}

fn parse_dow(text: &str) -> Result<Vec<DowItem>, String> {
    let mut items = Vec::new();
    let mut days = 0u8;
    for part in text.split(',') {
        let upper = part.to_ascii_uppercase();
        if upper == "L" {
            items.push(DowItem::Days(1 << 7)); // Quartz: a lone L is the last day of the week
        } else if let Some((d, n)) = upper.split_once('#') {
            let day = value(d, Field::Dow)? as u8;
            let n: u8 = n
                .parse()
                .ok()
                .filter(|n| (1..=5).contains(n))
                .ok_or_else(|| format!("{part:?}: the n in day#n must be 1 to 5"))?;
            items.push(DowItem::Nth(day, n));
        } else if let Some(d) = upper.strip_suffix('L') {
            let day = value(d, Field::Dow).map_err(|e| format!("{part:?}: {e}"))? as u8;
            items.push(DowItem::Last(day));
        } else {
            days |= plain_part(part, Field::Dow)? as u8;
        }
    }
    if days != 0 {
        items.push(DowItem::Days(days));
    }
    Ok(items)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// 0 = Sunday .. 6 = Saturday.
fn weekday(days: i64) -> u32 {
    (days + 4).rem_euclid(7) as u32
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn month_len(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for Unix epoch milliseconds (for logs).
pub fn iso8601(epoch_ms: u64) -> String {
    let days = (epoch_ms / DAY_MS) as i64;
    let (y, m, d) = civil_from_days(days);
    let rem = epoch_ms % DAY_MS;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch ms of a UTC date and time.
    fn at(y: i64, m: u32, d: u32, hh: u64, mm: u64) -> u64 {
        days_from_civil(y, m, d) as u64 * DAY_MS + hh * 3_600_000 + mm * MINUTE_MS
    }

    fn cron(s: &str) -> CronExpr {
        CronExpr::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn next(s: &str, from: u64) -> String {
        iso8601(cron(s).next_after(from).expect("fires"))
    }

    #[test]
    fn calendar_arithmetic_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            days_from_civil(2026, 1, 1) as u64 * DAY_MS,
            crate::VIRTUAL_EPOCH_MS
        );
        for z in [-800_000, -1, 0, 59, 10_956, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(weekday(0), 4); // a Thursday
        assert_eq!(weekday(days_from_civil(2026, 1, 4)), 0); // a Sunday
        assert_eq!(month_len(2024, 2), 29);
        assert_eq!(month_len(2100, 2), 28);
        assert_eq!(month_len(2000, 2), 29);
        assert_eq!(
            iso8601(at(2026, 3, 9, 7, 5) + 1_234),
            "2026-03-09T07:05:01.234Z"
        );
    }

    #[test]
    fn every_minute_fires_at_each_following_boundary() {
        let t = at(2026, 1, 1, 0, 0);
        let c = cron("* * * * *");
        assert_eq!(c.next_after(t), Some(t + MINUTE_MS));
        assert_eq!(c.next_after(t + 1), Some(t + MINUTE_MS));
        assert_eq!(c.next_after(t + MINUTE_MS - 1), Some(t + MINUTE_MS));
        let fires: Vec<u64> = c.fires_between(t, t + 3 * MINUTE_MS).collect();
        assert_eq!(
            fires,
            vec![t + MINUTE_MS, t + 2 * MINUTE_MS, t + 3 * MINUTE_MS]
        );
        assert_eq!(c.fires_between(t, t).count(), 0);
        assert!(c.matches(t + 30_000));
    }

    #[test]
    fn cloudflare_documented_examples() {
        let t = at(2026, 1, 1, 0, 0); // a Thursday
        assert_eq!(next("*/30 * * * *", t), "2026-01-01T00:30:00.000Z");
        assert_eq!(next("45 * * * *", t), "2026-01-01T00:45:00.000Z");
        // Sunday, both spellings.
        assert_eq!(next("0 17 * * sun", t), "2026-01-04T17:00:00.000Z");
        assert_eq!(next("0 17 * * 1", t), "2026-01-04T17:00:00.000Z");
        // Weekdays: Friday the 2nd is next, Saturday and Sunday are skipped.
        assert_eq!(next("10 7 * * mon-fri", t), "2026-01-01T07:10:00.000Z");
        assert_eq!(
            next("10 7 * * 2-6", at(2026, 1, 2, 8, 0)),
            "2026-01-05T07:10:00.000Z"
        );
        assert_eq!(next("0 15 1 * *", t), "2026-01-01T15:00:00.000Z");
        // Last Friday of January 2026 is the 30th.
        assert_eq!(next("0 18 * * 6L", t), "2026-01-30T18:00:00.000Z");
        assert_eq!(next("0 18 * * friL", t), "2026-01-30T18:00:00.000Z");
        // Last weekday: 2026-01-31 is a Saturday, so Friday the 30th.
        assert_eq!(next("59 23 LW * *", t), "2026-01-30T23:59:00.000Z");
        assert_eq!(next("*/3 * * * *", t), "2026-01-01T00:03:00.000Z");
    }

    #[test]
    fn day_of_week_zero_is_refused_like_production() {
        let e = CronExpr::parse("0 0 * * 0").unwrap_err().to_string();
        assert!(e.contains("day-of-week"), "{e}");
        assert!(e.contains("1-7"), "{e}");
        assert!(e.contains("1 is Sunday"), "{e}");
        assert!(CronExpr::parse("0 22 * * 7").is_ok()); // Saturday
    }

    #[test]
    fn malformed_expressions_say_what_is_wrong() {
        for (expr, needle) in [
            ("* * * *", "has 4 fields"),
            ("* * * * * *", "has 6 fields"),
            ("", "has 0 fields"),
            ("60 * * * *", "minute field \"60\": 60 is out of range"),
            ("* 24 * * *", "hour field"),
            ("* * 0 * *", "day-of-month field"),
            ("* * 32 * *", "out of range"),
            ("* * * 13 *", "1-12 or JAN-DEC"),
            ("* * * FOO *", "\"FOO\" is not a value"),
            ("*/0 * * * *", "step of 0"),
            ("5-2 * * * *", "runs backwards"),
            ("* * * * FRI-MON", "runs backwards"),
            ("L * * * *", "not a value of this field"),
            ("* * ? * *", "'?' is not allowed"),
            ("* * * * ?", "'?' is not allowed"),
            ("* * * * MON#6", "1 to 5"),
            ("1,,2 * * * *", "empty list element"),
            ("* * 1W-5 * *", "day-of-month"),
            ("* * * * 1L-2", "day-of-week"),
            ("@hourly", "has 1 field;"),
            ("*/x * * * *", "step \"x\" is not a number"),
        ] {
            let e = CronExpr::parse(expr)
                .err()
                .unwrap_or_else(|| panic!("{expr:?} was accepted"))
                .to_string();
            assert!(e.contains(needle), "{expr:?}: {e}");
            assert!(e.starts_with("cron expression"), "{expr:?}: {e}");
        }
    }

    #[test]
    fn lists_ranges_steps_and_names() {
        let t = at(2026, 1, 1, 0, 0);
        let c = cron("0,15,40-42 9-10/1 * JAN,mar *");
        let fires: Vec<String> = c
            .fires_between(t, at(2026, 1, 1, 23, 59))
            .map(iso8601)
            .collect();
        assert_eq!(fires.len(), 10);
        assert_eq!(fires[0], "2026-01-01T09:00:00.000Z");
        assert_eq!(fires[4], "2026-01-01T09:42:00.000Z");
        // February is skipped entirely.
        assert_eq!(
            next("0 0 * jan,Mar *", at(2026, 1, 31, 12, 0)),
            "2026-03-01T00:00:00.000Z"
        );
        // a/step runs to the end of the field.
        let c = cron("50/4 * * * *");
        let m: Vec<String> = c.fires_between(t, t + 3_600_000).map(iso8601).collect();
        assert_eq!(
            m,
            [
                "2026-01-01T00:50:00.000Z",
                "2026-01-01T00:54:00.000Z",
                "2026-01-01T00:58:00.000Z"
            ]
        );
        assert!(cron("*/5 * * * *").fires_more_than_hourly());
        assert!(!cron("7 */2 * * *").fires_more_than_hourly());
        assert_eq!(cron("1 2 3 4 5").to_string(), "1 2 3 4 5");
        assert_eq!(
            " 1  2 3 4 5 ".parse::<CronExpr>().map(|c| c.minutes),
            Ok(1 << 1)
        );
    }

    #[test]
    fn day_of_month_and_day_of_week_combine_with_or() {
        // The 13th OR any Friday (Jan 2026: Fri 2nd, 9th, Tue 13th, Fri 16th).
        let t = at(2026, 1, 1, 0, 0);
        let days: Vec<String> = cron("0 0 13 * FRI")
            .fires_between(t, at(2026, 1, 17, 0, 0))
            .map(|f| iso8601(f)[..10].to_string())
            .collect();
        assert_eq!(
            days,
            ["2026-01-02", "2026-01-09", "2026-01-13", "2026-01-16"]
        );
        // A restricted field with `*` in the other: only that field counts.
        assert_eq!(
            cron("0 0 13 * *")
                .fires_between(t, at(2026, 1, 17, 0, 0))
                .count(),
            1
        );
        assert_eq!(
            cron("0 0 * * FRI")
                .fires_between(t, at(2026, 1, 17, 0, 0))
                .count(),
            3
        );
        // A field starting with `*` counts as unrestricted (Vixie cron): 13th AND odd weekday.
        let and: Vec<String> = cron("0 0 13 * */2")
            .fires_between(t, at(2026, 12, 31, 0, 0))
            .map(|f| iso8601(f)[..10].to_string())
            .collect();
        // */2 over 1-7 = SUN, TUE, THU, SAT; 13ths that fall on those days in 2026.
        assert_eq!(
            and,
            [
                "2026-01-13",
                "2026-06-13",
                "2026-08-13",
                "2026-09-13",
                "2026-10-13",
                "2026-12-13"
            ]
        );
    }

    #[test]
    fn month_ends_and_leap_years() {
        // The 31st skips short months.
        assert_eq!(
            next("0 0 31 * *", at(2026, 1, 31, 1, 0)),
            "2026-03-31T00:00:00.000Z"
        );
        // L is the last day, whatever the month's length.
        assert_eq!(
            next("0 0 L * *", at(2026, 2, 1, 0, 0)),
            "2026-02-28T00:00:00.000Z"
        );
        assert_eq!(
            next("0 0 L * *", at(2028, 2, 1, 0, 0)),
            "2028-02-29T00:00:00.000Z"
        );
        assert_eq!(
            next("0 0 L-1 * *", at(2026, 4, 1, 0, 0)),
            "2026-04-29T00:00:00.000Z"
        );
        assert_eq!(
            next("0 0 L-30 * *", at(2026, 2, 1, 0, 0)),
            "2026-03-01T00:00:00.000Z"
        );
        // Feb 29th: the next leap year; 2100 is not one.
        assert_eq!(
            next("0 0 29 2 *", at(2026, 1, 1, 0, 0)),
            "2028-02-29T00:00:00.000Z"
        );
        assert_eq!(
            next("0 0 29 2 *", at(2096, 3, 1, 0, 0)),
            "2104-02-29T00:00:00.000Z"
        );
        // Never: the 30th of February.
        assert_eq!(cron("0 0 30 2 *").next_after(at(2026, 1, 1, 0, 0)), None);
        assert_eq!(cron("0 0 30 2 *").fires_between(0, u64::MAX / 2).count(), 0);
        // Year end rolls over.
        assert_eq!(
            next("59 23 31 12 *", at(2026, 12, 31, 23, 59)),
            "2027-12-31T23:59:00.000Z"
        );
        assert_eq!(
            next("0 0 1 1 *", at(2026, 12, 31, 23, 59)),
            "2027-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn weekday_extensions() {
        // Second Monday of Feb 2026 is the 9th.
        assert_eq!(
            next("0 10 * * MON#2", at(2026, 2, 1, 0, 0)),
            "2026-02-09T10:00:00.000Z"
        );
        assert_eq!(
            next("0 10 * * 2#2", at(2026, 2, 1, 0, 0)),
            "2026-02-09T10:00:00.000Z"
        );
        // Fifth Sunday: Jan 2026 has Sundays 4, 11, 18, 25 only; March has a 29th.
        assert_eq!(
            next("0 0 * * SUN#5", at(2026, 1, 1, 0, 0)),
            "2026-03-29T00:00:00.000Z"
        );
        // Last Sunday of Feb 2028 (leap year: Feb 29th is a Tuesday) is the 27th.
        assert_eq!(
            next("0 0 * * 1L", at(2028, 2, 1, 0, 0)),
            "2028-02-27T00:00:00.000Z"
        );
        // A lone L in day of week is Saturday.
        assert_eq!(
            next("0 0 * * L", at(2026, 1, 1, 0, 0)),
            "2026-01-03T00:00:00.000Z"
        );
        // 15W: 2026-02-15 is a Sunday -> Monday 16th; 2026-08-15 a Saturday -> Friday 14th.
        assert_eq!(
            next("0 0 15W * *", at(2026, 2, 1, 0, 0)),
            "2026-02-16T00:00:00.000Z"
        );
        assert_eq!(
            next("0 0 15W * *", at(2026, 8, 1, 0, 0)),
            "2026-08-14T00:00:00.000Z"
        );
        // 1W never leaves the month: 2026-08-01 is a Saturday -> Monday the 3rd.
        assert_eq!(
            next("0 0 1W * *", at(2026, 7, 31, 0, 0)),
            "2026-08-03T00:00:00.000Z"
        );
        // 31W in a 30-day month does not fire; 2026-05-31 is a Sunday -> Friday the 29th.
        assert_eq!(
            next("0 0 31W * *", at(2026, 4, 1, 0, 0)),
            "2026-05-29T00:00:00.000Z"
        );
        // LW when the month ends on a Sunday: 2026-05-31 -> Friday 29th.
        assert_eq!(
            next("0 0 LW * *", at(2026, 5, 1, 0, 0)),
            "2026-05-29T00:00:00.000Z"
        );
        // Extensions mix with plain values in a list.
        let c = cron("0 0 1,L * *");
        assert_eq!(
            c.fires_between(at(2026, 1, 1, 0, 0), at(2026, 2, 1, 0, 0))
                .count(),
            2
        );
    }

    #[test]
    fn next_after_is_strictly_after_and_fires_between_is_half_open() {
        let c = cron("0 * * * *");
        let t = at(2026, 6, 1, 5, 0);
        assert_eq!(c.next_after(t), Some(at(2026, 6, 1, 6, 0)));
        let fires: Vec<u64> = c.fires_between(t - 1, t + 3_600_000).collect();
        assert_eq!(fires, vec![t, t + 3_600_000]);
        assert!(!c.matches(t + MINUTE_MS));
    }
}
