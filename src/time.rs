//! Timestamps: every log time becomes a UTC instant in nanoseconds.
//!
//! Access logs write `[10/Oct/2023:13:55:36 -0700]`; JSON logs write ISO 8601
//! with or without a zone, or epoch numbers; CloudTrail writes RFC 3339 in
//! UTC. The common shapes are parsed by hand at fixed positions because this
//! runs once per line on the hot path; a time without a zone is read in the
//! zone given with `--tz` (UTC by default) through chrono-tz.
//!
//! [`Window`] is the `--since`/`--until` filter, applied by parsers right
//! after the time is read so that events outside it are never built.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use thiserror::Error;

use crate::bytes::same_bytes;

const NS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// A time argument or zone name that could not be understood.
#[derive(Debug, Error)]
pub enum TimeError {
    #[error("'{0}' is not an RFC 3339 time or a YYYY-MM-DD date")]
    BadInstant(String),
    #[error(
        "'{0}' is not a time zone: use UTC, an offset like +02:00, or a name like Europe/Berlin"
    )]
    BadZone(String),
    #[error("--since {since} is after --until {until}")]
    EmptyWindow { since: String, until: String },
}

/// Zone in which times without an offset are read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Zone {
    #[default]
    Utc,
    /// A fixed offset east of UTC, in seconds.
    Fixed(i32),
    /// A named zone with its daylight-saving rules.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parses `UTC`, `Z`, `+02:00`, `-0500` or an IANA name.
    pub fn parse(text: &str) -> Result<Zone, TimeError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" {
            return Ok(Zone::Utc);
        }
        if let Some(secs) = parse_offset(t.as_bytes()) {
            return Ok(Zone::Fixed(secs));
        }
        t.parse::<chrono_tz::Tz>()
            .map(Zone::Named)
            .map_err(|_| TimeError::BadZone(text.into()))
    }

    /// Converts a wall-clock time in this zone to UTC nanoseconds. An
    /// ambiguous local time (the repeated hour in autumn) takes the earlier
    /// instant; a time skipped in spring is read as if the clock had not
    /// jumped.
    pub fn to_utc(&self, local_secs: i64, nanos: i64) -> i64 {
        let offset = match self {
            Zone::Utc => 0,
            Zone::Fixed(off) => i64::from(*off),
            Zone::Named(tz) => named_offset(tz, local_secs),
        };
        (local_secs - offset) * NS_PER_SEC + nanos
    }
}

fn named_offset(tz: &chrono_tz::Tz, local_secs: i64) -> i64 {
    use chrono::Offset;
    let Some(naive) = chrono::DateTime::from_timestamp(local_secs, 0).map(|d| d.naive_utc()) else {
        return 0;
    };
    let resolved = tz.from_local_datetime(&naive).earliest().or_else(|| {
        tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
    });
    match resolved {
        Some(dt) => i64::from(dt.offset().fix().local_minus_utc()),
        None => 0,
    }
}

/// Inclusive-exclusive time filter from `--since` and `--until`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl Window {
    /// Builds a window from the command-line texts. A bare date as `--until`
    /// includes that whole day.
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        zone: Zone,
    ) -> Result<Window, TimeError> {
        let since_ns = since.map(|s| parse_bound(s, zone, false)).transpose()?;
        let until_ns = until.map(|s| parse_bound(s, zone, true)).transpose()?;
        if let (Some(a), Some(b)) = (since_ns, until_ns) {
            if a >= b {
                return Err(TimeError::EmptyWindow {
                    since: since.unwrap_or_default().into(),
                    until: until.unwrap_or_default().into(),
                });
            }
        }
        Ok(Window {
            since: since_ns,
            until: until_ns,
        })
    }

    /// Whether `ts` falls inside the window.
    #[inline]
    pub fn contains(&self, ts: i64) -> bool {
        self.since.is_none_or(|s| ts >= s) && self.until.is_none_or(|u| ts < u)
    }

    /// Whether no bound is set.
    pub fn is_unbounded(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

fn parse_bound(text: &str, zone: Zone, is_until: bool) -> Result<i64, TimeError> {
    let t = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let days = i64::from(date.num_days_from_ce()) - 719_163;
        let days = if is_until { days + 1 } else { days };
        return Ok(zone.to_utc(days * SECS_PER_DAY, 0));
    }
    parse_iso(t.as_bytes(), zone).ok_or_else(|| TimeError::BadInstant(text.into()))
}

use chrono::Datelike;

