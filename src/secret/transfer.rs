//! Transfer codes: short codes a person reads on one device and types (or scans) on
//! another, and what the relay keeps of them.
//!
//! Owns the code itself (six random BIP-39 English words, 66 bits), reading typed codes
//! (any case; spaces, hyphens and other non-letters separate words; four-letter
//! abbreviations accepted, as in [`super::mnemonic`], whose rules it reuses), the value
//! the relay stores instead of the code, constant-time verification, and the payload
//! string a QR code carries (`pdsxfer:<code>@<relay url>`). It does not render QR codes
//! (pdsctl does), expire codes or count attempts (the relay does), and does no I/O.
//!
//! ## Why HMAC-SHA256 with a server key, not argon2
//!
//! The relay stores `HMAC-SHA256(server key, code)`, never the code. A transfer code is
//! not a password: it is 66 bits of fresh randomness, single-use, valid for minutes, and
//! the relay limits attempts. A slow password hash exists to make guessing *low-entropy*
//! secrets expensive; against 2^66 random codes it adds nothing that matters, while it
//! would make every verification request cost the server real CPU and memory (an easy
//! amplification target). The keyed hash gives what matters here: a leaked database row
//! is useless without the server key, which lives outside the database; and because the
//! hash is deterministic the relay can find the pending transfer by the hash of what was
//! typed (an indexed lookup) without handing out a separate identifier. Comparison is
//! constant-time.

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::mnemonic;

/// Words in a transfer code (6 x 11 = 66 bits of entropy).
pub const TRANSFER_WORD_COUNT: usize = 6;
/// The scheme that starts a QR payload.
pub const PAYLOAD_SCHEME: &str = "pdsxfer:";
/// Longest relay URL a payload carries, so the QR code stays small enough to scan from
/// a terminal.
pub const MAX_RELAY_URL_LEN: usize = 200;

const HASH_DOMAIN: &[u8] = b"pds-transfer-code-v1\0";

/// Why a transfer code or payload was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransferError {
    /// Some words are not in the word list (1-based positions).
    #[error("{}", unknown_words_message(.positions))]
    UnknownWords {
        /// Where the unknown words are, counting the first word as 1.
        positions: Vec<usize>,
    },
    /// Not six words.
    #[error("a transfer code is {expected} words, but {found} were given")]
    WrongWordCount {
        /// How many words were read.
        found: usize,
        /// How many a code has.
        expected: usize,
    },
    /// Text that is not a transfer payload.
    #[error("this is not a transfer code payload: it should start with {PAYLOAD_SCHEME}")]
    NotAPayload,
    /// A payload with no relay address.
    #[error("the transfer payload names no relay: expected {PAYLOAD_SCHEME}<code>@<relay url>")]
    MissingRelay,
    /// A relay address that cannot be used.
    #[error("the relay address is not usable: {0}")]
    BadRelayUrl(String),
    /// The operating system's random number generator failed.
    #[error("the system's random number generator failed: {0}")]
    Randomness(String),
}

fn unknown_words_message(positions: &[usize]) -> String {
    match positions {
        [one] => format!("word {one} of the transfer code is not a word it can contain"),
        many => {
            let list: Vec<String> = many.iter().map(usize::to_string).collect();
            format!(
                "words {} of the transfer code are not words it can contain",
                list.join(", ")
            )
        }
    }
}

/// A transfer code. Debug redacts it; zeroized on drop; shown only by
/// [`TransferCode::reveal`].
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TransferCode {
    indices: [u16; TRANSFER_WORD_COUNT],
}

impl fmt::Debug for TransferCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransferCode(redacted)")
    }
}

impl PartialEq for TransferCode {
    fn eq(&self, other: &Self) -> bool {
        self.indices.ct_eq(&other.indices).into()
    }
}

impl Eq for TransferCode {}

impl TransferCode {
    /// A fresh random code from the operating system's generator.
    pub fn generate() -> Result<TransferCode, TransferError> {
        let mut random = Zeroizing::new([0u8; 2 * TRANSFER_WORD_COUNT]);
        getrandom::fill(random.as_mut_slice())
            .map_err(|e| TransferError::Randomness(e.to_string()))?;
        let mut indices = [0u16; TRANSFER_WORD_COUNT];
        for (slot, pair) in indices.iter_mut().zip(random.chunks_exact(2)) {
            // 2048 divides 65536, so masking keeps every word equally likely.
            *slot = u16::from_be_bytes([pair[0], pair[1]]) & 0x07ff;
        }
        let code = TransferCode { indices };
        indices.zeroize();
        Ok(code)
    }

