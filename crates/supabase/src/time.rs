//! Postgres timestamp text: parsing user input and formatting stored values (UTC, no chrono).

/// Microseconds since the Unix epoch for a civil date-time (proleptic Gregorian, UTC).
fn micros_from_civil(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32, us: u32) -> i64 {
    days_from_civil(y, m, d) * 86_400_000_000
        + i64::from(hh) * 3_600_000_000
        + i64::from(mm) * 60_000_000
        + i64::from(ss) * 1_000_000
        + i64::from(us)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) for days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Formats epoch microseconds the way PostgREST prints a `timestamptz` (session zone UTC):
/// `2026-01-01T00:00:00.123+00:00`, fraction trimmed of trailing zeros.
pub fn format_timestamptz(us: i64) -> String {
    format!("{}+00:00", format_timestamp(us))
}

/// Formats epoch microseconds as a `timestamp` without zone: `2026-01-01T00:00:00.5`.
pub fn format_timestamp(us: i64) -> String {
    let days = us.div_euclid(86_400_000_000);
    let rem = us.rem_euclid(86_400_000_000);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / 1_000_000;
    let frac = rem % 1_000_000;
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

/// Formats epoch milliseconds as a `timestamptz` (what `now()` returns).
pub fn timestamptz_from_ms(ms: u64) -> String {
    format_timestamptz(ms as i64 * 1000)
}

/// Parses the common Postgres timestamp input forms to epoch microseconds (UTC):
/// `2026-01-02`, `2026-01-02 10:00`, `2026-01-02T10:00:00.5Z`, `... +02`, `... -05:30`, `... +0530`.
/// A missing zone means UTC (Supabase sessions run in UTC).
pub fn parse_timestamp(input: &str) -> Option<i64> {
    let s = input.trim();
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let part = s.get(from..from + len)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let y = num(0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (m, d) = (num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(i64::from(y), m) {
        return None;
    }
    let mut i = 10;
    let (mut hh, mut mm, mut ss, mut us) = (0, 0, 0, 0);
    if i < b.len()
        && (b[i] == b'T' || b[i] == b't' || b[i] == b' ')
        && b.get(i + 1).is_some_and(u8::is_ascii_digit)
    {
        i += 1;
        hh = num(i, 2)?;
        if b.get(i + 2) != Some(&b':') {
            return None;
        }
        mm = num(i + 3, 2)?;
        i += 5;
        if b.get(i) == Some(&b':') {
            ss = num(i + 1, 2)?;
            i += 3;
            if b.get(i) == Some(&b'.') {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = &s[start..i];
                if digits.is_empty() {
                    return None;
                }
                let mut f = digits.chars().take(6).collect::<String>();
                while f.len() < 6 {
                    f.push('0');
                }
                us = f.parse().ok()?;
            }
        }
        if hh > 24 || mm > 59 || ss > 60 || (hh == 24 && (mm, ss, us) != (0, 0, 0)) {
            return None;
        }
    }
    let rest = s[i..].trim_start();
    let offset_us: i64 = match rest {
        "" | "Z" | "z" | "UTC" | "utc" | "+00" | "+00:00" | "-00" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let z = &rest[1..];
            let (oh, om) = match z.len() {
                2 => (z.parse::<i64>().ok()?, 0),
                4 => (z[..2].parse().ok()?, z[2..].parse().ok()?),
                5 if z.as_bytes()[2] == b':' => (z[..2].parse().ok()?, z[3..].parse().ok()?),
                _ => return None,
            };
            if !z.bytes().all(|c| c.is_ascii_digit() || c == b':') || oh > 15 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60) * 1_000_000
        }
    };
    Some(micros_from_civil(i64::from(y), m, d, hh, mm, ss, us) - offset_us)
}

/// Parses a `date` (`2026-01-02`) to its canonical text.
pub fn parse_date(input: &str) -> Option<String> {
    let s = input.trim();
    if s.len() != 10 {
        return None;
    }
    parse_timestamp(s).map(|us| format_timestamp(us)[..10].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_zones() {
        assert_eq!(
            timestamptz_from_ms(1_767_225_600_000),
            "2026-01-01T00:00:00+00:00"
        );
        assert_eq!(
            timestamptz_from_ms(1_767_225_600_120),
            "2026-01-01T00:00:00.12+00:00"
        );
        let us = parse_timestamp("2026-01-01 02:30:00+02:30").unwrap();
        assert_eq!(format_timestamptz(us), "2026-01-01T00:00:00+00:00");
        assert_eq!(
            parse_timestamp("2024-02-29"),
            parse_timestamp("2024-02-29T00:00:00Z")
        );
        assert!(parse_timestamp("2023-02-29").is_none());
        assert!(parse_timestamp("yesterday-ish").is_none());
        assert_eq!(
            format_timestamp(parse_timestamp("1969-12-31T23:59:59.999999").unwrap()),
            "1969-12-31T23:59:59.999999"
        );
        assert_eq!(parse_date("2026-03-04").unwrap(), "2026-03-04");
    }
}
