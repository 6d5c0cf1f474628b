//! Language tags for `langs` fields: BCP 47 / RFC 5646 (atproto.com/specs/lexicon#language).
//!
//! Owns two levels of checking. The loose *syntax*: hyphen-separated subtags of 1–8
//! ASCII letters and digits, led by a lowercase ISO 639 code of two or three letters
//! or by the singleton `i` (grandfathered) or `x` (private use). The strict *parse*
//! behind [`Language::new`] adds the RFC 5646 "well-formed" grammar and the two
//! validity rules that need no registry: no repeated variant, no repeated extension
//! singleton (both case-insensitive). It does not consult the IANA subtag registry,
//! canonicalize case, or match tags against each other.

use super::{SyntaxError, string_newtype_impls, syntax_err};

/// RFC 5646 grandfathered tags (irregular and regular), matched case-insensitively.
const GRANDFATHERED: [&str; 26] = [
    "en-GB-oed",
    "i-ami",
    "i-bnn",
    "i-default",
    "i-enochian",
    "i-hak",
    "i-klingon",
    "i-lux",
    "i-mingo",
    "i-navajo",
    "i-pwn",
    "i-tao",
    "i-tay",
    "i-tsu",
    "sgn-BE-FR",
    "sgn-BE-NL",
    "sgn-CH-DE",
    "art-lojban",
    "cel-gaulish",
    "no-bok",
    "no-nyn",
    "zh-guoyu",
    "zh-hakka",
    "zh-min",
    "zh-min-nan",
    "zh-xiang",
];

/// A language tag that passes both the loose syntax and the strict parse. Kept as
/// written (tags are case-insensitive, but records are compared as written).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Language(String);

impl Language {
    /// Check `s` strictly: loose syntax, RFC 5646 well-formedness, and no repeated
    /// variants or extension singletons.
    pub fn new(s: &str) -> Result<Self, SyntaxError> {
        loose(s).map_err(|reason| syntax_err!(Language, s, "{reason}"))?;
        strict(s).map_err(|reason| syntax_err!(Language, s, "{reason}"))?;
        Ok(Language(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first subtag: the ISO 639 code (`pt` in `pt-BR`), or `i` / `x` for
    /// grandfathered and private-use tags.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or_default()
    }
}

string_newtype_impls!(Language, "a BCP 47 language tag");

/// Whether `s` passes the loose language-tag syntax. Some such tags are still not
/// well-formed or repeat a subtag; [`Language::new`] checks those too.
pub fn is_valid_language_syntax(s: &str) -> bool {
    loose(s).is_ok()
}

fn is_alpha(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_alphabetic())
}

fn is_digit(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_digit())
}

fn is_alnum(t: &str) -> bool {
    t.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The loose rules; `Err` names the first one broken.
fn loose(s: &str) -> Result<(), &'static str> {
    let mut subtags = s.split('-');
    let first = subtags.next().unwrap_or_default();
    let singleton = matches!(first, "i" | "I" | "x" | "X");
    let iso639 = (2..=3).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_lowercase());
    if !(singleton || iso639) {
        return Err(
            "must start with a lowercase two- or three-letter language code, or 'i-' / 'x-'",
        );
    }
    let mut rest = 0usize;
    for t in subtags {
        if t.is_empty() || t.len() > 8 || !is_alnum(t) {
            return Err("subtags must be 1-8 ASCII letters or digits separated by single hyphens");
        }
        rest += 1;
    }
    if singleton && rest == 0 {
        return Err("'i' or 'x' must be followed by further subtags");
    }
    Ok(())
}

