//! TIDs: 13-character base32-sortable timestamp identifiers (atproto.com/specs/tid),
//! and the clock that issues them.
//!
//! Owns TID syntax, the 64-bit layout (top bit 0, 53 bits of microseconds since the
//! UNIX epoch, 10 bits of clock id) and a thread-safe generator whose output never
//! goes backwards. It does not persist the last TID issued; a caller that must stay
//! ahead of stored revisions passes the stored one to [`TidClock::next_after`].

use super::{SyntaxError, string_newtype_impls, syntax_err};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// base32-sortable: the digit values 0..32 in ASCII order, so string order equals
/// numeric order.
const ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";
const LEN: usize = 13;
/// The timestamp field is 53 bits wide.
const MAX_MICROS: u64 = (1 << 53) - 1;
/// The clock-id field is 10 bits wide.
const CLOCK_ID_MASK: u16 = 0x3ff;

/// A syntactically valid TID. Ordering (derived from the string) equals ordering
/// of the underlying integers.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Tid(String);

impl Tid {
    /// Validate `s` as a TID.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        check(s).map_err(|reason| syntax_err!(Tid, s, "{reason}"))?;
        Ok(Tid(s.to_owned()))
    }

    /// Whether `s` is a valid TID.
    pub fn is_valid(s: &str) -> bool {
        check(s).is_ok()
    }

    /// The TID for a timestamp and clock id. Bits outside the fields are dropped:
    /// `micros` keeps its low 53 bits and `clock_id` its low 10.
    pub fn from_parts(micros: u64, clock_id: u16) -> Tid {
        Tid::from_u64(((micros & MAX_MICROS) << 10) | u64::from(clock_id & CLOCK_ID_MASK))
    }

    /// The TID encoding the 64-bit integer `v`.
    pub fn from_u64(v: u64) -> Tid {
        let s = (0..LEN)
            .map(|i| {
                let shift = 5 * (LEN - 1 - i);
                // Masked to 0..32, so the index is in bounds.
                char::from(ALPHABET[((v >> shift) & 31) as usize])
            })
            .collect();
        Tid(s)
    }

    /// The 64-bit integer this TID encodes.
    pub fn to_u64(&self) -> u64 {
        self.0
            .bytes()
            .fold(0u64, |acc, b| (acc << 5) | u64::from(digit(b).unwrap_or(0)))
    }

    /// Microseconds since the UNIX epoch.
    pub fn timestamp_micros(&self) -> u64 {
        (self.to_u64() >> 10) & MAX_MICROS
    }

    /// The 10-bit clock identifier.
    pub fn clock_id(&self) -> u16 {
        // Masked to 10 bits, so the cast is lossless.
        (self.to_u64() & u64::from(CLOCK_ID_MASK)) as u16
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Tid, "a TID");

/// The value of one base32-sortable digit.
fn digit(b: u8) -> Option<u8> {
    match b {
        b'2'..=b'7' => Some(b - b'2'),
        b'a'..=b'z' => Some(b - b'a' + 6),
        _ => None,
    }
}

/// The TID rules; `Err` names the first one broken.
fn check(s: &str) -> Result<(), &'static str> {
    if s.len() != LEN {
        return Err("must be exactly 13 characters");
    }
    if !s.bytes().all(|b| digit(b).is_some()) {
        return Err("may contain only the base32-sortable characters 234567a-z (lowercase)");
    }
    // 13 digits carry 65 bits; the first may only use the low 4 so the value fits 64.
    if s.bytes().next().and_then(digit).is_some_and(|d| d >= 16) {
        return Err("the first character must be one of 234567abcdefghij");
    }
    Ok(())
}

/// Issues TIDs that strictly increase, even when the wall clock steps backwards or
/// many are asked for in the same microsecond. Safe to share between threads.
#[derive(Debug)]
pub struct TidClock {
    clock_id: u16,
    /// The timestamp field of the last TID issued.
    last: Mutex<u64>,
}

impl TidClock {
    /// A clock with a random clock id.
    pub fn new() -> Self {
        Self::with_clock_id(random_clock_id())
    }

    /// A clock with the given clock id (its low 10 bits are used).
    pub fn with_clock_id(clock_id: u16) -> Self {
        TidClock {
            clock_id: clock_id & CLOCK_ID_MASK,
            last: Mutex::new(0),
        }
    }

    pub fn clock_id(&self) -> u16 {
        self.clock_id
    }

    /// The next TID: the current time, or one microsecond past the last TID issued
    /// if the clock has not moved forward since.
    pub fn next(&self) -> Tid {
        self.issue(now_micros(), 0)
    }

    /// The next TID, also strictly greater than `prev` (e.g. the last stored commit
    /// revision, which may come from another clock or an earlier run).
    ///
    /// The only case where the result is not greater is when `prev` is already at or
    /// beyond the largest well-formed timestamp (the year 2255, or a TID with the top
    /// bit set); the result then saturates at that largest timestamp.
    pub fn next_after(&self, prev: &Tid) -> Tid {
        self.issue(now_micros(), (prev.to_u64() >> 10).saturating_add(1))
    }

    /// Issue a TID for wall-clock time `now`, no earlier than timestamp `floor`.
    fn issue(&self, now: u64, floor: u64) -> Tid {
        // The guarded value is a plain integer that is always consistent, so a
        // panic in another holder does not make it unusable.
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let micros = now.max(last.saturating_add(1)).max(floor).min(MAX_MICROS);
        *last = micros;
        Tid::from_parts(micros, self.clock_id)
    }
}