/// Days since 1970-01-01 of a proleptic Gregorian date.
#[inline]
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[inline]
fn digits(b: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// The number written by the two digits at `b[at..at + 2]`.
#[inline]
fn two_digits(b: &[u8], at: usize) -> Option<u32> {
    let (tens, ones) = (b[at].wrapping_sub(b'0'), b[at + 1].wrapping_sub(b'0'));
    (tens < 10 && ones < 10).then(|| u32::from(tens) * 10 + u32::from(ones))
}

fn month_of(b: &[u8]) -> Option<u32> {
    let m = match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    Some(m)
}

fn valid_clock(mo: u32, d: u32, h: u32, mi: u32, s: u32) -> bool {
    (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s <= 60
}

/// Parses a fractional-seconds suffix (`.123456`) into nanoseconds and the
/// number of bytes consumed.
fn fraction(b: &[u8]) -> (i64, usize) {
    if b.first() != Some(&b'.') && b.first() != Some(&b',') {
        return (0, 0);
    }
    let mut ns: i64 = 0;
    let mut scale = 100_000_000;
    let mut i = 1;
    while i < b.len() && b[i].is_ascii_digit() {
        ns += i64::from(b[i] - b'0') * scale;
        scale /= 10;
        i += 1;
    }
    (ns, i)
}

/// Parses `+hh:mm`, `-hhmm`, `+hh` into seconds east of UTC.
pub fn parse_offset(b: &[u8]) -> Option<i32> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &b[1..];
    let (h, m) = match rest.len() {
        2 => (digits(rest)?, 0),
        4 => (digits(&rest[..2])?, digits(&rest[2..])?),
        5 if rest[2] == b':' => (digits(&rest[..2])?, digits(&rest[3..])?),
        _ => return None,
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign * (h as i32 * 3600 + m as i32 * 60))
}

/// Parses the access-log time `10/Oct/2023:13:55:36 -0700` (the text between
/// the brackets), with optional fractional seconds.
pub fn parse_clf(b: &[u8]) -> Option<i64> {
    ClfDays::default().parse(b)
}

/// Longest zone text [`ClfDays`] remembers (`+hh:mm` is six bytes).
const ZONE_MAX: usize = 8;

/// Parses access-log times, remembering the date and zone of the last one.
///
/// The lines of a log share their date and zone for hours, so only the
/// clock (`hh:mm:ss` and any fraction) is read again: the day count and the
/// offset are computed when the date or zone text changes. The result is
/// the same as [`parse_clf`] for every input.
#[derive(Clone, Default)]
pub struct ClfDays {
    /// `dd/Mon/yyyy` of the last time, and its zone text after the space.
    date: [u8; 11],
    zone: [u8; ZONE_MAX],
    zone_len: usize,
    /// Seconds from the epoch to the start of that day, less the offset;
    /// `None` before the first time.
    base: Option<i64>,
}

impl ClfDays {
    /// Parses one time, as [`parse_clf`] does.
    #[inline]
    pub fn parse(&mut self, b: &[u8]) -> Option<i64> {
        if b.len() < 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
            return None;
        }
        let (h, mi, s) = (two_digits(b, 12)?, two_digits(b, 15)?, two_digits(b, 18)?);
        if b[14] != b':' || b[17] != b':' || h >= 24 || mi >= 60 || s > 60 {
            return None;
        }
        let (nanos, used) = fraction(&b[20..]);
        let zone = b[20 + used..].strip_prefix(b" ")?;
        let base = match self.base {
            Some(base) if self.is_last(&b[..11], zone) => base,
            _ => self.remember(&b[..11], zone)?,
        };
        let secs = base + i64::from(h * 3600 + mi * 60 + s);
        Some(secs * NS_PER_SEC + nanos)
    }

    /// Whether `date` and `zone` are those of the last time.
    #[inline]
    fn is_last(&self, date: &[u8], zone: &[u8]) -> bool {
        same_bytes(zone, &self.zone[..self.zone_len]) && same_bytes(date, &self.date)
    }

    /// Computes and, when the zone text is short enough, keeps the base of
    /// a new date or zone.
    #[cold]
    fn remember(&mut self, date: &[u8], zone: &[u8]) -> Option<i64> {
        let d = digits(&date[0..2])?;
        let mo = month_of(&date[3..6])?;
        let y = digits(&date[7..11])?;
        if !(1..=31).contains(&d) {
            return None;
        }
        let off = parse_offset(zone)?;
        let base = days_from_civil(i64::from(y), mo, d) * SECS_PER_DAY - i64::from(off);
        if zone.len() <= ZONE_MAX {
            self.date.copy_from_slice(date);
            self.zone[..zone.len()].copy_from_slice(zone);
            self.zone_len = zone.len();
            self.base = Some(base);
        }
        Some(base)
    }
}

