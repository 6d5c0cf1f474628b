//! `cargo test --test secret`: Shamir shares, BIP-39 words, recovery sheets and transfer
//! codes, driven through the public API of `pds::secret` only.
//!
//! Expected words are derived here independently (SHA-256 checksum and 11-bit packing per
//! BIP-39) rather than copied from the implementation under test.

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use chrono::NaiveDate;
use pds::crypto::{Curve, Keypair};
use pds::secret::mnemonic::{self, MnemonicError, SHARE_WORD_COUNT, ShareWords};
use pds::secret::shamir::{self, SHARE_TEXT_PREFIX, SetId, ShamirError, Share};
use pds::secret::sheet::{RECOVER_COMMAND, RecoverySheet};
use pds::secret::transfer::{
    CodeHash, TRANSFER_WORD_COUNT, TransferCode, TransferError, TransferKey, TransferPayload,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

const CURVES: [Curve; 2] = [Curve::P256, Curve::Secp256k1];
const PAIRS: [(usize, usize); 3] = [(0, 1), (0, 2), (1, 2)];

fn same_key(a: &Keypair, b: &Keypair) -> bool {
    a.curve() == b.curve() && *a.to_bytes() == *b.to_bytes()
}

/// BIP-39 done by hand: 256 bits of entropy, then the first 8 bits of its SHA-256, cut
/// into 24 groups of 11 bits, each an index into the English list.
fn bip39_by_hand(entropy: &[u8; 32]) -> Vec<&'static str> {
    let check = Sha256::digest(entropy)[0];
    let mut bits = Vec::with_capacity(264);
    for byte in entropy.iter().chain(std::iter::once(&check)) {
        for j in (0..8).rev() {
            bits.push((byte >> j) & 1);
        }
    }
    bits.chunks(11)
        .map(|group| {
            let index = group
                .iter()
                .fold(0usize, |acc, &bit| (acc << 1) | usize::from(bit));
            mnemonic::word_list()[index]
        })
        .collect()
}

fn words_of(share: &Share) -> Vec<&'static str> {
    share.reveal_words().reveal_words().collect()
}

// ---------------------------------------------------------------- Shamir

#[test]
fn every_pair_of_shares_rebuilds_the_key() {
    for curve in CURVES {
        let key = Keypair::generate(curve);
        let shares = shamir::split(&key, 7).unwrap();
        for (i, share) in shares.iter().enumerate() {
            assert_eq!(usize::from(share.index()), i + 1);
            assert_eq!(share.epoch(), 7);
            assert_eq!(share.threshold(), 2);
            assert_eq!(share.share_count(), 3);
            assert_eq!(share.curve(), curve);
            assert_eq!(share.did_key(), key.did_key());
            assert_eq!(share.set_id(), shares[0].set_id());
        }
        for (a, b) in PAIRS {
            let got = shamir::combine([&shares[a], &shares[b]]).unwrap();
            assert!(same_key(&got, &key), "{curve} pair {a},{b}");
            let got = shamir::combine([&shares[b], &shares[a]]).unwrap();
            assert!(same_key(&got, &key), "{curve} pair {b},{a}");
        }
        let all = shamir::combine(&shares).unwrap();
        assert!(same_key(&all, &key));
    }
}

#[test]
fn one_share_alone_is_refused() {
    let key = Keypair::generate(Curve::Secp256k1);
    let shares = shamir::split(&key, 1).unwrap();
    for share in &shares {
        let err = shamir::combine([share]).unwrap_err();
        assert_eq!(
            err,
            ShamirError::NotEnoughShares {
                given: 1,
                needed: 2
            }
        );
        assert!(err.to_string().contains("one share alone"), "{err}");
    }
    assert_eq!(
        shamir::combine(std::iter::empty()).unwrap_err(),
        ShamirError::NotEnoughShares {
            given: 0,
            needed: 2
        }
    );
}

