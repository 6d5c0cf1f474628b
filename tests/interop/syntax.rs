//! Syntax vectors: every `syntax/*.txt` line list, one trial per case.
//!
//! The file list comes from the directory, not from this code: `<kind>_syntax_valid`,
//! `<kind>_syntax_invalid` and `<kind>_parse_invalid` are paired with the validator
//! for `<kind>`, and a file whose kind or suffix is unknown becomes a failing trial
//! rather than being skipped. Expected answers come only from the file names.

use crate::common::{load_failure, read_lines, short};
use libtest_mimic::{Failed, Trial};
use pds::syntax::{
    AtIdentifier, AtUri, Datetime, Did, Handle, Language, Nsid, RecordKey, Tid,
    is_valid_cid_string, is_valid_datetime_syntax, is_valid_language_syntax, is_valid_rkey,
    is_valid_uri,
};
use std::path::Path;

/// What a file says about each of its lines.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// `_syntax_valid`: passes the syntax check and the full parse.
    Valid,
    /// `_syntax_invalid`: fails the syntax check (and so the full parse).
    SyntaxInvalid,
    /// `_parse_invalid`: passes the syntax check, fails the full parse.
    ParseInvalid,
}

/// The outcome of checking one string: did it pass the syntax level, did it pass
/// the full parse, and (when it passed) any inconsistency found in the parsed value.
struct Outcome {
    syntax: bool,
    parse: bool,
    problem: Option<String>,
}

impl Outcome {
    /// One-level validators: syntax and parse are the same check.
    fn single(ok: bool, problem: Option<String>) -> Self {
        Outcome {
            syntax: ok,
            parse: ok,
            problem,
        }
    }
}

/// The validator for a file-name kind, or `None` if there is none.
fn validator(kind: &str) -> Option<fn(&str) -> Outcome> {
    Some(match kind {
        "handle" => check_handle,
        "did" => check_did,
        "nsid" => check_nsid,
        "aturi" => check_aturi,
        "tid" => check_tid,
        "recordkey" => check_recordkey,
        "atidentifier" => check_atidentifier,
        "datetime" => check_datetime,
        "language" => check_language,
        "cid" => check_cid,
        "uri" => check_uri,
        _ => return None,
    })
}