/// RFC 5646 well-formedness plus the no-repeats rules; `Err` names the problem.
fn strict(s: &str) -> Result<(), &'static str> {
    if GRANDFATHERED.iter().any(|g| g.eq_ignore_ascii_case(s)) {
        return Ok(());
    }
    let tags: Vec<&str> = s.split('-').collect();
    let mut i = 0usize;
    let at = |i: usize| tags.get(i).copied();

    let is_x = |t: &str| t.eq_ignore_ascii_case("x");
    if at(0).is_some_and(is_x) {
        return private_use(&tags, 0);
    }

    // language = 2*3ALPHA ["-" extlang] / 4ALPHA / 5*8ALPHA
    let lang = at(0).unwrap_or_default();
    if !is_alpha(lang) || !(2..=8).contains(&lang.len()) {
        return Err("not a well-formed language tag (bad primary language subtag)");
    }
    i += 1;
    // extlang = 3ALPHA *2("-" 3ALPHA), only after a 2-3 letter language
    if lang.len() <= 3 {
        let mut n = 0;
        while n < 3 && at(i).is_some_and(|t| t.len() == 3 && is_alpha(t)) {
            i += 1;
            n += 1;
        }
    }
    // script = 4ALPHA
    if at(i).is_some_and(|t| t.len() == 4 && is_alpha(t)) {
        i += 1;
    }
    // region = 2ALPHA / 3DIGIT
    if at(i).is_some_and(|t| (t.len() == 2 && is_alpha(t)) || (t.len() == 3 && is_digit(t))) {
        i += 1;
    }
    // variant = 5*8alphanum / (DIGIT 3alphanum)
    let is_variant = |t: &str| {
        is_alnum(t)
            && ((5..=8).contains(&t.len())
                || (t.len() == 4 && t.bytes().next().is_some_and(|b| b.is_ascii_digit())))
    };
    let mut variants: Vec<String> = Vec::new();
    while let Some(t) = at(i).filter(|t| is_variant(t)) {
        let key = t.to_ascii_lowercase();
        if variants.contains(&key) {
            return Err("a variant subtag is repeated");
        }
        variants.push(key);
        i += 1;
    }
    // extension = singleton 1*("-" (2*8alphanum)), singleton = any alphanum but x
    let mut singletons: Vec<u8> = Vec::new();
    while let Some(t) = at(i).filter(|t| t.len() == 1 && is_alnum(t) && !is_x(t)) {
        let key = t.as_bytes().first().map_or(0, u8::to_ascii_lowercase);
        if singletons.contains(&key) {
            return Err("an extension singleton is repeated");
        }
        singletons.push(key);
        i += 1;
        let start = i;
        while at(i).is_some_and(|t| (2..=8).contains(&t.len()) && is_alnum(t)) {
            i += 1;
        }
        if i == start {
            return Err("an extension singleton must be followed by 2-8 character subtags");
        }
    }
    match at(i) {
        None => Ok(()),
        Some(t) if is_x(t) => private_use(&tags, i),
        Some(_) => Err("not a well-formed language tag (subtag out of place)"),
    }
}

/// privateuse = "x" 1*("-" (1*8alphanum)), starting at `tags[from]`.
fn private_use(tags: &[&str], from: usize) -> Result<(), &'static str> {
    let rest = tags.get(from + 1..).unwrap_or_default();
    if rest.is_empty()
        || !rest
            .iter()
            .all(|t| (1..=8).contains(&t.len()) && is_alnum(t))
    {
        return Err("'x' must be followed by 1-8 character private-use subtags");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_and_strict_levels() {
        // Loose syntax allows a repeated variant; the strict parse does not.
        assert!(is_valid_language_syntax("de-DE-1901-1901"));
        assert!(Language::new("de-DE-1901-1901").is_err());
        // Out-of-place subtags are loose-valid but not well-formed.
        assert!(is_valid_language_syntax("de-419-DE"));
        assert!(Language::new("de-419-DE").is_err());
        assert!(Language::new("en-GB-oed").is_ok(), "grandfathered");
        assert!(
            Language::new("en-a-bbb-x-a-a").is_ok(),
            "private use may repeat"
        );
        assert!(Language::new("en-a").is_err(), "empty extension");
    }

    #[test]
    fn primary() {
        let l = Language::new("pt-BR").expect("valid");
        assert_eq!(l.primary(), "pt");
    }

    #[test]
    fn serde_round_trip_and_refusal() {
        let l = Language::new("hy-Latn-IT-arevela").expect("valid");
        let json = serde_json::to_string(&l).expect("serialize");
        assert_eq!(
            serde_json::from_str::<Language>(&json).expect("deserialize"),
            l
        );
        assert!(serde_json::from_str::<Language>("\"en-a-foo-a-bar\"").is_err());
        assert!(serde_json::from_str::<Language>("\"JA\"").is_err());
    }
}