/// Parses ISO 8601 / RFC 3339 (`2023-10-10T13:55:36.123Z`, `+02:00`, a space
/// instead of `T`, or no zone, which is read in `zone`).
pub fn parse_iso(b: &[u8], zone: Zone) -> Option<i64> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let y = digits(&b[0..4])?;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let s = digits(&b[17..19])?;
    if b[13] != b':' || b[16] != b':' || !valid_clock(mo, d, h, mi, s) {
        return None;
    }
    let (nanos, used) = fraction(&b[19..]);
    let rest = &b[19 + used..];
    let local =
        days_from_civil(i64::from(y), mo, d) * SECS_PER_DAY + i64::from(h * 3600 + mi * 60 + s);
    match rest {
        [] => Some(zone.to_utc(local, nanos)),
        [b'Z'] | [b'z'] => Some(local * NS_PER_SEC + nanos),
        _ => {
            let rest = rest.strip_prefix(b" ").unwrap_or(rest);
            let off = parse_offset(rest)?;
            Some((local - i64::from(off)) * NS_PER_SEC + nanos)
        }
    }
}

/// Parses an epoch number written as text (`1696946136`, `1696946136.25`,
/// `1696946136000`); the unit (s, ms, us, ns) is read from the number of
/// integer digits. Decimal text is read exactly, not through a float.
pub fn parse_epoch(b: &[u8]) -> Option<i64> {
    let b = b.trim_ascii();
    let (int, frac) = match memchr::memchr(b'.', b) {
        Some(dot) => (&b[..dot], &b[dot + 1..]),
        None => (b, &b[..0]),
    };
    if int.is_empty() || int.len() > 19 || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let whole: i64 = std::str::from_utf8(int).ok()?.parse().ok()?;
    let scale: i64 = match int.len() {
        0..=11 => 1_000_000_000,
        12..=14 => 1_000_000,
        15..=17 => 1_000,
        _ => 1,
    };
    let mut fraction: i64 = 0;
    let mut unit = scale / 10;
    for &d in frac.iter().take(9) {
        fraction += i64::from(d - b'0') * unit;
        unit /= 10;
    }
    whole
        .checked_mul(scale)
        .map(|ns| ns + fraction)
        .filter(|&ns| ns > 0)
}

/// Converts an epoch number given as a JSON number to ns; integers are exact,
/// floats are rounded to the microsecond (their precision at this size).
pub fn epoch_to_ns(v: f64) -> Option<i64> {
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    if v.fract() == 0.0 && v < 9.0e18 {
        return epoch_int_to_ns(v as i64);
    }
    Some(((v * micros_per_unit(v)).round() as i64) * 1_000)
}

/// Converts an integer epoch in s, ms, us or ns (by magnitude) to ns.
pub fn epoch_int_to_ns(v: i64) -> Option<i64> {
    if v <= 0 {
        return None;
    }
    let digits = v.ilog10() + 1;
    let scale: i64 = match digits {
        0..=11 => 1_000_000_000,
        12..=14 => 1_000_000,
        15..=17 => 1_000,
        _ => 1,
    };
    v.checked_mul(scale)
}

/// Microseconds per unit of an epoch float, by magnitude.
fn micros_per_unit(v: f64) -> f64 {
    if v < 1e11 {
        1e6
    } else if v < 1e14 {
        1e3
    } else if v < 1e17 {
        1.0
    } else {
        1e-3
    }
}

/// Parses any time a JSON log may hold: ISO 8601, the access-log form, or an
/// epoch number given as text.
pub fn parse_any(b: &[u8], zone: Zone) -> Option<i64> {
    match b.first()? {
        b'0'..=b'9' if b.len() >= 19 && b[4] == b'-' => parse_iso(b, zone),
        b'0'..=b'9' if b.len() >= 26 && b[2] == b'/' => parse_clf(b),
        b'0'..=b'9' => parse_epoch(b),
        _ => parse_rfc2822(b),
    }
}

fn parse_rfc2822(b: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(b).ok()?;
    let dt = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    dt.timestamp_nanos_opt()
}