#[test]
fn one_share_says_nothing_about_the_key() {
    // A share value is the secret plus a fresh random multiple of the share number, byte
    // by byte; for one key, two splits give unrelated values for the same share number.
    let key = Keypair::generate(Curve::P256);
    let first = shamir::split(&key, 1).unwrap();
    let second = shamir::split(&key, 1).unwrap();
    assert_ne!(first[0].reveal_value(), second[0].reveal_value());
    assert_ne!(
        first[0].reveal_value().as_slice(),
        key.to_bytes().as_slice()
    );
    assert_ne!(first[0].set_id(), second[0].set_id());
}

#[test]
fn shares_of_different_splits_do_not_combine() {
    let key = Keypair::generate(Curve::Secp256k1);
    let a = shamir::split(&key, 1).unwrap();
    let b = shamir::split(&key, 1).unwrap();
    let err = shamir::combine([&a[0], &b[1]]).unwrap_err();
    assert_eq!(
        err,
        ShamirError::DifferentSets {
            first: a[0].set_id(),
            other: b[1].set_id()
        }
    );
    assert!(err.to_string().contains(&a[0].set_id().to_string()));

    let later = shamir::split(&key, 2).unwrap();
    let err = shamir::combine([&a[0], &later[1]]).unwrap_err();
    assert_eq!(err, ShamirError::DifferentEpochs { first: 1, other: 2 });
    assert!(err.to_string().contains("epoch 1 and epoch 2"), "{err}");
}

/// Shares with the same set and epoch but different keys can only be made by hand (from
/// sheet fields); combine still tells them apart.
#[test]
fn shares_of_different_keys_or_curves_do_not_combine() {
    let k1 = Keypair::generate(Curve::Secp256k1);
    let k2 = Keypair::generate(Curve::Secp256k1);
    let p = Keypair::generate(Curve::P256);
    let s1 = shamir::split(&k1, 3).unwrap();
    let s2 = shamir::split(&k2, 3).unwrap();
    let sp = shamir::split(&p, 3).unwrap();
    let forge = |from: &Share, key: &Keypair| {
        Share::from_sheet_fields(
            &from.reveal_words(),
            s1[0].set_id(),
            2,
            3,
            key.curve(),
            &key.did_key(),
        )
        .unwrap()
    };
    let other_key = forge(&s2[1], &k2);
    assert_eq!(
        shamir::combine([&s1[0], &other_key]).unwrap_err(),
        ShamirError::KeyMismatch {
            first: k1.did_key(),
            other: k2.did_key()
        }
    );
    let other_curve = forge(&sp[1], &p);
    assert_eq!(
        shamir::combine([&s1[0], &other_curve]).unwrap_err(),
        ShamirError::CurveMismatch {
            first: Curve::Secp256k1,
            other: Curve::P256
        }
    );
}

#[test]
fn the_same_share_twice_is_refused() {
    let key = Keypair::generate(Curve::P256);
    let shares = shamir::split(&key, 1).unwrap();
    let copy = shares[1].clone();
    let err = shamir::combine([&shares[1], &copy]).unwrap_err();
    assert_eq!(err, ShamirError::DuplicateShare { index: 2 });
    assert!(err.to_string().contains("share 2 was given twice"), "{err}");
}

#[test]
fn a_damaged_share_value_is_caught_by_the_did_key_check() {
    for curve in CURVES {
        let key = Keypair::generate(curve);
        let shares = shamir::split(&key, 1).unwrap();
        let mut value = *shares[2].reveal_value();
        value[5] ^= 0x40;
        let damaged = Share::from_sheet_fields(
            &ShareWords::from_bytes(&value),
            shares[2].set_id(),
            3,
            1,
            curve,
            &shares[2].did_key(),
        )
        .unwrap();
        let err = shamir::combine([&shares[0], &damaged]).unwrap_err();
        assert_eq!(
            err,
            ShamirError::WrongKey {
                expected: key.did_key()
            }
        );
        assert!(err.to_string().contains("mistyped or damaged"), "{err}");
    }
}

