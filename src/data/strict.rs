//! The strict DAG-CBOR checker: one pass over the raw bytes that refuses anything that is
//! not canonical DAG-CBOR as atproto uses it, before any decoder sees them.
//!
//! Owns only the byte-level rules (see [`CborRule`]); it builds no values and allocates
//! nothing proportional to the input except its stack of open containers, which is
//! bounded by the depth limit. It must never panic on any input: every read is
//! bounds-checked, and the walk is iterative so deep nesting cannot overflow the stack.

use super::{CborRule, DataError};
use cid::Cid;
use std::cmp::Ordering;

const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_NEGATIVE: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_TAG: u8 = 6;
const MAJOR_SIMPLE: u8 = 7;

const TAG_CID: u64 = 42;
const SIMPLE_FALSE: u8 = 20;
const SIMPLE_NULL: u8 = 22;

/// A container still being read.
#[derive(Debug)]
enum Frame {
    Array {
        remaining: u64,
    },
    Map {
        /// Entries (key + value) not yet complete.
        remaining: u64,
        /// True when the next item is a key.
        want_key: bool,
        /// Byte range of the previous key's text, for the order check.
        last_key: Option<(usize, usize)>,
    },
}

impl Frame {
    fn done(&self) -> bool {
        match self {
            Frame::Array { remaining } => *remaining == 0,
            Frame::Map {
                remaining,
                want_key,
                ..
            } => *remaining == 0 && *want_key,
        }
    }
}