impl Default for TidClock {
    fn default() -> Self {
        Self::new()
    }
}

/// Microseconds since the UNIX epoch by the wall clock (0 if it reads before 1970).
fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// A random 10-bit clock id; if the OS has no randomness to give, the sub-second
/// part of the clock is the best remaining source of variety between processes.
fn random_clock_id() -> u16 {
    let bits = getrandom::u32().unwrap_or_else(|_| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ std::process::id())
            .unwrap_or_else(|_| std::process::id())
    });
    // Masked to 10 bits, so the cast is lossless.
    (bits & u32::from(CLOCK_ID_MASK)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::Arc;

    #[test]
    fn zero_and_known_values() {
        assert_eq!(Tid::from_u64(0).as_str(), "2222222222222");
        let t = Tid::new("3jzfcijpj2z2a").expect("valid");
        assert_eq!(Tid::from_u64(t.to_u64()), t);
        assert_eq!(Tid::from_parts(t.timestamp_micros(), t.clock_id()), t);
        // Top bit set: valid syntax, still round-trips as an integer.
        let high = Tid::from_u64(u64::MAX);
        assert!(Tid::is_valid(high.as_str()), "{high}");
        assert_eq!(high.to_u64(), u64::MAX);
    }

    #[test]
    fn from_parts_masks_out_of_range_fields() {
        let t = Tid::from_parts(u64::MAX, u16::MAX);
        assert_eq!(t.timestamp_micros(), MAX_MICROS);
        assert_eq!(t.clock_id(), 1023);
        assert!(t.to_u64() >> 63 == 0, "top bit must stay clear");
    }

    #[test]
    fn clock_is_monotonic_when_wall_clock_goes_backwards() {
        let clock = TidClock::with_clock_id(5);
        let a = clock.issue(1_000_000, 0);
        let b = clock.issue(400_000, 0); // wall clock stepped back
        let c = clock.issue(400_000, 0); // and stays there
        let d = clock.issue(1_000_001, 0); // catches up to where we already are
        let e = clock.issue(5_000_000, 0); // and moves on
        assert!(a < b && b < c && c < d && d < e, "{a} {b} {c} {d} {e}");
        assert_eq!(a.timestamp_micros(), 1_000_000);
        assert_eq!(b.timestamp_micros(), 1_000_001);
        assert_eq!(c.timestamp_micros(), 1_000_002);
        assert_eq!(d.timestamp_micros(), 1_000_003);
        assert_eq!(e.timestamp_micros(), 5_000_000);
        assert!([a, b, c, d, e].iter().all(|t| t.clock_id() == 5));
    }

    #[test]
    fn same_microsecond_still_increases() {
        let clock = TidClock::with_clock_id(0);
        let mut prev = clock.issue(42, 0);
        for _ in 0..1000 {
            let t = clock.issue(42, 0);
            assert!(t > prev);
            prev = t;
        }
    }

    #[test]
    fn next_after_beats_a_future_revision() {
        let clock = TidClock::with_clock_id(1);
        // A stored revision far ahead of the wall clock, from a higher clock id.
        let stored = Tid::from_parts(now_micros() + 3_600_000_000, 1023);
        let t = clock.next_after(&stored);
        assert!(t > stored, "{t} <= {stored}");
        let u = clock.next();
        assert!(u > t, "the clock remembers what next_after issued");
        let v = clock.next_after(&Tid::from_u64(0));
        assert!(v > u);
    }

    #[test]
    fn next_after_saturates_instead_of_overflowing() {
        let clock = TidClock::with_clock_id(1);
        let t = clock.next_after(&Tid::from_u64(u64::MAX));
        assert_eq!(t.timestamp_micros(), MAX_MICROS);
        assert!(t.to_u64() >> 63 == 0);
    }

    #[test]
    fn real_clock_increases_across_threads() {
        let clock = Arc::new(TidClock::new());
        assert!(clock.clock_id() <= 1023);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let clock = Arc::clone(&clock);
                std::thread::spawn(move || {
                    let tids: Vec<Tid> = (0..500).map(|_| clock.next()).collect();
                    tids
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            let tids = h.join().expect("thread");
            assert!(tids.windows(2).all(|w| w[0] < w[1]), "per-thread order");
            all.extend(tids);
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n, "no TID issued twice");
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let t = Tid::new("3jzfcijpj2z2a").expect("valid");
        let json = serde_json::to_string(&t).expect("serialize");
        assert_eq!(json, "\"3jzfcijpj2z2a\"");
        assert_eq!(serde_json::from_str::<Tid>(&json).expect("deserialize"), t);
        assert!(serde_json::from_str::<Tid>("\"kjzfcijpj2z2a\"").is_err());
    }

    proptest! {
        #[test]
        fn parts_round_trip(micros in 0..=MAX_MICROS, clock_id in 0u16..1024) {
            let t = Tid::from_parts(micros, clock_id);
            let parsed = Tid::new(t.as_str()).expect("from_parts output is valid");
            prop_assert_eq!(parsed.timestamp_micros(), micros);
            prop_assert_eq!(parsed.clock_id(), clock_id);
            prop_assert_eq!(&parsed, &t);
        }

        #[test]
        fn string_order_is_numeric_order(a: u64, b: u64) {
            let (ta, tb) = (Tid::from_u64(a), Tid::from_u64(b));
            prop_assert!(Tid::is_valid(ta.as_str()));
            prop_assert_eq!(ta.to_u64(), a);
            prop_assert_eq!(ta.cmp(&tb), a.cmp(&b));
        }
    }
}
