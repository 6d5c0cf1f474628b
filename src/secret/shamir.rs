//! Shamir 2-of-3 shares of the user's rotation key, and their text form for files.
//!
//! Owns splitting a rotation [`Keypair`]'s 32-byte secret scalar into three shares over
//! GF(256) (byte-wise, with `vsss-rs`), combining any two of them back into a `Keypair`
//! after checking that the shares belong together, verifying the result against the
//! rotation key's public `did:key` carried by every share, and the `pds-share-v1:` text
//! encoding. It does no I/O and decides nothing about where shares live (keychain, relay
//! escrow, paper): callers do. It must never print, log or compare a share value in
//! variable time; the value is only reachable through `reveal_*` methods.
//!
//! A share's metadata is public (set id, epoch, share number, threshold, curve, public
//! key); only its 32-byte value is secret. One share alone says nothing about the key.
//!
//! ## Text encoding
//!
//! `pds-share-v1:` followed by unpadded base64url of 92 bytes:
//!
//! | bytes | field |
//! |---|---|
//! | 0..16 | set id |
//! | 16..20 | epoch, big-endian |
//! | 20 | share number (1, 2 or 3) |
//! | 21 | threshold (always 2) |
//! | 22 | curve: 1 = P-256, 2 = secp256k1 |
//! | 23..56 | the rotation key's public point, compressed SEC1 |
//! | 56..88 | share value |
//! | 88..92 | checksum: first 4 bytes of SHA-256(`pds-share-v1` ‖ bytes 0..88) |
//!
//! That is 123 base64url characters after the prefix. White space inside the text is
//! ignored, so a share may be wrapped over lines.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use thiserror::Error;
use vsss_rs::{Gf256, IdentifierGf256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::mnemonic::ShareWords;
use crate::crypto::{CryptoError, Curve, Keypair, PublicKey};

/// Shares needed to rebuild the key.
pub const THRESHOLD: u8 = 2;
/// Shares made by one split.
pub const SHARE_COUNT: u8 = 3;
/// The prefix of the text encoding.
pub const SHARE_TEXT_PREFIX: &str = "pds-share-v1:";

const SCALAR_LEN: usize = 32;
const POINT_LEN: usize = 33;
const BODY_LEN: usize = 16 + 4 + 1 + 1 + 1 + POINT_LEN + SCALAR_LEN;
const CHECKSUM_LEN: usize = 4;
const ENCODED_LEN: usize = BODY_LEN + CHECKSUM_LEN;
const CHECKSUM_DOMAIN: &[u8] = b"pds-share-v1";
/// Base64url characters after the prefix: 92 bytes, 4 characters per 3 bytes, unpadded.
const TEXT_BODY_LEN: usize = (ENCODED_LEN * 4).div_ceil(3);

/// Why a share could not be made, read or combined. Messages are written for the person
/// holding the shares.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ShamirError {
    /// Fewer shares than the threshold.
    #[error("{}", not_enough_message(*.given, *.needed))]
    NotEnoughShares {
        /// How many shares were given.
        given: usize,
        /// How many are needed.
        needed: u8,
    },
    /// Shares of different generations (epochs) of the backup.
    #[error(
        "these shares come from different generations of the backup (epoch {first} and \
         epoch {other}): once a key is split again, older shares no longer combine with \
         newer ones; use two shares from the newest backup"
    )]
    DifferentEpochs {
        /// The first share's epoch.
        first: u32,
        /// The mismatching share's epoch.
        other: u32,
    },
    /// Shares of different splits.
    #[error(
        "these shares come from different backups (set {first} and set {other}): shares \
         only combine with shares made in the same split"
    )]
    DifferentSets {
        /// The first share's set.
        first: SetId,
        /// The mismatching share's set.
        other: SetId,
    },
    /// Shares that disagree about how many shares are needed.
    #[error(
        "these shares disagree about how many shares are needed ({first} and {other}), so \
         they cannot belong to the same backup"
    )]
    ThresholdMismatch {
        /// The first share's threshold.
        first: u8,
        /// The mismatching share's threshold.
        other: u8,
    },
    /// Shares of keys on different curves.
    #[error(
        "these shares protect different kinds of key ({first} and {other}), so they cannot \
         belong to the same backup"
    )]
    CurveMismatch {
        /// The first share's curve.
        first: Curve,
        /// The mismatching share's curve.
        other: Curve,
    },
    /// Shares that name different rotation keys.
    #[error(
        "these shares protect different rotation keys ({first} and {other}), so they cannot \
         belong to the same backup"
    )]
    KeyMismatch {
        /// The first share's did:key.
        first: String,
        /// The mismatching share's did:key.
        other: String,
    },
    /// The same share number twice.
    #[error(
        "share {index} was given twice: use two different shares (for example share 1 and \
         share 3)"
    )]
    DuplicateShare {
        /// The repeated share number.
        index: u8,
    },
    /// The shares are consistent but rebuild a different key than the one they name.
    #[error(
        "the shares did not rebuild the rotation key {expected}: one of them was mistyped \
         or damaged; check the words, the share numbers and the epochs"
    )]
    WrongKey {
        /// The did:key the shares name.
        expected: String,
    },
    /// A threshold other than 2.
    #[error(
        "this share says {threshold} shares are needed to recover; this version only \
         knows backups where any 2 of 3 shares recover"
    )]
    UnsupportedThreshold {
        /// The threshold found.
        threshold: u8,
    },
    /// A share number outside 1..=3.
    #[error("there is no share number {index}: shares are numbered 1, 2 and 3")]
    InvalidIndex {
        /// The number found.
        index: u8,
    },
    /// A curve given separately does not match the curve of the did:key.
    #[error("the curve {curve} does not match the rotation key, which is a {key_curve} key")]
    CurveDoesNotMatchKey {
        /// The curve given.
        curve: Curve,
        /// The did:key's curve.
        key_curve: Curve,
    },
    /// The rotation key (did:key or public point) is not a usable key.
    #[error("the rotation key is not valid: {0}")]
    InvalidRotationKey(#[source] CryptoError),
    /// A set id that cannot be read.
    #[error("the set id is not valid: {0}")]
    InvalidSetId(String),
    /// Text that is not a share at all.
    #[error("this is not a pds share: share text starts with {SHARE_TEXT_PREFIX}")]
    NotAShare,
    /// A share in a later format.
    #[error("this share is in format {0}, which this version does not know; update pdsctl")]
    UnsupportedVersion(String),
    /// Characters that base64url never produces.
    #[error("the share text is damaged: it contains characters that cannot appear in a share")]
    BadEncoding,
    /// The share text is too short or too long.
    #[error(
        "the share text is damaged: it has {found} characters after the prefix where a \
         share has {expected} (part of it may be missing)"
    )]
    WrongLength {
        /// Characters found after the prefix.
        found: usize,
        /// Characters a share has after the prefix.
        expected: usize,
    },
    /// The checksum does not match.
    #[error("the share text is damaged: its checksum does not match (a character was changed)")]
    ChecksumMismatch,
    /// A curve code other than 1 or 2.
    #[error("the share names an unknown kind of key (code {0}); only P-256 and secp256k1 exist")]
    UnknownCurve(u8),
    /// The operating system's random number generator failed.
    #[error("the system's random number generator failed: {0}")]
    Randomness(String),
    /// The splitting library refused (an internal error, not the user's).
    #[error("splitting the key failed: {0}")]
    Split(String),
}