#[test]
fn a_wrong_share_number_is_caught_by_the_did_key_check() {
    let key = Keypair::generate(Curve::Secp256k1);
    let shares = shamir::split(&key, 1).unwrap();
    // Share 3's words entered as share 2: the pair (1, "2") rebuilds some other key.
    let misnumbered = Share::from_sheet_fields(
        &shares[2].reveal_words(),
        shares[2].set_id(),
        2,
        1,
        Curve::Secp256k1,
        &key.did_key(),
    )
    .unwrap();
    assert!(matches!(
        shamir::combine([&shares[0], &misnumbered]),
        Err(ShamirError::WrongKey { .. })
    ));
}

#[test]
fn share_text_round_trips() {
    for curve in CURVES {
        let key = Keypair::generate(curve);
        for share in shamir::split(&key, u32::MAX).unwrap() {
            let text = share.reveal_text();
            assert!(text.starts_with(SHARE_TEXT_PREFIX));
            assert!(text.is_ascii());
            assert_eq!(Share::from_text(&text).unwrap(), share);
            assert_eq!(text.parse::<Share>().unwrap(), share);
            // Wrapped over lines in a file, still the same share.
            let wrapped: String = text
                .chars()
                .enumerate()
                .flat_map(|(n, c)| {
                    if n > 0 && n % 40 == 0 {
                        vec!['\n', c]
                    } else {
                        vec![c]
                    }
                })
                .collect();
            assert_eq!(Share::from_text(&format!("  {wrapped}\n")).unwrap(), share);
        }
    }
}

#[test]
fn damaged_share_text_says_what_is_wrong() {
    let key = Keypair::generate(Curve::P256);
    let share = &shamir::split(&key, 1).unwrap()[0];
    let text = share.reveal_text().to_string();
    let body = &text[SHARE_TEXT_PREFIX.len()..];

    // One character changed anywhere in the body: the checksum catches it.
    for pos in [0, 30, 60, body.len() - 8] {
        let mut chars: Vec<char> = body.chars().collect();
        chars[pos] = if chars[pos] == 'A' { 'B' } else { 'A' };
        let changed: String = chars.into_iter().collect();
        let err = Share::from_text(&format!("{SHARE_TEXT_PREFIX}{changed}")).unwrap_err();
        assert_eq!(err, ShamirError::ChecksumMismatch, "position {pos}");
        assert!(err.to_string().contains("damaged"));
    }
    let truncated = &text[..text.len() - 4];
    assert!(matches!(
        Share::from_text(truncated),
        Err(ShamirError::WrongLength {
            found: 119,
            expected: 123
        })
    ));
    assert_eq!(
        Share::from_text(&format!("{SHARE_TEXT_PREFIX}{}!", &body[1..])).unwrap_err(),
        ShamirError::BadEncoding
    );
    assert_eq!(Share::from_text(body).unwrap_err(), ShamirError::NotAShare);
    assert_eq!(
        Share::from_text(&format!("pds-share-v2:{body}")).unwrap_err(),
        ShamirError::UnsupportedVersion("pds-share-v2".into())
    );
    assert_eq!(Share::from_text("").unwrap_err(), ShamirError::NotAShare);
}

#[test]
fn sheet_fields_are_checked() {
    let key = Keypair::generate(Curve::Secp256k1);
    let share = &shamir::split(&key, 1).unwrap()[0];
    let words = share.reveal_words();
    let rebuild = |index, curve, did_key: &str| {
        Share::from_sheet_fields(&words, share.set_id(), index, 1, curve, did_key)
    };
    assert_eq!(
        rebuild(1, Curve::Secp256k1, &key.did_key()).unwrap(),
        *share
    );
    assert_eq!(
        rebuild(1, Curve::P256, &key.did_key()).unwrap_err(),
        ShamirError::CurveDoesNotMatchKey {
            curve: Curve::P256,
            key_curve: Curve::Secp256k1
        }
    );
    for index in [0, 4, 255] {
        assert_eq!(
            rebuild(index, Curve::Secp256k1, &key.did_key()).unwrap_err(),
            ShamirError::InvalidIndex { index }
        );
    }
    // An Ed25519 did:key (the example from the did:key method spec) is refused.
    let ed25519 = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    assert!(matches!(
        rebuild(1, Curve::Secp256k1, ed25519),
        Err(ShamirError::InvalidRotationKey(_))
    ));
    assert!(matches!(
        rebuild(1, Curve::Secp256k1, "did:key:nonsense"),
        Err(ShamirError::InvalidRotationKey(_))
    ));
}