/// The first time written in a log line: an access-log `[...]` time or an
/// ISO 8601 time (read in `zone` when it has no offset).
pub fn first_time_in(line: &[u8], zone: Zone) -> Option<i64> {
    for open in memchr::memchr_iter(b'[', line).take(4) {
        let body = &line[open + 1..];
        if let Some(ts) = memchr::memchr(b']', body).and_then(|end| parse_clf(&body[..end])) {
            return Some(ts);
        }
    }
    for dash in memchr::memchr_iter(b'-', line) {
        let Some(start) = dash.checked_sub(4) else {
            continue;
        };
        let token = &line[start..];
        let len = token
            .iter()
            .take_while(|b| b.is_ascii_digit() || b"-:T .Z+,".contains(b))
            .count();
        let token = token[..len].trim_ascii_end();
        if token.len() < 19 {
            continue;
        }
        if let Some(ts) = parse_iso(token, zone).or_else(|| parse_iso(&token[..19], zone)) {
            return Some(ts);
        }
    }
    None
}

/// Formats UTC nanoseconds as RFC 3339 with the precision the value needs
/// (`2023-10-10T13:55:36Z`, or with `.123` / `.123456789`).
pub fn format_rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(NS_PER_SEC);
    let nanos = ns.rem_euclid(NS_PER_SEC) as u32;
    let Some(dt) = chrono::DateTime::from_timestamp(secs, nanos) else {
        return String::from("invalid-time");
    };
    let format = if nanos == 0 {
        "%Y-%m-%dT%H:%M:%SZ"
    } else if nanos % 1_000_000 == 0 {
        "%Y-%m-%dT%H:%M:%S%.3fZ"
    } else {
        "%Y-%m-%dT%H:%M:%S%.9fZ"
    };
    dt.format(format).to_string()
}

/// The UTC day (`YYYY-MM-DD`) of an instant.
pub fn day_of(ns: i64) -> String {
    let secs = ns.div_euclid(NS_PER_SEC);
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(dt) => dt.format("%Y-%m-%d").to_string(),
        None => String::from("invalid-day"),
    }
}

