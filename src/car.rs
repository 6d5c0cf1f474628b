//! CAR v1: a streaming writer and a verifying streaming reader.
//!
//! A CAR is a varint-prefixed DAG-CBOR header `{roots: [CID...], version: 1}`
//! followed by sections `varint(len) || CID bytes || block bytes`. The writer streams
//! to any [`std::io::Write`]; the reader pulls from any [`std::io::Read`], accepts any
//! block order and repeated blocks, checks every block against its CID, and enforces
//! [`CarLimits`] before allocating, so hostile input ends in a typed [`CarError`],
//! never a panic or an unbounded allocation. This module knows nothing about
//! repositories (the repo exporter lives in `repo::export`).

use crate::data::{Value, cbor, cid as dcid};
use cid::Cid;
use std::collections::HashMap;
use std::io::{Read, Write};
use thiserror::Error;

/// Why a CAR could not be read or written.
#[derive(Debug, Error)]
pub enum CarError {
    /// The underlying stream failed.
    #[error("CAR I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The header is not `{roots, version: 1}`.
    #[error("invalid CAR header: {0}")]
    Header(String),
    /// A header declaring another version.
    #[error("unsupported CAR version {0} (only version 1)")]
    Version(i128),
    /// A malformed varint.
    #[error("invalid varint in CAR at byte {0}")]
    Varint(u64),
    /// The stream ended inside a header or section.
    #[error("CAR truncated at byte {0}")]
    Truncated(u64),
    /// A section or the whole CAR is larger than the limits allow.
    #[error("CAR too large: {what} of {size} bytes exceeds the limit of {limit}")]
    TooLarge {
        what: &'static str,
        size: u64,
        limit: u64,
    },
    /// Too many blocks.
    #[error("CAR has more than {0} blocks")]
    TooManyBlocks(usize),
    /// A section whose CID cannot be parsed or is not an atproto CID.
    #[error("invalid CID in CAR section at byte {at}: {reason}")]
    Cid { at: u64, reason: String },
    /// A block whose bytes do not hash to its CID.
    #[error("block {0} does not match its CID")]
    Mismatch(Cid),
}

/// Size limits for reading untrusted CARs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarLimits {
    /// Largest header.
    pub max_header_bytes: u64,
    /// Largest single block (without its CID).
    pub max_block_bytes: u64,
    /// Largest whole CAR.
    pub max_total_bytes: u64,
    /// Most blocks.
    pub max_blocks: usize,
}

impl Default for CarLimits {
    /// 64 KiB header, 2 MiB blocks (records and nodes are far smaller), 1 GiB in
    /// total, 10 million blocks.
    fn default() -> Self {
        CarLimits {
            max_header_bytes: 64 * 1024,
            max_block_bytes: 2 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_blocks: 10_000_000,
        }
    }
}

fn write_varint<W: Write>(w: &mut W, mut n: u64) -> std::io::Result<()> {
    let mut buf = [0u8; 10];
    let mut i = 0;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            buf[i] = byte;
            i += 1;
            break;
        }
        buf[i] = byte | 0x80;
        i += 1;
    }
    w.write_all(buf.get(..i).unwrap_or_default())
}

/// The header bytes (without the length prefix) for these roots.
fn header_bytes(roots: &[Cid]) -> Result<Vec<u8>, CarError> {
    let mut m = std::collections::BTreeMap::new();
    m.insert(
        "roots".to_string(),
        Value::List(roots.iter().map(|c| Value::Link(*c)).collect()),
    );
    m.insert("version".to_string(), Value::Integer(1));
    cbor::encode(&Value::Map(m)).map_err(|e| CarError::Header(e.to_string()))
}

/// Writes a CAR v1 stream: the header at creation, then one section per block.
#[derive(Debug)]
pub struct CarWriter<W: Write> {
    out: W,
}

impl<W: Write> CarWriter<W> {
    /// Start a CAR with these roots (atproto repositories have exactly one).
    pub fn new(mut out: W, roots: &[Cid]) -> Result<Self, CarError> {
        let header = header_bytes(roots)?;
        write_varint(&mut out, header.len() as u64)?;
        out.write_all(&header)?;
        Ok(CarWriter { out })
    }

    /// Append one block. The caller vouches that `bytes` hash to `cid`.
    pub fn write_block(&mut self, cid: &Cid, bytes: &[u8]) -> Result<(), CarError> {
        let cid_bytes = cid.to_bytes();
        write_varint(&mut self.out, (cid_bytes.len() + bytes.len()) as u64)?;
        self.out.write_all(&cid_bytes)?;
        self.out.write_all(bytes)?;
        Ok(())
    }

    /// Flush and hand back the writer.
    pub fn finish(mut self) -> Result<W, CarError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A whole CAR in memory: one root and a list of blocks, in order.
pub fn to_bytes<'a, I>(root: &Cid, blocks: I) -> Result<Vec<u8>, CarError>
where
    I: IntoIterator<Item = (&'a Cid, &'a Vec<u8>)>,
{
    let mut w = CarWriter::new(Vec::new(), std::slice::from_ref(root))?;
    for (cid, bytes) in blocks {
        w.write_block(cid, bytes)?;
    }
    w.finish()
}

/// Reads a CAR v1 stream, checking each block against its CID.
#[derive(Debug)]
pub struct CarReader<R: Read> {
    input: R,
    limits: CarLimits,
    roots: Vec<Cid>,
    pos: u64,
    blocks: usize,
}

impl<R: Read> CarReader<R> {
    /// Read and check the header.
    pub fn new(input: R, limits: CarLimits) -> Result<Self, CarError> {
        let mut r = CarReader {
            input,
            limits,
            roots: Vec::new(),
            pos: 0,
            blocks: 0,
        };
        let Some(len) = r.varint()? else {
            return Err(CarError::Truncated(0));
        };
        if len > limits.max_header_bytes {
            return Err(CarError::TooLarge {
                what: "header",
                size: len,
                limit: limits.max_header_bytes,
            });
        }
        let bytes = r.exact(len)?;
        r.roots = parse_header(&bytes)?;
        Ok(r)
    }

