//! MST vectors: key heights, common prefix lengths, and the layer palette of
//! `example_keys.txt` (each key's `X<n>/` prefix names the layer it lands on).

use crate::common::{load_failure, read_json_array, read_lines, short};
use libtest_mimic::{Failed, Trial};
use pds::repo::mst::{common_prefix_len, key_height};
use std::path::Path;

pub fn trials(dir: &Path) -> Vec<Trial> {
    let mut out = Vec::new();
    let d = dir.join("mst");
    match read_json_array(&d.join("key_heights.json")) {
        Ok(cases) => {
            for (i, case) in cases.into_iter().enumerate() {
                let key = case["key"].as_str().unwrap_or_default().to_string();
                let name = format!("mst::key_heights::{i}::{}", short(&key));
                out.push(Trial::test(name, move || {
                    let key = case["key"].as_str().ok_or("missing key")?;
                    let want = case["height"].as_u64().ok_or("missing height")?;
                    let got = u64::from(key_height(key.as_bytes()));
                    if got == want {
                        Ok(())
                    } else {
                        Err(format!("height of {key:?}: got {got}, want {want}").into())
                    }
                }));
            }
        }
        Err(e) => out.push(load_failure("mst::key_heights", e)),
    }
    match read_json_array(&d.join("common_prefix.json")) {
        Ok(cases) => {
            for (i, case) in cases.into_iter().enumerate() {
                let name = format!(
                    "mst::common_prefix::{i}::{}|{}",
                    short(case["left"].as_str().unwrap_or_default()),
                    short(case["right"].as_str().unwrap_or_default())
                );
                out.push(Trial::test(name, move || {
                    let l = case["left"].as_str().ok_or("missing left")?;
                    let r = case["right"].as_str().ok_or("missing right")?;
                    let want = case["len"].as_u64().ok_or("missing len")?;
                    let got = common_prefix_len(l.as_bytes(), r.as_bytes()) as u64;
                    if got == want {
                        Ok(())
                    } else {
                        Err(format!("prefix of {l:?}/{r:?}: got {got}, want {want}").into())
                    }
                }));
            }
        }
        Err(e) => out.push(load_failure("mst::common_prefix", e)),
    }
    match read_lines(&d.join("example_keys.txt")) {
        Ok(lines) => {
            for (line, key) in lines {
                let name = format!("mst::example_keys::{line}::{}", short(&key));
                out.push(Trial::test(name, move || example_key(&key)));
            }
        }
        Err(e) => out.push(load_failure("mst::example_keys", e)),
    }
    out
}

/// `C2/014073` lands on layer 2: the digit before the first `/`.
fn example_key(key: &str) -> Result<(), Failed> {
    let prefix = key.split('/').next().ok_or("no prefix")?;
    let want: u8 = prefix
        .get(1..)
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| format!("{key:?}: no layer digit in prefix"))?;
    let got = key_height(key.as_bytes());
    if got == want {
        Ok(())
    } else {
        Err(format!("{key:?}: height {got}, prefix says {want}").into())
    }
}