/// Parses a naive `YYYY-MM-DD HH:MM:SS` in `zone`; used by tests and the
/// generator.
pub fn naive_to_ns(text: &str, zone: Zone) -> Option<i64> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").ok()?;
    Some(zone.to_utc(naive.and_utc().timestamp(), 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> i64 {
        naive_to_ns(text, Zone::Utc).expect("valid test time")
    }

    #[test]
    fn remembered_dates_give_the_times_of_a_fresh_parse() {
        let times: [&[u8]; 12] = [
            b"10/Oct/2000:13:55:36 -0700",
            b"10/Oct/2000:13:55:37 -0700",
            b"10/Oct/2000:23:59:60 -0700",
            b"10/Oct/2000:24:00:00 -0700",
            b"10/Oct/2000:13:5x:36 -0700",
            b"10/Oct/2000:13:55:36 +0000",
            b"10/Oct/2000:13:55:36.5 +0000",
            b"11/Oct/2000:00:00:00 +0000",
            b"32/Oct/2000:00:00:00 +0000",
            b"11/Oct/2000:00:00:01 +00:00",
            b"11/Oct/2000:00:00:01 +0000 ",
            b"11/Oct/2000:00:00:02 +0000",
        ];
        let mut days = ClfDays::default();
        for t in times {
            assert_eq!(days.parse(t), ClfDays::default().parse(t), "{t:?}");
        }
        // The memo must not carry a date into a line whose date is bad.
        assert_eq!(
            days.parse(b"11/Oct/2000:00:00:03 +0000"),
            Some(971_222_403 * NS_PER_SEC)
        );
        assert_eq!(days.parse(b"1x/Oct/2000:00:00:03 +0000"), None);
        assert_eq!(
            days.parse(b"11/Oct/2000:00:00:03 +0000"),
            Some(971_222_403 * NS_PER_SEC)
        );
    }

    #[test]
    fn clf_with_offsets() {
        assert_eq!(
            parse_clf(b"10/Oct/2000:13:55:36 -0700"),
            Some(utc("2000-10-10 20:55:36"))
        );
        assert_eq!(
            parse_clf(b"26/Dec/2016:16:16:28 +0200"),
            Some(utc("2016-12-26 14:16:28"))
        );
        assert_eq!(
            parse_clf(b"01/Jan/2024:00:00:00 +0000"),
            Some(utc("2024-01-01 00:00:00"))
        );
        assert_eq!(
            parse_clf(b"01/Jan/2024:00:00:00.250 +0000"),
            Some(utc("2024-01-01 00:00:00") + 250_000_000)
        );
        assert_eq!(parse_clf(b"01/Foo/2024:00:00:00 +0000"), None);
        assert_eq!(parse_clf(b"01/Jan/2024:0/:00:00 +0000"), None);
        assert_eq!(parse_clf(b"01/Jan/2024:00:0::00 +0000"), None);
        assert_eq!(parse_clf(b"01/Jan/2024:00:00:6a +0000"), None);
        assert_eq!(parse_clf(b"01/Jan/2024:00:60:00 +0000"), None);
        assert_eq!(
            parse_clf(b"01/Jan/2024:23:59:59 +0000"),
            Some(utc("2024-01-01 23:59:59"))
        );
        assert_eq!(parse_clf(b"32/Jan/2024:00:00:00 +0000"), None);
        assert_eq!(parse_clf(b"01/Jan/2024:00:00:00"), None);
    }

    #[test]
    fn iso_variants() {
        let t = utc("2023-10-10 13:55:36");
        assert_eq!(parse_iso(b"2023-10-10T13:55:36Z", Zone::Utc), Some(t));
        assert_eq!(parse_iso(b"2023-10-10T15:55:36+02:00", Zone::Utc), Some(t));
        assert_eq!(parse_iso(b"2023-10-10T15:55:36+0200", Zone::Utc), Some(t));
        assert_eq!(parse_iso(b"2023-10-10 13:55:36", Zone::Utc), Some(t));
        assert_eq!(
            parse_iso(b"2023-10-10T13:55:36.5Z", Zone::Utc),
            Some(t + 500_000_000)
        );
        assert_eq!(
            parse_iso(b"2023-10-10T13:55:36.000123456Z", Zone::Utc),
            Some(t + 123_456)
        );
        assert_eq!(
            parse_iso(b"2023-10-10 15:55:36", Zone::Fixed(7200)),
            Some(t)
        );
        assert_eq!(parse_iso(b"2023-13-10T13:55:36Z", Zone::Utc), None);
    }

    #[test]
    fn named_zone_handles_daylight_saving() {
        let berlin = Zone::parse("Europe/Berlin").expect("known zone");
        // CEST (+02:00) in October, CET (+01:00) in December.
        assert_eq!(
            parse_iso(b"2023-10-10 15:55:36", berlin),
            Some(utc("2023-10-10 13:55:36"))
        );
        assert_eq!(
            parse_iso(b"2023-12-10 14:55:36", berlin),
            Some(utc("2023-12-10 13:55:36"))
        );
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert_eq!(Zone::parse("-05:00").ok(), Some(Zone::Fixed(-18000)));
    }

    #[test]
    fn epochs_by_magnitude() {
        let t = utc("2023-10-10 13:55:36");
        assert_eq!(parse_epoch(b"1696946136"), Some(t));
        assert_eq!(parse_epoch(b"1696946136.25"), Some(t + 250_000_000));
        assert_eq!(parse_epoch(b"1696946136000"), Some(t));
        assert_eq!(parse_any(b"1696946136000", Zone::Utc), Some(t));
        assert_eq!(parse_any(b"10/Oct/2023:13:55:36 +0000", Zone::Utc), Some(t));
    }

    #[test]
    fn window_bounds() {
        let w = Window::parse(Some("2023-10-10"), Some("2023-10-10"), Zone::Utc).expect("valid");
        assert!(w.contains(utc("2023-10-10 00:00:00")));
        assert!(w.contains(utc("2023-10-10 23:59:59")));
        assert!(!w.contains(utc("2023-10-11 00:00:00")));
        assert!(!w.contains(utc("2023-10-09 23:59:59")));
        let w = Window::parse(Some("2023-10-10T12:00:00Z"), None, Zone::Utc).expect("valid");
        assert!(!w.contains(utc("2023-10-10 11:59:59")));
        assert!(Window::parse(Some("2023-10-11"), Some("2023-10-10"), Zone::Utc).is_err());
        assert!(Window::parse(Some("yesterday"), None, Zone::Utc).is_err());
    }

    #[test]
    fn times_found_in_lines() {
        let t = utc("2023-10-10 13:55:36");
        assert_eq!(
            first_time_in(
                b"1.2.3.4 - - [10/Oct/2023:13:55:36 +0000] \"GET /\" 200 1",
                Zone::Utc
            ),
            Some(t)
        );
        assert_eq!(
            first_time_in(
                br#"{"a":"x-y","time":"2023-10-10T13:55:36Z","b":1}"#,
                Zone::Utc
            ),
            Some(t)
        );
        assert_eq!(first_time_in(b"no time here - at all", Zone::Utc), None);
    }

    #[test]
    fn formatting() {
        assert_eq!(
            format_rfc3339(utc("2023-10-10 13:55:36")),
            "2023-10-10T13:55:36Z"
        );
        assert_eq!(
            format_rfc3339(utc("2023-10-10 13:55:36") + 5_000_000),
            "2023-10-10T13:55:36.005Z"
        );
        assert_eq!(day_of(utc("2023-10-10 13:55:36")), "2023-10-10");
    }
}
