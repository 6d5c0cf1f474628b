//! Datetimes in the lexicon `datetime` format (atproto.com/specs/lexicon#datetime):
//! the intersection of RFC 3339, ISO 8601 and WHATWG HTML.
//!
//! Owns two levels of checking: the *syntax* (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`,
//! upper-case `T`/`Z`, no `-00:00`) and the full *parse* (a real calendar date and
//! clock time, not before year zero once the offset is applied). A [`Datetime`] keeps
//! the original string, because re-formatting a parsed time would change signed
//! record bytes. It never reads time zones from the system.

use super::{SyntaxError, string_newtype_impls, syntax_err};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// Longest accepted datetime string. The spec allows "arbitrary" fractional
/// digits; the reference implementations cap the whole string at 64 characters,
/// which still leaves 40 fractional digits, so we do the same for interoperability.
const MAX_LEN: usize = 64;
/// Shortest possible form: `YYYY-MM-DDTHH:MM:SSZ`.
const MIN_LEN: usize = 20;

/// A valid lexicon datetime: the original string plus the instant it names.
#[derive(Clone, Debug)]
pub struct Datetime {
    raw: String,
    parsed: DateTime<FixedOffset>,
}

impl Datetime {
    /// Check syntax and meaning of `s` (a real date and time, not before year zero).
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        let fields = syntax(s).map_err(|reason| syntax_err!(Datetime, s, "{reason}"))?;
        let parsed = fields
            .to_chrono()
            .map_err(|reason| syntax_err!(Datetime, s, "{reason}"))?;
        Ok(Datetime {
            raw: s.to_owned(),
            parsed,
        })
    }

    /// The current time in the canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub fn now() -> Self {
        Self::from_utc(Utc::now()).unwrap_or_else(|_| Self::epoch())
    }

    /// `dt` in the canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ` (truncated to
    /// milliseconds). Fails only for years outside 0000–9999, which the four-digit
    /// year of the format cannot express.
    pub fn from_utc(dt: DateTime<Utc>) -> Result<Self, SyntaxError> {
        let s = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            // A leap second shows as >= 1000 ms; keep it inside the second.
            dt.timestamp_subsec_millis().min(999),
        );
        Self::new(&s)
    }

    /// 1970-01-01T00:00:00.000Z, for `now()` on a clock outside years 0000–9999.
    fn epoch() -> Self {
        Datetime {
            raw: "1970-01-01T00:00:00.000Z".to_owned(),
            parsed: DateTime::UNIX_EPOCH.fixed_offset(),
        }
    }

    /// Whether `s` is a valid datetime (syntax and meaning).
    pub fn is_valid(s: &str) -> bool {
        Self::new(s).is_ok()
    }

    /// The string exactly as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The instant with the offset the string gave.
    pub fn to_chrono(&self) -> DateTime<FixedOffset> {
        self.parsed
    }

    /// The instant in UTC.
    pub fn to_utc(&self) -> DateTime<Utc> {
        self.parsed.with_timezone(&Utc)
    }

    /// Microseconds since the UNIX epoch (negative before 1970).
    pub fn timestamp_micros(&self) -> i64 {
        self.parsed.timestamp_micros()
    }
}

string_newtype_impls!(Datetime, "a datetime string");

/// Equal when the strings are equal: two spellings of one instant are different
/// values here, because records are compared and hashed as written.
impl PartialEq for Datetime {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for Datetime {}

impl Hash for Datetime {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.raw.hash(state);
    }
}

/// Chronological, with the string as tie-break so the order agrees with `Eq`.
impl Ord for Datetime {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parsed
            .cmp(&other.parsed)
            .then_with(|| self.raw.cmp(&other.raw))
    }
}

impl PartialOrd for Datetime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Whether `s` has datetime *syntax*. Some such strings still name no real time
/// (month 13, hour 25, ...); [`Datetime::new`] checks that too.
pub fn is_valid_datetime_syntax(s: &str) -> bool {
    syntax(s).is_ok()
}

/// The numbers in a syntactically valid datetime, not yet range-checked.
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// East of UTC, in minutes.
    offset_minutes: i32,
    offset_hour: u32,
    offset_minute: u32,
}

/// `n` ASCII digits at `at` as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let run = b.get(at..at + n)?;
    run.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Whether byte `at` is `c`.
fn is(b: &[u8], at: usize, c: u8) -> bool {
    b.get(at) == Some(&c)
}