fn not_enough_message(given: usize, needed: u8) -> String {
    match given {
        0 => format!("no share was given: any {needed} of the 3 shares recover the key"),
        1 => format!(
            "one share alone cannot recover the key: any {needed} of the 3 shares are needed"
        ),
        n => format!("{n} shares were given, but {needed} are needed to recover the key"),
    }
}

/// The random identifier of one split. Public: it names the backup, not the key.
///
/// Shown as 26 lower-case base32 letters (RFC 4648 alphabet) in groups of four, e.g.
/// `mfrg-gzdf-mztw-q2lk-nnwg-23tp-oa`; read back in any case, with or without hyphens
/// and spaces.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetId([u8; 16]);

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
const SET_ID_CHARS: usize = 26;

impl SetId {
    /// A fresh random set id.
    pub fn generate() -> Result<SetId, ShamirError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| ShamirError::Randomness(e.to_string()))?;
        Ok(SetId(bytes))
    }

    /// A set id from its 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> SetId {
        SetId(bytes)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The first eight letters, for labels where the full id does not fit
    /// (`mfrg-gzdf`). Not enough to rebuild a share.
    pub fn short(&self) -> String {
        let full = self.base32();
        format!("{}-{}", &full[0..4], &full[4..8])
    }

    fn base32(&self) -> String {
        let mut out = String::with_capacity(SET_ID_CHARS);
        let mut acc: u32 = 0;
        let mut bits = 0u32;
        for &b in &self.0 {
            acc = (acc << 8) | u32::from(b);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(char::from(BASE32[((acc >> bits) & 0x1f) as usize]));
            }
        }
        if bits > 0 {
            out.push(char::from(BASE32[((acc << (5 - bits)) & 0x1f) as usize]));
        }
        out
    }
}

