//! One MST node: key layers, prefix compression, and the exact DAG-CBOR form.
//!
//! A node is `{e: [{k, p, t, v}...], l}` in canonical DAG-CBOR key order, `l` and `t`
//! always present (null when there is no subtree), `k` the key bytes after the `p`
//! bytes shared with the previous key of the same node (the first entry has `p = 0`).
//! The codec is written by hand for speed and strictness: decoding accepts exactly the
//! bytes [`NodeData::encode`] would produce (definite lengths, shortest integers, the
//! one key order, maximal prefix compression), so a node that decodes is canonical and
//! re-encodes to the same CID. This file knows nothing about trees, stores or layers
//! of neighbouring nodes.

use super::MstError;
use cid::Cid;
use sha2::{Digest, Sha256};

/// Longest MST key accepted (the reference's repo-path limit).
pub const MAX_KEY_LEN: usize = 1024;

/// The MST layer of a key: leading zero bits of SHA-256(key), divided by 2 (fanout 4).
pub fn key_height(key: &[u8]) -> u8 {
    let digest = Sha256::digest(key);
    let mut zeros: u32 = 0;
    for byte in digest.iter() {
        if *byte == 0 {
            zeros += 8;
        } else {
            zeros += byte.leading_zeros();
            break;
        }
    }
    // At most 256 / 2 = 128: always fits.
    (zeros / 2) as u8
}

/// Length of the shared byte prefix of two keys.
pub fn common_prefix_len(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b.iter()).take_while(|(x, y)| x == y).count()
}

/// Check a repository MST key: `collection/rkey`, one `/`, both parts non-empty, only
/// `A-Za-z0-9 . - _ : ~`, at most [`MAX_KEY_LEN`] bytes.
pub fn validate_key(key: &str) -> Result<(), MstError> {
    let bad = |why: &str| Err(MstError::InvalidKey(format!("{key:?}: {why}")));
    if key.is_empty() {
        return bad("empty");
    }
    if key.len() > MAX_KEY_LEN {
        return bad("longer than 1024 bytes");
    }
    let Some((collection, rkey)) = key.split_once('/') else {
        return bad("no '/' between collection and record key");
    };
    if collection.is_empty() || rkey.is_empty() {
        return bad("empty collection or record key");
    }
    if rkey.contains('/') {
        return bad("more than one '/'");
    }
    let ok = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':' | b'~');
    if !collection.bytes().all(ok) || !rkey.bytes().all(ok) {
        return bad("character outside A-Za-z0-9.-_:~");
    }
    if rkey == "." || rkey == ".." {
        return bad("record key '.' or '..'");
    }
    Ok(())
}

/// One entry of a node: a full key (decompressed), its value, and the subtree to its right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryData {
    /// The whole key (prefix compression undone).
    pub key: String,
    /// The value: a record CID.
    pub value: Cid,
    /// The subtree holding the keys between this entry and the next (`t`).
    pub right: Option<Cid>,
}

/// A decoded node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeData {
    /// The leftmost subtree (`l`).
    pub left: Option<Cid>,
    /// Entries in strictly increasing key order.
    pub entries: Vec<EntryData>,
}

impl NodeData {
    /// Whether the node holds nothing at all (only the root of an empty tree may).
    pub fn is_empty(&self) -> bool {
        self.left.is_none() && self.entries.is_empty()
    }

    /// The subtree pointer before entry `i` (`i == entries.len()` is the last one).
    pub fn slot(&self, i: usize) -> Option<Cid> {
        if i == 0 {
            self.left
        } else {
            self.entries.get(i - 1).and_then(|e| e.right)
        }
    }

    /// Replace the subtree pointer before entry `i`.
    pub fn set_slot(&mut self, i: usize, cid: Option<Cid>) {
        if i == 0 {
            self.left = cid;
        } else if let Some(e) = self.entries.get_mut(i - 1) {
            e.right = cid;
        }
    }

    /// Index of the first entry whose key is `>= key` (`entries.len()` if none).
    pub fn lower_bound(&self, key: &str) -> usize {
        self.entries.partition_point(|e| e.key.as_str() < key)
    }