/// The syntax rules; `Err` names the first one broken.
fn syntax(s: &str) -> Result<Fields, &'static str> {
    let b = s.as_bytes();
    if b.len() > MAX_LEN {
        return Err("longer than 64 characters");
    }
    if b.len() < MIN_LEN {
        return Err("too short: needs YYYY-MM-DDTHH:MM:SS and a timezone");
    }
    let (Some(year), true, Some(month), true, Some(day)) = (
        digits(b, 0, 4),
        is(b, 4, b'-'),
        digits(b, 5, 2),
        is(b, 7, b'-'),
        digits(b, 8, 2),
    ) else {
        return Err("the date must be YYYY-MM-DD (four-digit year, two-digit month and day)");
    };
    if !is(b, 10, b'T') {
        return Err("date and time must be separated by an upper-case 'T'");
    }
    let (Some(hour), true, Some(minute), true, Some(second)) = (
        digits(b, 11, 2),
        is(b, 13, b':'),
        digits(b, 14, 2),
        is(b, 16, b':'),
        digits(b, 17, 2),
    ) else {
        return Err("the time must be HH:MM:SS (two digits each; seconds are required)");
    };
    let mut at = 19;
    let mut nanos = 0u32;
    if is(b, at, b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            // Digits past nanoseconds are allowed but do not change the instant.
            if at - start < 9 {
                nanos = nanos * 10 + u32::from(b.get(at).map_or(0, |c| c - b'0'));
            }
            at += 1;
        }
        let count = at - start;
        if count == 0 {
            return Err("a '.' must be followed by fractional-second digits");
        }
        for _ in count..9 {
            nanos *= 10;
        }
    }
    let tz = b.get(at..).unwrap_or_default();
    let (offset_hour, offset_minute, sign) = match tz {
        b"Z" => (0, 0, 1),
        [sign @ (b'+' | b'-'), ..] if tz.len() == 6 => {
            let (Some(h), true, Some(m)) = (digits(tz, 1, 2), is(tz, 3, b':'), digits(tz, 4, 2))
            else {
                return Err("the timezone offset must be ±HH:MM");
            };
            if *sign == b'-' && h == 0 && m == 0 {
                return Err("\"-00:00\" is not allowed (use 'Z' or \"+00:00\")");
            }
            (h, m, if *sign == b'-' { -1 } else { 1 })
        }
        [] => return Err("a timezone is required ('Z' or ±HH:MM)"),
        b"z" => return Err("the UTC designator must be an upper-case 'Z'"),
        _ => return Err("the timezone must be 'Z' or ±HH:MM, with nothing after it"),
    };
    Ok(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        // Both parts are two digits (< 100), so this cannot overflow.
        offset_minutes: sign * (offset_hour * 60 + offset_minute) as i32,
        offset_hour,
        offset_minute,
    })
}

impl Fields {
    /// The full parse: real date, real time, real offset, not before year zero.
    fn to_chrono(&self) -> Result<DateTime<FixedOffset>, &'static str> {
        // Four digits, so the year fits an i32.
        let date = NaiveDate::from_ymd_opt(self.year as i32, self.month, self.day)
            .ok_or("no such date (month or day out of range)")?;
        if self.hour > 23 || self.minute > 59 || self.second > 59 {
            return Err("no such time (hour, minute or second out of range)");
        }
        let time = NaiveTime::from_hms_nano_opt(self.hour, self.minute, self.second, self.nanos)
            .ok_or("no such time (hour, minute or second out of range)")?;
        if self.offset_hour > 23 || self.offset_minute > 59 {
            return Err("timezone offset out of range");
        }
        let offset = FixedOffset::east_opt(self.offset_minutes * 60)
            .ok_or("timezone offset out of range")?;
        let dt = offset
            .from_local_datetime(&date.and_time(time))
            .single()
            .ok_or("not representable with this offset")?;
        if dt.naive_utc().year() < 0 {
            return Err("before year zero once the timezone offset is applied");
        }
        Ok(dt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_original_string() {
        let d = Datetime::new("1985-04-12T23:20:50.120000Z").expect("valid");
        assert_eq!(d.as_str(), "1985-04-12T23:20:50.120000Z");
        assert_eq!(d.timestamp_micros(), 482_196_050_120_000);
    }

    #[test]
    fn offsets_are_applied() {
        let a = Datetime::new("1985-04-12T23:20:50.123-07:00").expect("valid");
        let b = Datetime::new("1985-04-13T06:20:50.123Z").expect("valid");
        assert_eq!(a.to_utc(), b.to_utc());
        assert_ne!(a, b, "different strings are different values");
        assert_eq!(
            a.cmp(&b),
            a.as_str().cmp(b.as_str()),
            "same instant: string tie-break"
        );
    }

    #[test]
    fn fraction_beyond_nanoseconds_is_truncated() {
        let d = Datetime::new("1985-04-12T23:20:50.1235678912345Z").expect("valid");
        assert_eq!(d.to_utc().timestamp_subsec_nanos(), 123_567_891);
    }

    #[test]
    fn now_is_canonical() {
        let n = Datetime::now();
        let s = n.as_str();
        assert_eq!(s.len(), 24, "{s}");
        assert!(
            s.ends_with('Z') && s.as_bytes().get(19) == Some(&b'.'),
            "{s}"
        );
        assert_eq!(Datetime::new(s).expect("now parses"), n);
    }

    #[test]
    fn from_utc_is_millisecond_canonical() {
        let dt = DateTime::from_timestamp_micros(482_196_050_123_456).expect("in range");
        let d = Datetime::from_utc(dt).expect("valid");
        assert_eq!(d.as_str(), "1985-04-12T23:20:50.123Z");
    }

    #[test]
    fn leap_seconds_and_day_overflow_are_refused() {
        assert!(is_valid_datetime_syntax("1985-04-12T23:59:60Z"));
        assert!(Datetime::new("1985-04-12T23:59:60Z").is_err());
        assert!(Datetime::new("1985-02-29T00:00:00Z").is_err());
        assert!(Datetime::new("1984-02-29T00:00:00Z").is_ok());
        assert!(Datetime::new("1985-04-12T23:20:50+24:00").is_err());
    }

    #[test]
    fn errors_name_the_rule() {
        let e = Datetime::new("1985-04-12T23:20:50.123").expect_err("no tz");
        assert!(e.to_string().contains("timezone is required"), "{e}");
        let e = Datetime::new("1985-13-12T23:20:50.123Z").expect_err("month 13");
        assert!(e.to_string().contains("no such date"), "{e}");
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let d = Datetime::new("2024-01-01T12:00:00.000+01:00").expect("valid");
        let json = serde_json::to_string(&d).expect("serialize");
        assert_eq!(json, "\"2024-01-01T12:00:00.000+01:00\"");
        assert_eq!(
            serde_json::from_str::<Datetime>(&json).expect("deserialize"),
            d
        );
        assert!(serde_json::from_str::<Datetime>("\"1985-00-12T23:20:50.123Z\"").is_err());
    }
}