impl fmt::Display for SetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let full = self.base32();
        for (n, chunk) in full.as_bytes().chunks(4).enumerate() {
            if n > 0 {
                f.write_str("-")?;
            }
            // Chunks of an ASCII string are ASCII.
            f.write_str(std::str::from_utf8(chunk).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl fmt::Debug for SetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SetId({self})")
    }
}

impl FromStr for SetId {
    type Err = ShamirError;

    fn from_str(s: &str) -> Result<SetId, ShamirError> {
        let mut values = Vec::with_capacity(SET_ID_CHARS);
        for c in s.chars().filter(|&c| c != '-' && !c.is_whitespace()) {
            let lower = c.to_ascii_lowercase();
            let v = BASE32
                .iter()
                .position(|&b| char::from(b) == lower)
                .ok_or_else(|| {
                    ShamirError::InvalidSetId(format!(
                        "{c:?} is not one of the letters a-z or digits 2-7"
                    ))
                })?;
            values.push(v as u32);
        }
        if values.len() != SET_ID_CHARS {
            return Err(ShamirError::InvalidSetId(format!(
                "a set id has {SET_ID_CHARS} letters and digits, not {}",
                values.len()
            )));
        }
        let mut bytes = [0u8; 16];
        let mut slots = bytes.iter_mut();
        let mut acc: u32 = 0;
        let mut bits = 0u32;
        for v in values {
            acc = (acc << 5) | v;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                if let Some(slot) = slots.next() {
                    *slot = (acc >> bits) as u8;
                }
            }
        }
        // 26 characters carry 130 bits; the last two must be zero in a real id.
        if acc & ((1 << bits) - 1) != 0 {
            return Err(ShamirError::InvalidSetId(
                "the last character is not possible in a set id (check it)".into(),
            ));
        }
        Ok(SetId(bytes))
    }
}

/// One of the three shares of a rotation key. Debug redacts the value; zeroized on drop.
///
/// The value is reachable only through [`Share::reveal_value`], [`Share::reveal_words`]
/// and [`Share::reveal_text`].
#[derive(Clone)]
pub struct Share {
    set_id: SetId,
    epoch: u32,
    index: u8,
    threshold: u8,
    rotation_key: PublicKey,
    value: [u8; SCALAR_LEN],
}

impl Drop for Share {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

// The only secret field is zeroized by `Drop` above.
impl ZeroizeOnDrop for Share {}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("set_id", &self.set_id)
            .field("epoch", &self.epoch)
            .field("index", &self.index)
            .field("threshold", &self.threshold)
            .field("rotation_key", &self.rotation_key.to_did_key())
            .field("value", &"<redacted>")
            .finish()
    }
}