#[test]
fn debug_output_carries_no_secret() {
    let key = Keypair::generate(Curve::P256);
    let share = &shamir::split(&key, 1).unwrap()[0];
    let hex: String = share
        .reveal_value()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let words = share.reveal_words();
    let first_word = words.reveal_words().next().unwrap();
    for shown in [format!("{share:?}"), format!("{words:?}")] {
        assert!(!shown.contains(&hex), "{shown}");
        assert!(!shown.contains(&format!("{:?}", share.reveal_value())));
        assert!(!shown.contains(first_word), "{shown}");
    }
    assert!(format!("{share:?}").contains(&key.did_key()));
}

// ---------------------------------------------------------------- words

#[test]
fn words_are_standard_bip39_and_round_trip() {
    for seed in 0u8..8 {
        let value: [u8; 32] =
            std::array::from_fn(|i| seed.wrapping_mul(37) ^ (i as u8).wrapping_mul(11));
        let words = ShareWords::from_bytes(&value);
        let listed: Vec<&str> = words.reveal_words().collect();
        assert_eq!(listed, bip39_by_hand(&value));
        assert_eq!(listed.len(), SHARE_WORD_COUNT);
        let back = ShareWords::parse(&words.reveal_phrase()).unwrap();
        assert_eq!(back.reveal_bytes(), &value);
        assert_eq!(back, words);
    }
}

#[test]
fn typed_words_may_use_any_case_spacing_and_numbering() {
    let value = [0x5a; 32];
    let words: Vec<&str> = ShareWords::from_bytes(&value).reveal_words().collect();
    let sloppy: String = words
        .iter()
        .enumerate()
        .map(|(n, w)| {
            let w = if n % 2 == 0 {
                w.to_uppercase()
            } else {
                w.to_string()
            };
            format!("  {}.\t{w}{}", n + 1, if n % 5 == 0 { "\n\n" } else { " " })
        })
        .collect();
    assert_eq!(ShareWords::parse(&sloppy).unwrap().reveal_bytes(), &value);
    // Four-letter abbreviations too.
    let short: Vec<String> = words.iter().map(|w| w.chars().take(4).collect()).collect();
    assert_eq!(
        ShareWords::parse(&short.join(" ")).unwrap().reveal_bytes(),
        &value
    );
}

#[test]
fn a_wrong_word_is_reported_by_its_position() {
    let words: Vec<&str> = ShareWords::from_bytes(&[9; 32]).reveal_words().collect();
    for position in [1, 13, 24] {
        let mut typed: Vec<&str> = words.clone();
        typed[position - 1] = "bitcoinz";
        let err = ShareWords::parse(&typed.join(" ")).unwrap_err();
        assert_eq!(
            err,
            MnemonicError::UnknownWords {
                positions: vec![position]
            }
        );
        assert_eq!(
            err.to_string(),
            format!("word {position} is not in the BIP-39 English word list")
        );
        assert!(!err.to_string().contains("bitcoinz"));
    }
}

#[test]
fn a_checksum_failure_is_reported_separately() {
    let words: Vec<&str> = ShareWords::from_bytes(&[0xc3; 32]).reveal_words().collect();
    // The last word's low 8 bits are the checksum; flipping its lowest bit keeps every
    // entropy bit and breaks the checksum.
    let last = mnemonic::find_word(words[23]).unwrap();
    let wrong_last = mnemonic::word_list()[usize::from(last ^ 1)];
    let mut typed = words.clone();
    typed[23] = wrong_last;
    let err = ShareWords::parse(&typed.join(" ")).unwrap_err();
    assert_eq!(err, MnemonicError::Checksum);
    assert!(err.to_string().contains("checksum"));
}