    /// Read a typed code: any case; spaces, hyphens and other non-letters separate words;
    /// a word may be abbreviated to its first four letters or more.
    pub fn parse(input: &str) -> Result<TransferCode, TransferError> {
        let words = Zeroizing::new(
            mnemonic::read_words(input)
                .map_err(|positions| TransferError::UnknownWords { positions })?,
        );
        if words.len() != TRANSFER_WORD_COUNT {
            return Err(TransferError::WrongWordCount {
                found: words.len(),
                expected: TRANSFER_WORD_COUNT,
            });
        }
        let mut indices = [0u16; TRANSFER_WORD_COUNT];
        indices.copy_from_slice(&words);
        let code = TransferCode { indices };
        indices.zeroize();
        Ok(code)
    }

    /// The canonical form: lower-case words joined by hyphens (`word-word-...`).
    pub fn reveal(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(TRANSFER_WORD_COUNT * 9));
        for (n, &i) in self.indices.iter().enumerate() {
            if n > 0 {
                out.push('-');
            }
            out.push_str(mnemonic::word(i));
        }
        out
    }

    /// What the relay stores for this code.
    pub fn hash(&self, key: &TransferKey) -> CodeHash {
        // HMAC pads keys shorter than the 64-byte SHA-256 block with zeros, so a 32-byte
        // key zero-extended here is the standard HMAC of the 32-byte key (a unit test
        // checks this), and building from a fixed-size block cannot fail.
        let mut block = Zeroizing::new([0u8; 64]);
        block[..32].copy_from_slice(&key.0);
        let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
        mac.update(HASH_DOMAIN);
        for i in self.indices {
            mac.update(&i.to_be_bytes());
        }
        let tag = mac.finalize().into_bytes();
        let mut out = [0u8; 32];
        out.copy_from_slice(&tag);
        CodeHash(out)
    }

    /// The string a QR code carries: `pdsxfer:<code>@<relay url>`. ASCII, at most
    /// `8 + 53 + 1 + 200` bytes.
    pub fn reveal_payload(&self, relay_url: &str) -> Result<Zeroizing<String>, TransferError> {
        let relay_url = check_relay_url(relay_url)?;
        let code = self.reveal();
        let mut out = Zeroizing::new(String::with_capacity(
            PAYLOAD_SCHEME.len() + code.len() + 1 + relay_url.len(),
        ));
        out.push_str(PAYLOAD_SCHEME);
        out.push_str(&code);
        out.push('@');
        out.push_str(relay_url);
        Ok(out)
    }
}

/// A scanned payload: the code and the relay to present it to. Debug shows the relay only.
#[derive(Clone, PartialEq, Eq)]
pub struct TransferPayload {
    code: TransferCode,
    relay_url: String,
}

impl fmt::Debug for TransferPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransferPayload")
            .field("code", &self.code)
            .field("relay_url", &self.relay_url)
            .finish()
    }
}

impl TransferPayload {
    /// Read a `pdsxfer:<code>@<relay url>` string (the scheme in any case).
    pub fn parse(s: &str) -> Result<TransferPayload, TransferError> {
        let s = s.trim();
        let rest = s
            .get(..PAYLOAD_SCHEME.len())
            .filter(|head| head.eq_ignore_ascii_case(PAYLOAD_SCHEME))
            .and_then(|_| s.get(PAYLOAD_SCHEME.len()..))
            .ok_or(TransferError::NotAPayload)?;
        // The code never contains '@' and the relay URL may not, so the split is exact.
        let (code, relay_url) = rest.split_once('@').ok_or(TransferError::MissingRelay)?;
        if relay_url.is_empty() {
            return Err(TransferError::MissingRelay);
        }
        let code = TransferCode::parse(code)?;
        let relay_url = check_relay_url(relay_url)?.to_string();
        Ok(TransferPayload { code, relay_url })
    }

    /// The transfer code.
    pub fn code(&self) -> &TransferCode {
        &self.code
    }

    /// The relay to present it to.
    pub fn relay_url(&self) -> &str {
        &self.relay_url
    }
}

/// The relay's server-side key for hashing transfer codes. Debug redacts it; zeroized on
/// drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TransferKey([u8; 32]);

impl fmt::Debug for TransferKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransferKey(redacted)")
    }
}

impl TransferKey {
    /// A fresh random key.
    pub fn generate() -> Result<TransferKey, TransferError> {
        let mut key = TransferKey([0u8; 32]);
        getrandom::fill(&mut key.0).map_err(|e| TransferError::Randomness(e.to_string()))?;
        Ok(key)
    }