impl PartialEq for Share {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        let same_value: bool = self.value.ct_eq(&other.value).into();
        same_value
            && self.set_id == other.set_id
            && self.epoch == other.epoch
            && self.index == other.index
            && self.threshold == other.threshold
            && self.rotation_key == other.rotation_key
    }
}

impl Eq for Share {}

impl Share {
    /// Which split this share belongs to.
    pub fn set_id(&self) -> SetId {
        self.set_id
    }

    /// The generation of the backup (the caller's counter; a re-split uses a new one).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The share number, 1, 2 or 3.
    pub fn index(&self) -> u8 {
        self.index
    }

    /// How many shares rebuild the key (always 2).
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// How many shares the split made (always 3).
    pub fn share_count(&self) -> u8 {
        SHARE_COUNT
    }

    /// The rotation key's curve.
    pub fn curve(&self) -> Curve {
        self.rotation_key.curve()
    }

    /// The rotation key's public half.
    pub fn rotation_key(&self) -> &PublicKey {
        &self.rotation_key
    }

    /// The rotation key's public `did:key`.
    pub fn did_key(&self) -> String {
        self.rotation_key.to_did_key()
    }

    /// The secret 32-byte share value.
    pub fn reveal_value(&self) -> &[u8; 32] {
        &self.value
    }

    /// The share value as 24 BIP-39 words.
    pub fn reveal_words(&self) -> ShareWords {
        ShareWords::from_bytes(&self.value)
    }

    /// Rebuild a share from what a recovery sheet shows: its 24 words, set id, share
    /// number, epoch, curve and the rotation key's did:key.
    pub fn from_sheet_fields(
        words: &ShareWords,
        set_id: SetId,
        index: u8,
        epoch: u32,
        curve: Curve,
        did_key: &str,
    ) -> Result<Share, ShamirError> {
        let rotation_key =
            PublicKey::from_did_key(did_key.trim()).map_err(ShamirError::InvalidRotationKey)?;
        if rotation_key.curve() != curve {
            return Err(ShamirError::CurveDoesNotMatchKey {
                curve,
                key_curve: rotation_key.curve(),
            });
        }
        check_index(index)?;
        Ok(Share {
            set_id,
            epoch,
            index,
            threshold: THRESHOLD,
            rotation_key,
            value: *words.reveal_bytes(),
        })
    }

    /// The `pds-share-v1:` text of this share, for a file or the relay's escrow.
    pub fn reveal_text(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(ENCODED_LEN));
        bytes.extend_from_slice(self.set_id.as_bytes());
        bytes.extend_from_slice(&self.epoch.to_be_bytes());
        bytes.push(self.index);
        bytes.push(self.threshold);
        bytes.push(curve_code(self.curve()));
        bytes.extend_from_slice(&self.rotation_key.to_compressed());
        bytes.extend_from_slice(&self.value);
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum);
        let mut text = Zeroizing::new(String::with_capacity(SHARE_TEXT_PREFIX.len() + 128));
        text.push_str(SHARE_TEXT_PREFIX);
        URL_SAFE_NO_PAD.encode_string(bytes.as_slice(), &mut text);
        text
    }

    /// Read a `pds-share-v1:` text. White space anywhere is ignored.
    pub fn from_text(text: &str) -> Result<Share, ShamirError> {
        let compact: Zeroizing<String> =
            Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
        let Some(body) = strip_prefix_ignore_case(&compact, SHARE_TEXT_PREFIX) else {
            return Err(match version_of(&compact) {
                Some(v) => ShamirError::UnsupportedVersion(v),
                None => ShamirError::NotAShare,
            });
        };
        // Characters first, then length in characters: that is what a person can check.
        if !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ShamirError::BadEncoding);
        }
        if body.len() != TEXT_BODY_LEN {
            return Err(ShamirError::WrongLength {
                found: body.len(),
                expected: TEXT_BODY_LEN,
            });
        }
        let bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(body)
                .map_err(|_| ShamirError::BadEncoding)?,
        );
        if bytes.len() != ENCODED_LEN {
            return Err(ShamirError::BadEncoding);
        }
        let (content, sum) = bytes.split_at(BODY_LEN);
        if checksum(content) != sum {
            return Err(ShamirError::ChecksumMismatch);
        }
        let mut set_id = [0u8; 16];
        set_id.copy_from_slice(&content[0..16]);
        let mut epoch = [0u8; 4];
        epoch.copy_from_slice(&content[16..20]);
        let index = content[20];
        let threshold = content[21];
        let curve = match content[22] {
            1 => Curve::P256,
            2 => Curve::Secp256k1,
            other => return Err(ShamirError::UnknownCurve(other)),
        };
        let rotation_key = PublicKey::from_sec1(curve, &content[23..23 + POINT_LEN])
            .map_err(ShamirError::InvalidRotationKey)?;
        check_index(index)?;
        if threshold != THRESHOLD {
            return Err(ShamirError::UnsupportedThreshold { threshold });
        }
        let mut value = [0u8; SCALAR_LEN];
        value.copy_from_slice(&content[23 + POINT_LEN..BODY_LEN]);
        let share = Share {
            set_id: SetId(set_id),
            epoch: u32::from_be_bytes(epoch),
            index,
            threshold,
            rotation_key,
            value,
        };
        value.zeroize();
        Ok(share)
    }
}