#[test]
fn a_wrong_number_of_words_is_reported() {
    let words: Vec<&str> = ShareWords::from_bytes(&[1; 32]).reveal_words().collect();
    assert_eq!(
        ShareWords::parse(&words[..23].join(" ")).unwrap_err(),
        MnemonicError::WrongWordCount {
            found: 23,
            expected: 24
        }
    );
    assert_eq!(
        ShareWords::parse("").unwrap_err(),
        MnemonicError::WrongWordCount {
            found: 0,
            expected: 24
        }
    );
}

#[test]
fn completion_offers_matching_words() {
    let list = mnemonic::word_list();
    assert!(mnemonic::complete("").is_empty());
    assert!(mnemonic::complete("  ").is_empty());
    assert!(mnemonic::complete("qz").is_empty());
    let ab = mnemonic::complete("Ab");
    let expected: Vec<&str> = list
        .iter()
        .copied()
        .filter(|w| w.starts_with("ab"))
        .collect();
    assert!(ab.len() > 1);
    assert_eq!(ab, expected);
    // A word's first four letters complete to exactly that word; a three-letter word
    // (like "act") comes first among the words it starts.
    for w in list.iter() {
        let prefix: String = w.chars().take(4).collect();
        let got = mnemonic::complete(&prefix.to_uppercase());
        if w.len() >= 4 {
            assert_eq!(got, vec![*w]);
        } else {
            assert_eq!(got.first(), Some(w));
        }
    }
}

// ---------------------------------------------------------------- sheets

const DID: &str = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, 14).unwrap()
}

/// The positions of `needles` in `hay`, which must exist and be increasing.
fn assert_in_order(hay: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        let found = hay[from..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing or out of order"));
        from += found + needle.len();
    }
}

#[test]
fn text_sheet_has_everything_needed_to_rebuild_the_share() {
    let key = Keypair::generate(Curve::Secp256k1);
    let shares = shamir::split(&key, 4).unwrap();
    let share = &shares[2];
    let text = RecoverySheet::new(share, DID, "alice.example.com", date()).reveal_text();
    let words = words_of(share);
    let numbered: Vec<String> = words
        .iter()
        .enumerate()
        .map(|(n, w)| format!("{}. {w}", n + 1))
        .collect();
    let numbered: Vec<&str> = numbered.iter().map(String::as_str).collect();
    assert_in_order(&text, &numbered);
    for needle in [
        DID,
        "@alice.example.com",
        &key.did_key(),
        &share.set_id().to_string(),
        "Share 3 of 3 \u{2014} any 2 recover",
        "secp256k1",
        "2025-03-14",
        RECOVER_COMMAND,
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{}", *text);
    }
    assert!(text.lines().all(|l| l.chars().count() <= 72), "{}", *text);

    // Read the fields back off the sheet, as a person would type them.
    let field = |label: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(label).map(str::trim))
            .unwrap_or_else(|| panic!("no {label} line"))
            .to_string()
    };
    let grid: String = text
        .lines()
        .skip_while(|l| !l.starts_with("The 24 words"))
        .skip(1)
        .take_while(|l| !l.starts_with("What this is"))
        .collect::<Vec<_>>()
        .join("\n");
    let rebuilt = Share::from_sheet_fields(
        &ShareWords::parse(&grid).unwrap(),
        field("Set").parse::<SetId>().unwrap(),
        field("Share number").parse().unwrap(),
        field("Epoch").parse().unwrap(),
        field("Curve").parse().unwrap(),
        &field("Rotation key"),
    )
    .unwrap();
    assert_eq!(rebuilt, *share);
    assert!(same_key(
        &shamir::combine([&shares[0], &rebuilt]).unwrap(),
        &key
    ));
}