    /// The canonical DAG-CBOR bytes of this node.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.entries.len() * 90);
        out.push(0xa2); // map(2)
        out.extend_from_slice(&[0x61, b'e']);
        head(&mut out, 4, self.entries.len() as u64);
        let mut prev: &[u8] = &[];
        for e in &self.entries {
            let key = e.key.as_bytes();
            let p = common_prefix_len(prev, key);
            out.push(0xa4); // map(4)
            out.extend_from_slice(&[0x61, b'k']);
            let suffix = key.get(p..).unwrap_or_default();
            head(&mut out, 2, suffix.len() as u64);
            out.extend_from_slice(suffix);
            out.extend_from_slice(&[0x61, b'p']);
            head(&mut out, 0, p as u64);
            out.extend_from_slice(&[0x61, b't']);
            opt_link(&mut out, e.right.as_ref());
            out.extend_from_slice(&[0x61, b'v']);
            link(&mut out, &e.value);
            prev = key;
        }
        out.extend_from_slice(&[0x61, b'l']);
        opt_link(&mut out, self.left.as_ref());
        out
    }

    /// Decode canonical node bytes, refusing anything [`encode`](Self::encode) would
    /// not have written.
    pub fn decode(bytes: &[u8]) -> Result<NodeData, MstError> {
        let mut r = Reader { buf: bytes, pos: 0 };
        r.expect(&[0xa2, 0x61, b'e'], "node must be the map {e, l}")?;
        let n = r.head(4, "e must be an array")?;
        // Every entry takes at least 50 bytes: reject absurd counts before allocating.
        if n > (bytes.len() / 16) as u64 {
            return Err(MstError::Decode("entry count larger than the block".into()));
        }
        let mut entries: Vec<EntryData> = Vec::with_capacity(n as usize);
        for _ in 0..n {
            r.expect(&[0xa4, 0x61, b'k'], "entry must be the map {k, p, t, v}")?;
            let klen = r.head(2, "k must be a byte string")?;
            let suffix = r.take(klen, "k")?;
            r.expect(&[0x61, b'p'], "entry key p")?;
            let p = r.head(0, "p must be an unsigned integer")?;
            r.expect(&[0x61, b't'], "entry key t")?;
            let right = r.opt_link()?;
            r.expect(&[0x61, b'v'], "entry key v")?;
            let value = r.link()?;
            let prev: &str = entries.last().map(|e| e.key.as_str()).unwrap_or("");
            let p = usize::try_from(p).map_err(|_| MstError::Decode("p too large".into()))?;
            let Some(shared) = prev.as_bytes().get(..p) else {
                return Err(MstError::Decode(format!(
                    "prefix length {p} longer than the previous key"
                )));
            };
            let mut full = Vec::with_capacity(p + suffix.len());
            full.extend_from_slice(shared);
            full.extend_from_slice(suffix);
            let key =
                String::from_utf8(full).map_err(|_| MstError::Decode("key is not UTF-8".into()))?;
            if common_prefix_len(prev.as_bytes(), key.as_bytes()) != p {
                return Err(MstError::NonCanonical(format!(
                    "key {key:?} is not maximally prefix-compressed"
                )));
            }
            if !entries.is_empty() && key.as_str() <= prev {
                return Err(MstError::NonCanonical(format!(
                    "key {key:?} does not sort after {prev:?}"
                )));
            }
            entries.push(EntryData { key, value, right });
        }
        r.expect(&[0x61, b'l'], "node key l")?;
        let left = r.opt_link()?;
        if r.pos != bytes.len() {
            return Err(MstError::Decode("trailing bytes after the node".into()));
        }
        Ok(NodeData { left, entries })
    }
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= 0xff {
        out.push(m | 24);
        out.push(n as u8);
    } else if n <= 0xffff {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn link(out: &mut Vec<u8>, cid: &Cid) {
    let bytes = cid.to_bytes();
    out.extend_from_slice(&[0xd8, 0x2a]);
    head(out, 2, bytes.len() as u64 + 1);
    out.push(0);
    out.extend_from_slice(&bytes);
}

fn opt_link(out: &mut Vec<u8>, cid: Option<&Cid>) {
    match cid {
        Some(c) => link(out, c),
        None => out.push(0xf6),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, MstError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| MstError::Decode("unexpected end of node".into()))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], MstError> {
        let n = usize::try_from(n).map_err(|_| MstError::Decode(format!("{what}: too long")))?;
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| MstError::Decode(format!("{what}: runs past the end")))?;
        let s = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(s)
    }

    fn expect(&mut self, want: &[u8], what: &str) -> Result<(), MstError> {
        let got = self.take(want.len() as u64, what)?;
        if got == want {
            Ok(())
        } else {
            Err(MstError::Decode(what.to_string()))
        }
    }

    /// A CBOR head of the given major type, which must use the shortest form.
    fn head(&mut self, major: u8, what: &str) -> Result<u64, MstError> {
        let b = self.byte()?;
        if b >> 5 != major {
            return Err(MstError::Decode(what.to_string()));
        }
        let info = b & 0x1f;
        let (n, min) = match info {
            0..=23 => (u64::from(info), 0),
            24 => (u64::from(self.byte()?), 24),
            25 => {
                let s = self.take(2, what)?;
                (u64::from(u16::from_be_bytes([s[0], s[1]])), 0x100)
            }
            26 => {
                let s = self.take(4, what)?;
                (
                    u64::from(u32::from_be_bytes([s[0], s[1], s[2], s[3]])),
                    0x1_0000,
                )
            }
            27 => {
                let s = self.take(8, what)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(s);
                (u64::from_be_bytes(a), 0x1_0000_0000)
            }
            _ => {
                return Err(MstError::Decode(format!(
                    "{what}: indefinite or reserved length"
                )));
            }
        };
        if n < min {
            return Err(MstError::NonCanonical(format!(
                "{what}: integer not in its shortest form"
            )));
        }
        Ok(n)
    }

    fn link(&mut self) -> Result<Cid, MstError> {
        self.expect(&[0xd8, 0x2a], "expected a CID link (tag 42)")?;
        let len = self.head(2, "CID link must be a byte string")?;
        let raw = self.take(len, "CID link")?;
        let Some((0, cid_bytes)) = raw.split_first() else {
            return Err(MstError::Decode("CID link without the 0x00 prefix".into()));
        };
        let cid = Cid::try_from(cid_bytes)
            .map_err(|e| MstError::Decode(format!("invalid CID in node: {e}")))?;
        if cid.to_bytes().as_slice() != cid_bytes {
            return Err(MstError::Decode("CID link has trailing bytes".into()));
        }
        Ok(cid)
    }

    fn opt_link(&mut self) -> Result<Option<Cid>, MstError> {
        if self.buf.get(self.pos) == Some(&0xf6) {
            self.pos += 1;
            Ok(None)
        } else {
            self.link().map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_node_has_the_well_known_cid() {
        let bytes = NodeData::default().encode();
        assert_eq!(
            crate::data::cid::for_cbor(&bytes).to_string(),
            "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
        );
        assert_eq!(NodeData::decode(&bytes).ok(), Some(NodeData::default()));
    }

    #[test]
    fn encoding_matches_serde_dag_cbor() {
        // The hand-written codec must agree with the generic canonical encoder.
        use crate::data::Value;
        use std::collections::BTreeMap;
        let v = crate::data::cid::for_cbor(b"x");
        let node = NodeData {
            left: Some(v),
            entries: vec![
                EntryData {
                    key: "com.example/aaa".into(),
                    value: v,
                    right: None,
                },
                EntryData {
                    key: "com.example/aab".into(),
                    value: v,
                    right: Some(v),
                },
            ],
        };
        let entry = |k: &[u8], p: i128, t: Option<Cid>| {
            let mut m = BTreeMap::new();
            m.insert("k".to_string(), Value::Bytes(k.to_vec()));
            m.insert("p".to_string(), Value::Integer(p));
            m.insert("t".to_string(), t.map(Value::Link).unwrap_or(Value::Null));
            m.insert("v".to_string(), Value::Link(v));
            Value::Map(m)
        };
        let mut m = BTreeMap::new();
        m.insert(
            "e".to_string(),
            Value::List(vec![
                entry(b"com.example/aaa", 0, None),
                entry(b"b", 14, Some(v)),
            ]),
        );
        m.insert("l".to_string(), Value::Link(v));
        let generic = crate::data::cbor::encode(&Value::Map(m)).unwrap_or_default();
        assert_eq!(node.encode(), generic);
        assert_eq!(NodeData::decode(&generic).ok(), Some(node));
    }
}
