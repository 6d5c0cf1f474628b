//! Lexicon vectors: schema documents that must parse or be refused, and records that must
//! validate or be refused against the `lexicon/catalog/` documents.
//!
//! One trial per case of `lexicon-valid.json`, `lexicon-invalid.json`,
//! `record-data-valid.json` and `record-data-invalid.json`, read at run time. Records are
//! read with the atproto JSON rules (`pds::data::json::record_from_json`) and validated
//! with `Catalog::validate_record` under the collection named by their `$type`; a record
//! refused by either step counts as rejected.

use crate::common::{load_failure, read_json_array};
use libtest_mimic::{Failed, Trial};
use pds::lexicon::{Catalog, LexiconDoc};
use serde_json::Value as Json;
use std::path::Path;
use std::sync::Arc;

pub fn trials(dir: &Path) -> Vec<Trial> {
    let dir = dir.join("lexicon");
    let mut out = Vec::new();
    for (file, expect_ok) in [
        ("lexicon-valid.json", true),
        ("lexicon-invalid.json", false),
    ] {
        out.extend(schema_trials(&dir, file, expect_ok));
    }
    let catalog = match load_catalog(&dir.join("catalog")) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            out.push(load_failure("lexicon::catalog", e));
            return out;
        }
    };
    for (file, expect_ok) in [
        ("record-data-valid.json", true),
        ("record-data-invalid.json", false),
    ] {
        out.extend(record_trials(&dir, file, expect_ok, &catalog));
    }
    out
}

/// Every `*.json` document in `catalog/`, in name order.
fn load_catalog(dir: &Path) -> Result<Catalog, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().is_some_and(|x| x == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(format!("{}: no lexicon documents", dir.display()));
    }
    let mut catalog = Catalog::new();
    for path in paths {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        catalog
            .add_json(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(catalog)
}

fn case_name(case: &Json, i: usize) -> String {
    let name = case.get("name").and_then(Json::as_str).unwrap_or("unnamed");
    format!("{i:02} {name}")
}

fn schema_trials(dir: &Path, file: &str, expect_ok: bool) -> Vec<Trial> {
    let family = format!("lexicon::{}", file.trim_end_matches(".json"));
    let cases = match read_json_array(&dir.join(file)) {
        Ok(c) => c,
        Err(e) => return vec![load_failure(&family, e)],
    };
    cases
        .into_iter()
        .enumerate()
        .map(|(i, case)| {
            let name = format!("{family}::{}", case_name(&case, i));
            Trial::test(name, move || {
                let doc = case
                    .get("lexicon")
                    .cloned()
                    .ok_or_else(|| Failed::from("case has no `lexicon` field"))?;
                match (LexiconDoc::from_json_value(doc), expect_ok) {
                    (Ok(_), true) | (Err(_), false) => Ok(()),
                    (Err(e), true) => Err(format!("refused a valid lexicon: {e}").into()),
                    (Ok(_), false) => Err("accepted an invalid lexicon".into()),
                }
            })
        })
        .collect()
}

fn record_trials(dir: &Path, file: &str, expect_ok: bool, catalog: &Arc<Catalog>) -> Vec<Trial> {
    let family = format!("lexicon::{}", file.trim_end_matches(".json"));
    let cases = match read_json_array(&dir.join(file)) {
        Ok(c) => c,
        Err(e) => return vec![load_failure(&family, e)],
    };
    cases
        .into_iter()
        .enumerate()
        .map(|(i, case)| {
            let name = format!("{family}::{}", case_name(&case, i));
            let catalog = Arc::clone(catalog);
            Trial::test(name, move || {
                match (check_record(&catalog, &case), expect_ok) {
                    (Ok(()), true) | (Err(_), false) => Ok(()),
                    (Err(e), true) => Err(format!("refused a valid record: {e}").into()),
                    (Ok(()), false) => Err("accepted an invalid record".into()),
                }
            })
        })
        .collect()
}

/// Read and validate one `{name, rkey, data}` case; `Err` says why it was refused.
fn check_record(catalog: &Catalog, case: &Json) -> Result<(), String> {
    let rkey = case
        .get("rkey")
        .and_then(Json::as_str)
        .ok_or("case has no string `rkey`")?;
    let data = case.get("data").ok_or("case has no `data`")?;
    let collection = data
        .get("$type")
        .and_then(Json::as_str)
        .ok_or("record has no string $type")?;
    let value = pds::data::json::record_from_json(data).map_err(|e| e.to_string())?;
    catalog
        .validate_record(collection, rkey, &value)
        .map_err(|e| e.to_string())
}