#[test]
fn html_sheet_is_complete_and_self_contained() {
    let key = Keypair::generate(Curve::P256);
    let share = &shamir::split(&key, 9).unwrap()[2];
    let html = RecoverySheet::new(share, DID, "alice.example.com", date()).reveal_html();
    let items: Vec<String> = words_of(share)
        .iter()
        .map(|w| format!("<span class=\"w\">{w}</span>"))
        .collect();
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    assert_in_order(&html, &items);
    for needle in [
        DID,
        "@alice.example.com",
        &key.did_key(),
        &share.set_id().to_string(),
        "Share 3 of 3 \u{2014} any 2 recover",
        "p256",
        "2025-03-14",
        RECOVER_COMMAND,
        "@page",
        "@media",
    ] {
        assert!(html.contains(needle), "{needle} missing");
    }
    let lower = html.to_lowercase();
    for forbidden in [
        "<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import", "http:",
        "https:",
    ] {
        assert!(!lower.contains(forbidden), "{forbidden} found");
    }
    assert!(lower.contains("default-src 'none'"));
    assert_eq!(lower.matches("<html").count(), 1);
}

#[test]
fn a_hostile_handle_is_escaped() {
    let key = Keypair::generate(Curve::Secp256k1);
    let share = &shamir::split(&key, 1).unwrap()[0];
    let hostile = "<script>alert(\"x\")</script>&'\u{1b}[2J\u{202e}";
    let html = RecoverySheet::new(share, "did:plc:<b>x</b>", hostile, date()).reveal_html();
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("<b>x</b>"));
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
    assert!(html.contains("did:plc:&lt;b&gt;x&lt;/b&gt;"));
    assert!(!html.contains('\u{1b}') && !html.contains('\u{202e}'));
    let text = RecoverySheet::new(share, DID, hostile, date()).reveal_text();
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'));
}

// ---------------------------------------------------------------- transfer codes

#[test]
fn transfer_codes_are_six_words_and_normalise() {
    let code = TransferCode::generate().unwrap();
    let canonical = code.reveal();
    let words: Vec<&str> = canonical.split('-').collect();
    assert_eq!(words.len(), TRANSFER_WORD_COUNT);
    assert!(words.iter().all(|w| mnemonic::find_word(w).is_some()));
    let messy = format!(
        "  {} {}--{}\t_{}  ,{} \n{} ",
        words[0].to_uppercase(),
        words[1],
        words[2],
        &words[3][..words[3].len().min(4)],
        words[4],
        words[5].to_uppercase()
    );
    let parsed = TransferCode::parse(&messy).unwrap();
    assert_eq!(parsed, code);
    assert_eq!(*parsed.reveal(), *canonical);
    assert_ne!(TransferCode::generate().unwrap(), code);
    assert!(!format!("{code:?}").contains(words[0]));
}

#[test]
fn bad_transfer_codes_say_what_is_wrong() {
    assert_eq!(
        TransferCode::parse("abandon ability able about above").unwrap_err(),
        TransferError::WrongWordCount {
            found: 5,
            expected: 6
        }
    );
    let err = TransferCode::parse("abandon ability qqqq about above absent").unwrap_err();
    assert_eq!(err, TransferError::UnknownWords { positions: vec![3] });
    assert!(err.to_string().contains("word 3"));
}