    /// A key loaded from the relay's secret storage.
    pub fn from_bytes(bytes: [u8; 32]) -> TransferKey {
        TransferKey(bytes)
    }

    /// The key's bytes, for the relay's secret storage.
    pub fn reveal_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// What the relay stores for a transfer code: `HMAC-SHA256(key, code)`. Not secret
/// without the key; equality is constant-time. Displayed as 64 lower-case hex digits.
#[derive(Clone, Copy)]
pub struct CodeHash([u8; 32]);

impl CodeHash {
    /// A hash read back from storage.
    pub fn from_bytes(bytes: [u8; 32]) -> CodeHash {
        CodeHash(bytes)
    }

    /// The 32 bytes, for storage.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `code` is the code this hash was made from, in constant time.
    pub fn verify(&self, code: &TransferCode, key: &TransferKey) -> bool {
        *self == code.hash(key)
    }
}

impl PartialEq for CodeHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for CodeHash {}

impl fmt::Display for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeHash({self})")
    }
}

/// Why a stored code hash could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("a transfer code hash is 64 hexadecimal digits")]
pub struct CodeHashParseError;

impl FromStr for CodeHash {
    type Err = CodeHashParseError;

    fn from_str(s: &str) -> Result<CodeHash, CodeHashParseError> {
        let s = s.as_bytes();
        if s.len() != 64 {
            return Err(CodeHashParseError);
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
            let hi = hex_digit(pair[0]).ok_or(CodeHashParseError)?;
            let lo = hex_digit(pair[1]).ok_or(CodeHashParseError)?;
            *slot = (hi << 4) | lo;
        }
        Ok(CodeHash(out))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Check a relay URL for a payload: `https://host[:port][/path]`, or `http://` to a
/// loopback host (a relay under test on this machine); printable ASCII, no `@`, no white
/// space, at most [`MAX_RELAY_URL_LEN`] bytes. Returns it trimmed of trailing slashes.
fn check_relay_url(url: &str) -> Result<&str, TransferError> {
    let bad = |why: &str| Err(TransferError::BadRelayUrl(why.to_string()));
    let url = url.trim().trim_end_matches('/');
    if url.len() > MAX_RELAY_URL_LEN {
        return bad(&format!("it is longer than {MAX_RELAY_URL_LEN} characters"));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("it may only contain printable ASCII characters, without spaces");
    }
    if url.contains('@') {
        return bad("it may not contain '@'");
    }
    let lower = url.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return bad("it must start with https://");
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return bad("it has no host name");
    }
    let loopback = host == "localhost" || host == "::1" || host.starts_with("127.");
    if !secure && !loopback {
        return bad("it must use https:// (plain http:// is only for a relay on this machine)");
    }
    Ok(url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn zero_extended_key_is_standard_hmac() {
        let key = TransferKey::from_bytes([0x42; 32]);
        let code = TransferCode::parse("abandon ability able about above absent").unwrap();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&[0x42; 32]).unwrap();
        mac.update(HASH_DOMAIN);
        for i in code.indices {
            mac.update(&i.to_be_bytes());
        }
        let expected = mac.finalize().into_bytes();
        assert_eq!(code.hash(&key).as_bytes().as_slice(), expected.as_slice());
    }

    #[test]
    fn relay_urls() {
        assert_eq!(
            check_relay_url("https://relay.example.com/").unwrap(),
            "https://relay.example.com"
        );
        assert!(check_relay_url("HTTPS://Relay.Example.com:8443/x").is_ok());
        assert!(check_relay_url("http://127.0.0.1:2583").is_ok());
        assert!(check_relay_url("http://[::1]:2583").is_ok());
        assert!(check_relay_url("http://localhost").is_ok());
        for bad in [
            "http://relay.example.com",
            "ftp://relay.example.com",
            "https://",
            "https://user@relay.example.com",
            "https://relay.example.com/a b",
            "https://r\u{e9}lay.example.com",
            "relay.example.com",
        ] {
            assert!(
                matches!(check_relay_url(bad), Err(TransferError::BadRelayUrl(_))),
                "{bad}"
            );
        }
        let long = format!("https://{}.example.com", "a".repeat(MAX_RELAY_URL_LEN));
        assert!(check_relay_url(&long).is_err());
    }

    #[test]
    fn generated_codes_use_the_whole_list() {
        // 200 codes draw 1200 words; all landing in the lower half of the list would
        // mean the top index bit is never set (probability 2^-1200).
        let high = (0..200)
            .map(|_| TransferCode::generate().unwrap())
            .flat_map(|c| c.indices)
            .any(|i| i >= 1024);
        assert!(high);
    }
}