    /// The roots named in the header.
    pub fn roots(&self) -> &[Cid] {
        &self.roots
    }

    /// The next block, checked against its CID, or `None` at the end of the stream.
    pub fn next_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        let start = self.pos;
        let Some(len) = self.varint()? else {
            return Ok(None);
        };
        // A CID takes at least 36 bytes; the block itself is bounded separately.
        let max = self.limits.max_block_bytes.saturating_add(128);
        if len > max {
            return Err(CarError::TooLarge {
                what: "section",
                size: len,
                limit: max,
            });
        }
        if self.blocks >= self.limits.max_blocks {
            return Err(CarError::TooManyBlocks(self.limits.max_blocks));
        }
        let section = self.exact(len)?;
        let mut cursor = std::io::Cursor::new(section.as_slice());
        let cid = Cid::read_bytes(&mut cursor).map_err(|e| CarError::Cid {
            at: start,
            reason: e.to_string(),
        })?;
        dcid::check_atproto(&cid).map_err(|e| CarError::Cid {
            at: start,
            reason: e.to_string(),
        })?;
        let offset = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
        let data = section.get(offset..).unwrap_or_default().to_vec();
        if data.len() as u64 > self.limits.max_block_bytes {
            return Err(CarError::TooLarge {
                what: "block",
                size: data.len() as u64,
                limit: self.limits.max_block_bytes,
            });
        }
        dcid::verify(&cid, &data).map_err(|_| CarError::Mismatch(cid))?;
        self.blocks += 1;
        Ok(Some((cid, data)))
    }

    /// An unsigned LEB128 varint; `None` on a clean end of stream before its first byte.
    fn varint(&mut self) -> Result<Option<u64>, CarError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let mut b = [0u8; 1];
            let n = loop {
                match self.input.read(&mut b) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e.into()),
                }
            };
            if n == 0 {
                return if i == 0 {
                    Ok(None)
                } else {
                    Err(CarError::Truncated(self.pos))
                };
            }
            self.pos += 1;
            let byte = b[0];
            if i == 9 && byte > 1 {
                return Err(CarError::Varint(start));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(Some(value));
            }
        }
        Err(CarError::Varint(start))
    }

    /// Exactly `len` bytes (already checked against a limit by the caller).
    fn exact(&mut self, len: u64) -> Result<Vec<u8>, CarError> {
        let total = self.pos.saturating_add(len);
        if total > self.limits.max_total_bytes {
            return Err(CarError::TooLarge {
                what: "CAR",
                size: total,
                limit: self.limits.max_total_bytes,
            });
        }
        let mut buf = Vec::new();
        let got = (&mut self.input).take(len).read_to_end(&mut buf)?;
        self.pos += got as u64;
        if (got as u64) < len {
            return Err(CarError::Truncated(self.pos));
        }
        Ok(buf)
    }
}

impl<R: Read> Iterator for CarReader<R> {
    type Item = Result<(Cid, Vec<u8>), CarError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_block().transpose()
    }
}

fn parse_header(bytes: &[u8]) -> Result<Vec<Cid>, CarError> {
    let Value::Map(m) = cbor::decode_value(bytes).map_err(|e| CarError::Header(e.to_string()))?
    else {
        return Err(CarError::Header("not a map".into()));
    };
    match m.get("version") {
        Some(Value::Integer(1)) => {}
        Some(Value::Integer(v)) => return Err(CarError::Version(*v)),
        _ => return Err(CarError::Header("missing integer version".into())),
    }
    let Some(Value::List(roots)) = m.get("roots") else {
        return Err(CarError::Header("missing roots list".into()));
    };
    roots
        .iter()
        .map(|r| match r {
            Value::Link(c) => Ok(*c),
            _ => Err(CarError::Header("a root is not a CID link".into())),
        })
        .collect()
}

/// A CAR read whole: its roots, its blocks by CID, and the CIDs in stream order.
#[derive(Debug, Clone, Default)]
pub struct CarFile {
    /// The header's roots.
    pub roots: Vec<Cid>,
    /// Every block (a repeated block is kept once).
    pub blocks: HashMap<Cid, Vec<u8>>,
    /// CIDs in the order they appeared, repeats included.
    pub order: Vec<Cid>,
}

impl crate::store::BlockSource for CarFile {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, crate::store::StoreError> {
        Ok(self.blocks.get(cid).cloned())
    }
    fn has_block(&self, cid: &Cid) -> Result<bool, crate::store::StoreError> {
        Ok(self.blocks.contains_key(cid))
    }
}

/// Read a whole CAR stream into memory, verifying every block.
pub fn read_all<R: Read>(input: R, limits: CarLimits) -> Result<CarFile, CarError> {
    let mut reader = CarReader::new(input, limits)?;
    let mut file = CarFile {
        roots: reader.roots().to_vec(),
        ..CarFile::default()
    };
    while let Some((cid, bytes)) = reader.next_block()? {
        file.order.push(cid);
        file.blocks.entry(cid).or_insert(bytes);
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = b"\xa1aab".to_vec();
        let ca = dcid::for_cbor(&a);
        let bytes = to_bytes(&ca, [(&ca, &a), (&ca, &a)]).unwrap_or_default();
        let f = read_all(bytes.as_slice(), CarLimits::default());
        assert!(
            matches!(&f, Ok(f) if f.roots == vec![ca] && f.order.len() == 2 && f.blocks.len() == 1)
        );
    }
}