#[test]
fn only_the_hash_is_stored_and_it_verifies() {
    let key = TransferKey::generate().unwrap();
    let code = TransferCode::generate().unwrap();
    let stored = code.hash(&key);
    let typed = TransferCode::parse(&code.reveal().to_uppercase().replace('-', " ")).unwrap();
    assert!(stored.verify(&typed, &key));
    assert_eq!(typed.hash(&key), stored);

    let other_code = TransferCode::generate().unwrap();
    assert!(!stored.verify(&other_code, &key));
    let other_key = TransferKey::generate().unwrap();
    assert!(!stored.verify(&code, &other_key));
    assert_ne!(code.hash(&other_key), stored);

    let hex = stored.to_string();
    assert_eq!(hex.len(), 64);
    assert!(!hex.contains(&*code.reveal()));
    assert_eq!(hex.parse::<CodeHash>().unwrap(), stored);
    assert_eq!(hex.to_uppercase().parse::<CodeHash>().unwrap(), stored);
    assert!(hex[1..].parse::<CodeHash>().is_err());
    assert!(format!("{}g", &hex[1..]).parse::<CodeHash>().is_err());
    assert_eq!(CodeHash::from_bytes(*stored.as_bytes()), stored);
    assert!(!format!("{key:?}").contains(&format!("{:?}", key.reveal_bytes())));
    assert_eq!(
        TransferKey::from_bytes(*key.reveal_bytes())
            .reveal_bytes()
            .as_slice(),
        key.reveal_bytes().as_slice()
    );
}

#[test]
fn qr_payload_round_trips() {
    let code = TransferCode::generate().unwrap();
    let payload = code.reveal_payload("https://relay.example.com/").unwrap();
    assert_eq!(
        *payload,
        format!("pdsxfer:{}@https://relay.example.com", *code.reveal())
    );
    assert!(payload.is_ascii());
    let read = TransferPayload::parse(&payload).unwrap();
    assert_eq!(read.code(), &code);
    assert_eq!(read.relay_url(), "https://relay.example.com");
    assert!(!format!("{read:?}").contains(&*code.reveal()));
    let shouted = TransferPayload::parse(&payload.to_uppercase()).unwrap();
    assert_eq!(shouted.code(), &code);

    assert_eq!(
        TransferPayload::parse("https://relay.example.com").unwrap_err(),
        TransferError::NotAPayload
    );
    assert_eq!(
        TransferPayload::parse(&format!("pdsxfer:{}", *code.reveal())).unwrap_err(),
        TransferError::MissingRelay
    );
    assert!(matches!(
        TransferPayload::parse(&format!("pdsxfer:{}@http://evil.example", *code.reveal())),
        Err(TransferError::BadRelayUrl(_))
    ));
    assert!(matches!(
        code.reveal_payload("https://a@b.example"),
        Err(TransferError::BadRelayUrl(_))
    ));
}

// ---------------------------------------------------------------- properties

fn any_key() -> impl Strategy<Value = Keypair> {
    (prop::sample::select(CURVES.to_vec()), any::<[u8; 32]>())
        .prop_filter_map("not a valid scalar", |(curve, bytes)| {
            Keypair::from_bytes(curve, &bytes).ok()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_keys_split_and_combine_for_every_pair(key in any_key(), epoch in any::<u32>()) {
        let shares = shamir::split(&key, epoch).unwrap();
        for (a, b) in PAIRS {
            let got = shamir::combine([&shares[a], &shares[b]]).unwrap();
            prop_assert!(same_key(&got, &key));
            // Through the text form and the sheet form too.
            let ta = Share::from_text(&shares[a].reveal_text()).unwrap();
            let wb = ShareWords::parse(&shares[b].reveal_words().reveal_phrase()).unwrap();
            let sb = Share::from_sheet_fields(
                &wb,
                shares[b].set_id(),
                shares[b].index(),
                epoch,
                key.curve(),
                &key.did_key(),
            )
            .unwrap();
            prop_assert!(same_key(&shamir::combine([&ta, &sb]).unwrap(), &key));
        }
    }

    #[test]
    fn random_values_are_standard_bip39_words(value in any::<[u8; 32]>()) {
        let words = ShareWords::from_bytes(&value);
        let listed: Vec<&str> = words.reveal_words().collect();
        prop_assert_eq!(listed, bip39_by_hand(&value));
        let back = ShareWords::parse(&words.reveal_phrase()).unwrap();
        prop_assert_eq!(back.reveal_bytes(), &value);
    }

    #[test]
    fn set_ids_round_trip(bytes in any::<[u8; 16]>()) {
        let id = SetId::from_bytes(bytes);
        prop_assert_eq!(id.to_string().parse::<SetId>().unwrap(), id);
    }
}
