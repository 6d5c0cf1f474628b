//! The `data-model/` vectors: JSON <-> DAG-CBOR <-> CID agreement, and which JSON
//! documents are valid data-model values. One trial per case; expectations come from
//! the files only.

use crate::common::{load_failure, read_json_array, short};
use base64::Engine;
use libtest_mimic::{Failed, Trial};
use pds::data::{cbor, cid, json};
use serde_json::Value as J;
use std::path::Path;

pub fn trials(dir: &Path) -> Vec<Trial> {
    let dir = dir.join("data-model");
    let mut out = Vec::new();
    out.extend(family(
        &dir.join("data-model-fixtures.json"),
        "fixtures",
        fixture_case,
    ));
    out.extend(family(
        &dir.join("data-model-valid.json"),
        "valid",
        valid_case,
    ));
    out.extend(family(
        &dir.join("data-model-invalid.json"),
        "invalid",
        invalid_case,
    ));
    out
}

type Check = fn(&J) -> Result<(), Failed>;

fn family(path: &Path, kind: &str, check: Check) -> Vec<Trial> {
    let prefix = format!("data-model::{kind}");
    let cases = match read_json_array(path) {
        Ok(cases) => cases,
        Err(e) => return vec![load_failure(&prefix, e)],
    };
    if cases.is_empty() {
        return vec![load_failure(
            &prefix,
            format!("{}: no cases", path.display()),
        )];
    }
    cases
        .into_iter()
        .enumerate()
        .map(|(i, case)| {
            let label = match case.get("note").and_then(J::as_str) {
                Some(note) => short(note),
                None => case
                    .get("cid")
                    .and_then(J::as_str)
                    .map(short)
                    .unwrap_or_default(),
            };
            Trial::test(format!("{prefix}::{i:03} {label}"), move || check(&case))
        })
        .collect()
}

fn field<'a>(case: &'a J, name: &str) -> Result<&'a J, Failed> {
    case.get(name)
        .ok_or_else(|| Failed::from(format!("case has no {name:?} field")))
}

fn str_field<'a>(case: &'a J, name: &str) -> Result<&'a str, Failed> {
    field(case, name)?
        .as_str()
        .ok_or_else(|| Failed::from(format!("{name:?} is not a string")))
}

/// JSON -> value -> DAG-CBOR must give exactly `cbor_base64`, hashing to `cid`; those
/// bytes must pass strict decoding and come back as the same value and the same JSON.
fn fixture_case(case: &J) -> Result<(), Failed> {
    let input = field(case, "json")?;
    let expected_bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(str_field(case, "cbor_base64")?.trim_end_matches('='))
        .map_err(|e| format!("cbor_base64: {e}"))?;
    let expected_cid = str_field(case, "cid")?;

    let value = json::object_from_json(input).map_err(|e| format!("from JSON: {e}"))?;
    let bytes = cbor::encode(&value).map_err(|e| format!("encode: {e}"))?;
    if bytes != expected_bytes {
        return Err(format!(
            "DAG-CBOR differs\n  ours:     {}\n  expected: {}",
            hex::encode(&bytes),
            hex::encode(&expected_bytes)
        )
        .into());
    }
    let got_cid = cid::for_cbor(&bytes).to_string();
    if got_cid != expected_cid {
        return Err(format!("CID {got_cid}, expected {expected_cid}").into());
    }
    let decoded = cbor::decode_value(&expected_bytes).map_err(|e| format!("strict decode: {e}"))?;
    if decoded != value {
        return Err(format!("decoded value differs: {decoded:?} vs {value:?}").into());
    }
    let back = json::to_json(&decoded);
    if &back != input {
        return Err(format!("JSON round trip differs:\n  {back}\n  {input}").into());
    }
    Ok(())
}

/// A valid document: an object that converts; where it has a `$type`, also a record.
fn valid_case(case: &J) -> Result<(), Failed> {
    let input = field(case, "json")?;
    json::object_from_json(input).map_err(|e| format!("refused: {e}"))?;
    if input.get("$type").is_some() {
        json::record_from_json(input).map_err(|e| format!("refused as a record: {e}"))?;
    }
    Ok(())
}

fn invalid_case(case: &J) -> Result<(), Failed> {
    let input = field(case, "json")?;
    match json::object_from_json(input) {
        Ok(v) => Err(format!("accepted as {v:?}").into()),
        Err(_) => Ok(()),
    }
}