/// What one head (plus any payload that belongs to it) turned out to be.
enum Item {
    Scalar,
    /// A text string, with the byte range of its UTF-8 content (map keys need it).
    Text(usize, usize),
    Container(Frame),
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

fn fail(offset: usize, rule: CborRule) -> DataError {
    DataError::NotDagCbor { offset, rule }
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, item_start: usize) -> Result<&'a [u8], DataError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| fail(item_start, CborRule::Truncated))?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| fail(item_start, CborRule::Truncated))?;
        self.pos = end;
        Ok(out)
    }

    /// Read a head: (major type, argument). Refuses reserved, indefinite and non-minimal
    /// encodings. Major type 7 is returned raw (its info bits as the argument, without
    /// reading any float payload) so the caller can classify it.
    fn head(&mut self) -> Result<(u8, u64), DataError> {
        let start = self.pos;
        let first = *self
            .take(1, start)?
            .first()
            .ok_or_else(|| fail(start, CborRule::Truncated))?;
        let major = first >> 5;
        let info = first & 0x1f;
        if major == MAJOR_SIMPLE {
            return Ok((major, u64::from(info)));
        }
        let (arg, min) = match info {
            0..=23 => (u64::from(info), 0),
            24 => (self.be(1, start)?, 24),
            25 => (self.be(2, start)?, 1 << 8),
            26 => (self.be(4, start)?, 1 << 16),
            27 => (self.be(8, start)?, 1 << 32),
            28..=30 => return Err(fail(start, CborRule::ReservedInfo)),
            _ => {
                // 31: indefinite length for strings and containers; malformed otherwise.
                let rule = if (MAJOR_BYTES..=MAJOR_MAP).contains(&major) {
                    CborRule::Indefinite
                } else {
                    CborRule::ReservedInfo
                };
                return Err(fail(start, rule));
            }
        };
        if arg < min {
            return Err(fail(start, CborRule::NonMinimal));
        }
        Ok((major, arg))
    }

    /// A big-endian unsigned integer of `n` (1, 2, 4 or 8) bytes.
    fn be(&mut self, n: usize, start: usize) -> Result<u64, DataError> {
        let raw = self.take(n, start)?;
        Ok(raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// A length argument as usize, refusing lengths that cannot fit in what is left.
    fn payload(&mut self, len: u64, start: usize) -> Result<&'a [u8], DataError> {
        let len = usize::try_from(len).map_err(|_| fail(start, CborRule::Truncated))?;
        self.take(len, start)
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// Read one item's head and any payload that belongs to it (string bytes, the CID of a
    /// tag 42). Containers come back as a frame for their contents.
    fn item(&mut self) -> Result<Item, DataError> {
        let start = self.pos;
        let (major, arg) = self.head()?;
        match major {
            MAJOR_UNSIGNED | MAJOR_NEGATIVE => {
                // Positive values up to i64::MAX; negative ones -1-arg down to i64::MIN.
                if arg > i64::MAX as u64 {
                    return Err(fail(start, CborRule::IntegerRange));
                }
                Ok(Item::Scalar)
            }
            MAJOR_BYTES => {
                self.payload(arg, start)?;
                Ok(Item::Scalar)
            }
            MAJOR_TEXT => {
                let text_start = self.pos;
                let text = self.payload(arg, start)?;
                std::str::from_utf8(text).map_err(|_| fail(start, CborRule::InvalidUtf8))?;
                Ok(Item::Text(text_start, self.pos))
            }
            MAJOR_ARRAY => {
                // Every element takes at least one byte: a count beyond what is left is a
                // lie, refused before anyone sizes an allocation by it.
                if arg > self.remaining() as u64 {
                    return Err(fail(start, CborRule::Truncated));
                }
                Ok(Item::Container(Frame::Array { remaining: arg }))
            }
            MAJOR_MAP => {
                if arg > (self.remaining() / 2) as u64 {
                    return Err(fail(start, CborRule::Truncated));
                }
                Ok(Item::Container(Frame::Map {
                    remaining: arg,
                    want_key: true,
                    last_key: None,
                }))
            }
            MAJOR_TAG => {
                if arg != TAG_CID {
                    return Err(fail(start, CborRule::Tag(arg)));
                }
                self.link(start)?;
                Ok(Item::Scalar)
            }
            _ => self.simple(arg, start),
        }
    }

    /// The byte string after tag 42: 0x00 then exactly one binary CID.
    fn link(&mut self, tag_start: usize) -> Result<(), DataError> {
        let start = self.pos;
        if self.remaining() == 0 {
            return Err(fail(tag_start, CborRule::Truncated));
        }
        let (major, len) = self.head()?;
        if major != MAJOR_BYTES {
            return Err(fail(start, CborRule::LinkNotBytes));
        }
        let raw = self.payload(len, start)?;
        let Some((&prefix, mut cid_bytes)) = raw.split_first() else {
            return Err(fail(start, CborRule::LinkPrefix));
        };
        if prefix != 0x00 {
            return Err(fail(start, CborRule::LinkPrefix));
        }
        let whole = cid_bytes.len();
        match Cid::read_bytes(&mut cid_bytes) {
            // Exactly the bytes, and exactly as long as the CID's own encoding: no
            // trailing bytes, and no overlong varints (which would re-encode differently).
            Ok(cid) if cid_bytes.is_empty() && cid.encoded_len() == whole => Ok(()),
            _ => Err(fail(start, CborRule::LinkCid)),
        }
    }

    /// Major type 7: only false, true and null belong to the data model.
    fn simple(&mut self, info: u64, start: usize) -> Result<Item, DataError> {
        match info {
            i if (u64::from(SIMPLE_FALSE)..=u64::from(SIMPLE_NULL)).contains(&i) => {
                Ok(Item::Scalar)
            }
            25..=27 => Err(fail(start, CborRule::Float)),
            28..=30 => Err(fail(start, CborRule::ReservedInfo)),
            31 => Err(fail(start, CborRule::Indefinite)),
            _ => Err(fail(start, CborRule::SimpleValue)),
        }
    }
}

/// DAG-CBOR key order: shorter first, then bytewise.
fn key_order(a: &[u8], b: &[u8]) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Check that `bytes` is exactly one item of strict DAG-CBOR within the limits.
pub(crate) fn check(bytes: &[u8], max_bytes: usize, max_depth: usize) -> Result<(), DataError> {
    if bytes.len() > max_bytes {
        return Err(DataError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    let mut r = Reader { bytes, pos: 0 };
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        let start = r.pos;
        let want_key = matches!(stack.last(), Some(Frame::Map { want_key: true, .. }));
        if want_key && bytes.get(start).is_some_and(|b| b >> 5 != MAJOR_TEXT) {
            return Err(fail(start, CborRule::MapKeyNotText));
        }
        let item = r.item()?;
        match stack.last_mut() {
            Some(Frame::Map {
                remaining,
                want_key,
                last_key,
            }) => {
                if *want_key {
                    let Item::Text(key_start, key_end) = item else {
                        return Err(fail(start, CborRule::MapKeyNotText));
                    };
                    let key = bytes.get(key_start..key_end).unwrap_or_default();
                    if let Some((ps, pe)) = *last_key {
                        let prev = bytes.get(ps..pe).unwrap_or_default();
                        match key_order(prev, key) {
                            Ordering::Less => {}
                            Ordering::Equal => {
                                return Err(fail(start, CborRule::DuplicateMapKey));
                            }
                            Ordering::Greater => return Err(fail(start, CborRule::MapKeyOrder)),
                        }
                    }
                    *last_key = Some((key_start, key_end));
                    *want_key = false;
                } else {
                    *remaining = remaining.saturating_sub(1);
                    *want_key = true;
                }
            }
            Some(Frame::Array { remaining }) => *remaining = remaining.saturating_sub(1),
            None => {}
        }
        if let Item::Container(frame) = item {
            if stack.len() >= max_depth {
                return Err(DataError::TooDeep { limit: max_depth });
            }
            stack.push(frame);
        }
        while stack.last().is_some_and(Frame::done) {
            stack.pop();
        }
        if stack.is_empty() {
            break;
        }
    }
    if r.pos != bytes.len() {
        return Err(fail(r.pos, CborRule::TrailingBytes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(bytes: &[u8]) -> Option<CborRule> {
        match check(bytes, 1 << 20, 64) {
            Err(DataError::NotDagCbor { rule, .. }) => Some(rule),
            _ => None,
        }
    }

    #[test]
    fn accepts_simple_items() {
        for ok in [
            &[0x00][..],
            &[0x17],
            &[0x18, 0x18],
            &[0x20],
            &[0xf4],
            &[0xf5],
            &[0xf6],
        ] {
            assert_eq!(check(ok, 16, 4), Ok(()), "{ok:02x?}");
        }
        // {"a": 1, "bb": [], "c": 2}? No: "c" (len 1) must precede "bb" (len 2).
        assert_eq!(
            rule(&[0xa2, 0x62, b'b', b'b', 0x80, 0x61, b'c', 0x01]),
            Some(CborRule::MapKeyOrder)
        );
        assert_eq!(
            check(&[0xa2, 0x61, b'c', 0x01, 0x62, b'b', b'b', 0x80], 16, 4),
            Ok(())
        );
    }

    #[test]
    fn empty_input_is_truncated() {
        assert_eq!(rule(&[]), Some(CborRule::Truncated));
    }
}
