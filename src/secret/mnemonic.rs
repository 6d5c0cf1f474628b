//! BIP-39 English words for a 32-byte share value, and the word handling humans need:
//! reading typed words back, completion while typing, clear errors.
//!
//! Owns the 24-word encoding of exactly 32 bytes (the standard BIP-39 encoding: 256 bits
//! of entropy plus an 8-bit SHA-256 checksum, in 11-bit word indices) and the shared rules
//! for reading typed words, which [`super::transfer`] reuses. It does not derive seeds or
//! keys from the words (no PBKDF2 "seed" step: the words *are* the share value), and it
//! knows nothing about shares; [`super::shamir`] wraps these bytes with their metadata.
//!
//! Typed input is read leniently: any case, and anything that is not a letter (spaces,
//! new lines, hyphens, commas, the numbers printed on a sheet) separates words. A word may
//! be abbreviated to its first four letters or more, because BIP-39 English words are
//! unique in their first four letters. Errors name words by their 1-based position in
//! what was typed, never by the word itself, so an error message that ends up in a log
//! carries no part of the secret.

use bip39::{Language, Mnemonic};
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// How many words encode one 32-byte share value.
pub const SHARE_WORD_COUNT: usize = 24;

/// Shortest abbreviation accepted for a word (BIP-39 English words differ in their
/// first four letters, so four letters always name at most one word).
pub const UNIQUE_PREFIX_LEN: usize = 4;

const LANGUAGE: Language = Language::English;

/// Why typed words were refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MnemonicError {
    /// Some words are not in the BIP-39 English list (1-based positions, ascending).
    #[error("{}", unknown_words_message(.positions))]
    UnknownWords {
        /// Where the unknown words are, counting the first word as 1.
        positions: Vec<usize>,
    },
    /// The number of words is not the number expected.
    #[error("{found} words were given, but a share is exactly {expected} words")]
    WrongWordCount {
        /// How many words were read.
        found: usize,
        /// How many are needed.
        expected: usize,
    },
    /// Every word is valid but the checksum carried by the last word does not match.
    #[error(
        "all words are valid BIP-39 words, but they do not fit together (the checksum in \
         the last word does not match): a word is probably mistyped or two words are swapped"
    )]
    Checksum,
}

fn unknown_words_message(positions: &[usize]) -> String {
    match positions {
        [one] => format!("word {one} is not in the BIP-39 English word list"),
        many => {
            let list: Vec<String> = many.iter().map(usize::to_string).collect();
            format!(
                "words {} are not in the BIP-39 English word list",
                list.join(", ")
            )
        }
    }
}

/// The 24 words of a 32-byte share value. Debug redacts them; zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ShareWords {
    value: [u8; 32],
    indices: [u16; SHARE_WORD_COUNT],
}

impl std::fmt::Debug for ShareWords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ShareWords(24 words, redacted)")
    }
}

impl PartialEq for ShareWords {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.value.ct_eq(&other.value).into()
    }
}

impl Eq for ShareWords {}

impl ShareWords {
    /// The standard BIP-39 encoding of 32 bytes.
    pub fn from_bytes(value: &[u8; 32]) -> ShareWords {
        let mnemonic = match Mnemonic::from_entropy_in(LANGUAGE, value) {
            Ok(m) => m,
            // bip39 refuses only entropy lengths outside 16..=32 bytes in steps of 4;
            // the argument's type fixes it at 32.
            Err(_) => unreachable!("32 bytes is a valid BIP-39 entropy length"),
        };
        let mut indices = [0u16; SHARE_WORD_COUNT];
        for (slot, index) in indices.iter_mut().zip(mnemonic.word_indices()) {
            // Word indices are 11-bit numbers, below 2048.
            *slot = u16::try_from(index).unwrap_or(0);
        }
        ShareWords {
            value: *value,
            indices,
        }
    }

    /// Read 24 typed words: any case, any separators, numbering ignored, words may be
    /// abbreviated to four letters or more. Unknown words are reported by position, then
    /// a wrong count, then a checksum failure.
    pub fn parse(input: &str) -> Result<ShareWords, MnemonicError> {
        let indices = Zeroizing::new(
            read_words(input).map_err(|positions| MnemonicError::UnknownWords { positions })?,
        );
        if indices.len() != SHARE_WORD_COUNT {
            return Err(MnemonicError::WrongWordCount {
                found: indices.len(),
                expected: SHARE_WORD_COUNT,
            });
        }
        // bip39 checks the checksum; hand it the canonical words.
        let mut phrase = Zeroizing::new(String::with_capacity(SHARE_WORD_COUNT * 9));
        for (n, &index) in indices.iter().enumerate() {
            if n > 0 {
                phrase.push(' ');
            }
            phrase.push_str(word(index));
        }
        // With 24 listed words the only failure left is the checksum.
        let mnemonic = Mnemonic::parse_in_normalized(LANGUAGE, &phrase)
            .map_err(|_| MnemonicError::Checksum)?;
        let (mut entropy, len) = mnemonic.to_entropy_array();
        let mut value = [0u8; 32];
        if len == value.len() {
            value.copy_from_slice(&entropy[..len]);
        }
        entropy.zeroize();
        let mut fixed = [0u16; SHARE_WORD_COUNT];
        fixed.copy_from_slice(&indices);
        let words = ShareWords {
            value,
            indices: fixed,
        };
        fixed.zeroize();
        value.zeroize();
        Ok(words)
    }