impl FromStr for Share {
    type Err = ShamirError;

    fn from_str(s: &str) -> Result<Share, ShamirError> {
        Share::from_text(s)
    }
}

fn check_index(index: u8) -> Result<(), ShamirError> {
    if (1..=SHARE_COUNT).contains(&index) {
        Ok(())
    } else {
        Err(ShamirError::InvalidIndex { index })
    }
}

fn curve_code(curve: Curve) -> u8 {
    match curve {
        Curve::P256 => 1,
        Curve::Secp256k1 => 2,
    }
}

fn checksum(content: &[u8]) -> [u8; CHECKSUM_LEN] {
    let digest = Sha256::new()
        .chain_update(CHECKSUM_DOMAIN)
        .chain_update(content)
        .finalize();
    let mut out = [0u8; CHECKSUM_LEN];
    out.copy_from_slice(&digest[..CHECKSUM_LEN]);
    out
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// `pds-share-vN` when the text looks like a share of another format version.
fn version_of(s: &str) -> Option<String> {
    let head = strip_prefix_ignore_case(s, "pds-share-v")?;
    let digits: String = head.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !head[digits.len()..].starts_with(':') {
        return None;
    }
    Some(format!("pds-share-v{digits}"))
}

/// Split a rotation key into three shares, any two of which rebuild it.
///
/// Every call makes a new random [`SetId`]; `epoch` is the caller's generation counter
/// (the rotation log's). Before returning, every pair is combined and checked against the
/// key, so a split that could not be recovered is never handed out.
pub fn split(key: &Keypair, epoch: u32) -> Result<[Share; 3], ShamirError> {
    // Drawing the set id first also finds out whether the OS generator works, so the
    // generator used for the polynomial below (which cannot report errors) is known good.
    let set_id = SetId::generate()?;
    let secret = key.to_bytes();
    if secret.len() != SCALAR_LEN {
        return Err(ShamirError::Split(format!(
            "a {} secret has {} bytes, not {SCALAR_LEN}",
            key.curve(),
            secret.len()
        )));
    }
    let ids = (1..=SHARE_COUNT).map(|i| IdentifierGf256(Gf256(i)));
    let raw = Zeroizing::new(
        Gf256::split_bytes_with_participant_ids_iter(
            usize::from(THRESHOLD),
            usize::from(SHARE_COUNT),
            secret.as_slice(),
            getrandom::rand_core::UnwrapErr(getrandom::SysRng),
            ids,
        )
        .map_err(|e| ShamirError::Split(e.to_string()))?,
    );
    let rotation_key = key.public();
    let mut shares = Vec::with_capacity(raw.len());
    for r in raw.iter() {
        // Each raw share is the x-coordinate followed by one y byte per secret byte.
        let (Some(&index), Some(y)) = (r.first(), r.get(1..)) else {
            return Err(ShamirError::Split("empty share".into()));
        };
        let mut value = [0u8; SCALAR_LEN];
        if y.len() != SCALAR_LEN {
            return Err(ShamirError::Split(format!("share of {} bytes", y.len())));
        }
        value.copy_from_slice(y);
        shares.push(Share {
            set_id,
            epoch,
            index,
            threshold: THRESHOLD,
            rotation_key: rotation_key.clone(),
            value,
        });
        value.zeroize();
    }
    let shares: [Share; 3] = shares
        .try_into()
        .map_err(|v: Vec<Share>| ShamirError::Split(format!("{} shares instead of 3", v.len())))?;
    for (a, b) in [(0, 1), (0, 2), (1, 2)] {
        combine([&shares[a], &shares[b]])?;
    }
    Ok(shares)
}

/// Rebuild the rotation key from two (or all three) shares of one split.
///
/// Refuses a single share, shares of different sets, epochs, thresholds, curves or keys,
/// and the same share twice; after combining, refuses a key whose did:key is not the one
/// the shares name.
pub fn combine<'a>(shares: impl IntoIterator<Item = &'a Share>) -> Result<Keypair, ShamirError> {
    let shares: Vec<&Share> = shares.into_iter().collect();
    let (first, rest) = match shares.split_first() {
        Some((first, rest)) if !rest.is_empty() => (*first, rest),
        Some((first, _)) => {
            return Err(ShamirError::NotEnoughShares {
                given: 1,
                needed: first.threshold.max(THRESHOLD),
            });
        }
        None => {
            return Err(ShamirError::NotEnoughShares {
                given: 0,
                needed: THRESHOLD,
            });
        }
    };
    for other in rest {
        if other.epoch != first.epoch {
            return Err(ShamirError::DifferentEpochs {
                first: first.epoch,
                other: other.epoch,
            });
        }
        if other.set_id != first.set_id {
            return Err(ShamirError::DifferentSets {
                first: first.set_id,
                other: other.set_id,
            });
        }
        if other.threshold != first.threshold {
            return Err(ShamirError::ThresholdMismatch {
                first: first.threshold,
                other: other.threshold,
            });
        }
        if other.curve() != first.curve() {
            return Err(ShamirError::CurveMismatch {
                first: first.curve(),
                other: other.curve(),
            });
        }
        if other.rotation_key != first.rotation_key {
            return Err(ShamirError::KeyMismatch {
                first: first.did_key(),
                other: other.did_key(),
            });
        }
    }
    for (n, a) in shares.iter().enumerate() {
        check_index(a.index)?;
        if shares[n + 1..].iter().any(|b| b.index == a.index) {
            return Err(ShamirError::DuplicateShare { index: a.index });
        }
    }
    if first.threshold != THRESHOLD {
        return Err(ShamirError::UnsupportedThreshold {
            threshold: first.threshold,
        });
    }
    let raw: Zeroizing<Vec<Vec<u8>>> = Zeroizing::new(
        shares
            .iter()
            .map(|s| {
                let mut r = Vec::with_capacity(1 + SCALAR_LEN);
                r.push(s.index);
                r.extend_from_slice(&s.value);
                r
            })
            .collect(),
    );
    let secret = Zeroizing::new(
        Gf256::combine_bytes(raw.as_slice()).map_err(|e| ShamirError::Split(e.to_string()))?,
    );
    let expected = first.did_key();
    // A damaged share can rebuild bytes that are not even a valid scalar (zero, or not
    // below the group order); that is the same mistake as a wrong key, in the user's terms.
    let key = Keypair::from_bytes(first.curve(), &secret).map_err(|_| ShamirError::WrongKey {
        expected: expected.clone(),
    })?;
    if key.public() != first.rotation_key {
        return Err(ShamirError::WrongKey { expected });
    }
    Ok(key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn set_id_text_round_trips_and_is_lenient() {
        let id = SetId::from_bytes([0xa5; 16]);
        let shown = id.to_string();
        assert_eq!(shown.len(), 26 + 6);
        assert_eq!(shown.parse::<SetId>().unwrap(), id);
        let sloppy = shown.replace('-', " ").to_uppercase();
        assert_eq!(sloppy.parse::<SetId>().unwrap(), id);
        assert!(shown.starts_with(&id.short()));
    }

    #[test]
    fn set_id_refuses_bad_text() {
        let shown = SetId::from_bytes([0x3c; 16]).to_string();
        assert!(matches!(
            shown[..shown.len() - 1].parse::<SetId>(),
            Err(ShamirError::InvalidSetId(_))
        ));
        assert!(matches!(
            format!("{shown}a").parse::<SetId>(),
            Err(ShamirError::InvalidSetId(_))
        ));
        assert!(matches!(
            shown
                .replacen(|c: char| c.is_ascii_alphanumeric(), "1", 1)
                .parse::<SetId>(),
            Err(ShamirError::InvalidSetId(_))
        ));
        // Non-zero padding bits in the last character.
        let mut bad = shown.clone();
        bad.pop();
        bad.push('7');
        assert!(matches!(
            bad.parse::<SetId>(),
            Err(ShamirError::InvalidSetId(_))
        ));
    }

    #[test]
    fn set_id_matches_rfc4648_base32() {
        // RFC 4648 section 10: BASE32("foobar") = "MZXW6YTBOI======". Followed by zero
        // bytes, "foobar" encodes to the same first ten characters.
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(b"foobar");
        let text = SetId::from_bytes(bytes).base32();
        assert!(text.starts_with("mzxw6ytboi"), "{text}");
    }

    #[test]
    fn combine_refuses_a_threshold_mismatch() {
        let key = Keypair::generate(Curve::Secp256k1);
        let [a, mut b, _] = split(&key, 1).unwrap();
        b.threshold = 3;
        assert_eq!(
            combine([&a, &b]).unwrap_err(),
            ShamirError::ThresholdMismatch { first: 2, other: 3 }
        );
    }

    #[test]
    fn combine_refuses_an_unsupported_threshold() {
        let key = Keypair::generate(Curve::P256);
        let [mut a, mut b, _] = split(&key, 1).unwrap();
        a.threshold = 1;
        b.threshold = 1;
        assert_eq!(
            combine([&a, &b]).unwrap_err(),
            ShamirError::UnsupportedThreshold { threshold: 1 }
        );
    }

    #[test]
    fn debug_does_not_show_the_value() {
        let key = Keypair::generate(Curve::P256);
        let [a, _, _] = split(&key, 1).unwrap();
        let shown = format!("{a:?}");
        assert!(shown.contains("redacted"));
        let hex: String = a.value.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&hex));
        assert!(!shown.contains(&format!("{:?}", a.value)));
    }

    #[test]
    fn text_refuses_wrong_threshold_even_with_a_good_checksum() {
        let key = Keypair::generate(Curve::P256);
        let [a, _, _] = split(&key, 1).unwrap();
        let text = a.reveal_text();
        let mut bytes = URL_SAFE_NO_PAD
            .decode(&text[SHARE_TEXT_PREFIX.len()..])
            .unwrap();
        bytes[21] = 3;
        let sum = checksum(&bytes[..BODY_LEN]);
        bytes[BODY_LEN..].copy_from_slice(&sum);
        let forged = format!("{SHARE_TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(
            Share::from_text(&forged).unwrap_err(),
            ShamirError::UnsupportedThreshold { threshold: 3 }
        );
        bytes[21] = 2;
        bytes[22] = 9;
        let sum = checksum(&bytes[..BODY_LEN]);
        bytes[BODY_LEN..].copy_from_slice(&sum);
        let forged = format!("{SHARE_TEXT_PREFIX}{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(
            Share::from_text(&forged).unwrap_err(),
            ShamirError::UnknownCurve(9)
        );
    }
}