pub fn trials(dir: &Path) -> Vec<Trial> {
    let d = dir.join("syntax");
    let entries = match std::fs::read_dir(&d) {
        Ok(e) => e,
        Err(e) => return vec![load_failure("syntax", format!("{}: {e}", d.display()))],
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();

    let mut out = Vec::new();
    for path in files {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let group = format!("syntax::{stem}");
        let (kind, expect) = if let Some(k) = stem.strip_suffix("_syntax_valid") {
            (k, Expect::Valid)
        } else if let Some(k) = stem.strip_suffix("_syntax_invalid") {
            (k, Expect::SyntaxInvalid)
        } else if let Some(k) = stem.strip_suffix("_parse_invalid") {
            (k, Expect::ParseInvalid)
        } else {
            let msg = format!(
                "{}: unknown file suffix (want _syntax_valid, _syntax_invalid or _parse_invalid)",
                path.display()
            );
            out.push(Trial::test(format!("{group}::classify"), move || {
                Err(msg.into())
            }));
            continue;
        };
        let Some(check) = validator(kind) else {
            let msg = format!("{}: no validator for kind {kind:?}", path.display());
            out.push(Trial::test(format!("{group}::validator"), move || {
                Err(msg.into())
            }));
            continue;
        };
        let lines = match read_lines(&path) {
            Ok(l) => l,
            Err(e) => {
                out.push(load_failure(&group, e));
                continue;
            }
        };
        if lines.is_empty() {
            let msg = format!("{}: no cases", path.display());
            out.push(Trial::test(format!("{group}::cases"), move || {
                Err(msg.into())
            }));
        }
        for (line, case) in lines {
            let name = format!("{group}::{line}::{}", short(&case));
            out.push(Trial::test(name, move || run(check, expect, &case)));
        }
    }
    out
}

fn run(check: fn(&str) -> Outcome, expect: Expect, case: &str) -> Result<(), Failed> {
    let o = check(case);
    let (want_syntax, want_parse) = match expect {
        Expect::Valid => (true, true),
        Expect::SyntaxInvalid => (false, false),
        Expect::ParseInvalid => (true, false),
    };
    if o.syntax != want_syntax {
        return Err(format!(
            "{case:?}: syntax check said {}, want {want_syntax}",
            o.syntax
        )
        .into());
    }
    if o.parse != want_parse {
        return Err(format!("{case:?}: full parse said {}, want {want_parse}", o.parse).into());
    }
    match o.problem {
        Some(p) => Err(format!("{case:?}: {p}").into()),
        None => Ok(()),
    }
}

/// For a value that parsed: its string form must be `want`, and the serde
/// round trip (JSON string in, JSON string out) must agree with `new`.
fn consistency<T>(value: &T, want: &str, input: &str) -> Option<String>
where
    T: AsRef<str> + std::fmt::Display + serde::Serialize + serde::de::DeserializeOwned + PartialEq,
{
    if value.as_ref() != want || value.to_string() != want {
        return Some(format!(
            "parsed value prints as {:?}, want {want:?}",
            value.to_string()
        ));
    }
    let json = match serde_json::to_string(input) {
        Ok(j) => j,
        Err(e) => return Some(format!("encoding the case as JSON: {e}")),
    };
    match serde_json::from_str::<T>(&json) {
        Ok(back) if back == *value => None,
        Ok(_) => Some("deserialized value differs from new()".into()),
        Err(e) => Some(format!("new() accepted it but deserialize refused: {e}")),
    }
}

/// For a string `new` refused: deserializing it must be refused too.
fn refused_by_serde<T: serde::de::DeserializeOwned>(input: &str) -> Option<String> {
    let json = serde_json::to_string(input).ok()?;
    serde_json::from_str::<T>(&json)
        .is_ok()
        .then(|| "new() refused it but deserialize accepted it".to_owned())
}

/// The common shape for one-level types: `new`, then consistency or serde refusal.
fn simple<T, E>(r: Result<T, E>, want: impl FnOnce() -> String, input: &str) -> Outcome
where
    T: AsRef<str> + std::fmt::Display + serde::Serialize + serde::de::DeserializeOwned + PartialEq,
{
    match r {
        Ok(v) => Outcome::single(true, consistency(&v, &want(), input)),
        Err(_) => Outcome::single(false, refused_by_serde::<T>(input)),
    }
}

fn check_handle(s: &str) -> Outcome {
    let mut o = simple(Handle::new(s), || s.to_ascii_lowercase(), s);
    if Handle::is_valid(s) != o.syntax {
        o.problem = Some("Handle::is_valid disagrees with Handle::new".into());
    }
    o
}

fn check_did(s: &str) -> Outcome {
    simple(Did::new(s), || s.to_owned(), s)
}

fn check_nsid(s: &str) -> Outcome {
    let mut o = simple(Nsid::new(s), || s.to_owned(), s);
    if let Ok(n) = Nsid::new(s)
        && format!("{}.{}", n.authority(), n.name()) != s
    {
        o.problem = Some("authority + name do not rebuild the NSID".into());
    }
    o
}

fn check_aturi(s: &str) -> Outcome {
    let mut o = simple(AtUri::new(s), || s.to_owned(), s);
    if let Ok(u) = AtUri::new(s) {
        let collection = u.collection();
        match AtUri::from_parts(
            u.authority(),
            collection.as_ref().map(Nsid::as_str),
            u.rkey(),
        ) {
            Ok(rebuilt) if rebuilt == u => {}
            Ok(rebuilt) => o.problem = Some(format!("from_parts rebuilt {rebuilt}")),
            Err(e) => o.problem = Some(format!("from_parts refused the parts: {e}")),
        }
    }
    o
}

fn check_tid(s: &str) -> Outcome {
    let mut o = simple(Tid::new(s), || s.to_owned(), s);
    if let Ok(t) = Tid::new(s) {
        if Tid::from_u64(t.to_u64()) != t {
            o.problem = Some("integer round trip changed the TID".into());
        } else if t.to_u64() >> 63 == 0 && Tid::from_parts(t.timestamp_micros(), t.clock_id()) != t
        {
            o.problem = Some("from_parts(timestamp, clock id) changed the TID".into());
        }
    }
    o
}

fn check_recordkey(s: &str) -> Outcome {
    let mut o = simple(RecordKey::new(s), || s.to_owned(), s);
    if is_valid_rkey(s) != o.syntax {
        o.problem = Some("is_valid_rkey disagrees with RecordKey::new".into());
    }
    o
}

fn check_atidentifier(s: &str) -> Outcome {
    let want = || match AtIdentifier::new(s) {
        Ok(AtIdentifier::Handle(_)) => s.to_ascii_lowercase(),
        _ => s.to_owned(),
    };
    simple(AtIdentifier::new(s), want, s)
}

fn check_datetime(s: &str) -> Outcome {
    let syntax = is_valid_datetime_syntax(s);
    let parsed = Datetime::new(s);
    let problem = match &parsed {
        Ok(d) => consistency(d, s, s),
        Err(_) => refused_by_serde::<Datetime>(s),
    };
    Outcome {
        syntax,
        parse: parsed.is_ok(),
        problem,
    }
}

fn check_language(s: &str) -> Outcome {
    let syntax = is_valid_language_syntax(s);
    let parsed = Language::new(s);
    let problem = match &parsed {
        Ok(l) => consistency(l, s, s),
        Err(_) => refused_by_serde::<Language>(s),
    };
    Outcome {
        syntax,
        parse: parsed.is_ok(),
        problem,
    }
}

fn check_cid(s: &str) -> Outcome {
    Outcome::single(is_valid_cid_string(s), None)
}

fn check_uri(s: &str) -> Outcome {
    Outcome::single(is_valid_uri(s), None)
}