    /// The 32 bytes these words encode.
    pub fn reveal_bytes(&self) -> &[u8; 32] {
        &self.value
    }

    /// The 24 words in order.
    pub fn reveal_words(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.indices.iter().map(|&i| word(i))
    }

    /// The 24 words separated by single spaces.
    pub fn reveal_phrase(&self) -> Zeroizing<String> {
        let mut phrase = Zeroizing::new(String::with_capacity(SHARE_WORD_COUNT * 9));
        for (n, w) in self.reveal_words().enumerate() {
            if n > 0 {
                phrase.push(' ');
            }
            phrase.push_str(w);
        }
        phrase
    }
}

/// The 2048 BIP-39 English words, in list order.
pub fn word_list() -> &'static [&'static str; 2048] {
    LANGUAGE.word_list()
}

/// The word with this 11-bit index (indices above 2047 wrap, which never happens for
/// indices produced by this module).
pub(crate) fn word(index: u16) -> &'static str {
    word_list()[usize::from(index & 0x07ff)]
}

/// The index of a typed word: an exact word, or an abbreviation of at least
/// [`UNIQUE_PREFIX_LEN`] letters that starts exactly one word. Case is ignored.
pub fn find_word(typed: &str) -> Option<u16> {
    let typed = Zeroizing::new(typed.trim().to_lowercase());
    if let Some(i) = LANGUAGE.find_word(&typed) {
        return Some(i);
    }
    if typed.chars().count() < UNIQUE_PREFIX_LEN {
        return None;
    }
    let mut matches = word_list()
        .iter()
        .enumerate()
        .filter(|(_, w)| w.starts_with(typed.as_str()));
    match (matches.next(), matches.next()) {
        (Some((i, _)), None) => u16::try_from(i).ok(),
        _ => None,
    }
}

/// Completion for interactive entry: the words that start with `prefix` (case ignored),
/// in list order. An empty prefix completes to nothing. Once four letters are typed there
/// is at most one candidate.
pub fn complete(prefix: &str) -> Vec<&'static str> {
    let prefix = prefix.trim().to_lowercase();
    if prefix.is_empty() {
        return Vec::new();
    }
    LANGUAGE.words_by_prefix_iter(&prefix).collect()
}

/// Split typed input into word candidates: runs of letters; everything else separates.
pub(crate) fn tokens(input: &str) -> impl Iterator<Item = &str> {
    input
        .split(|c: char| !c.is_alphabetic())
        .filter(|t| !t.is_empty())
}

/// Look up every token of `input`; unknown ones are reported together by their 1-based
/// positions.
pub(crate) fn read_words(input: &str) -> Result<Vec<u16>, Vec<usize>> {
    let mut indices = Vec::new();
    let mut unknown = Vec::new();
    for (n, token) in tokens(input).enumerate() {
        match find_word(token) {
            Some(i) => indices.push(i),
            None => unknown.push(n + 1),
        }
    }
    if unknown.is_empty() {
        Ok(indices)
    } else {
        indices.zeroize();
        Err(unknown)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn english_words_are_unique_in_their_first_four_letters() {
        let mut seen = std::collections::HashSet::new();
        for w in word_list() {
            let key: String = w.chars().take(UNIQUE_PREFIX_LEN).collect();
            assert!(seen.insert(key), "{w} shares its first four letters");
        }
    }

    #[test]
    fn abbreviations_resolve_to_one_word() {
        for (i, w) in word_list().iter().enumerate() {
            let short: String = w.chars().take(UNIQUE_PREFIX_LEN).collect();
            assert_eq!(find_word(&short), u16::try_from(i).ok(), "{w}");
            assert_eq!(find_word(&w.to_uppercase()), u16::try_from(i).ok());
        }
        // Three letters that are not a word are never guessed at.
        assert_eq!(find_word("aba"), None);
    }

    #[test]
    fn tokens_split_on_anything_but_letters() {
        let got: Vec<&str> = tokens(" 1. Abandon\n2)ability,\tABLE-about ").collect();
        assert_eq!(got, ["Abandon", "ability", "ABLE", "about"]);
    }

    #[test]
    fn several_unknown_words_are_all_reported() {
        let err = read_words("abandon xyzzy ability qqqq able").unwrap_err();
        assert_eq!(err, vec![2, 4]);
        let err = MnemonicError::UnknownWords { positions: err };
        assert_eq!(
            err.to_string(),
            "words 2, 4 are not in the BIP-39 English word list"
        );
    }

    #[test]
    fn debug_redacts() {
        let w = ShareWords::from_bytes(&[7u8; 32]);
        let shown = format!("{w:?}");
        assert!(!shown.contains(word(w.indices[0])), "{shown}");
    }
}
