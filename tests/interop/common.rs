//! Fixture loading shared by the interop families: where the vectors live, and
//! readers for the line-list and JSON formats.

use libtest_mimic::{Failed, Trial};
use std::path::{Path, PathBuf};

/// tests/fixtures/interop, or `PDS_INTEROP_FIXTURES` when it is set.
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("PDS_INTEROP_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/interop"),
    }
}

/// The cases of a `syntax/*.txt` line list: every line that is neither empty nor a
/// `#` comment, untrimmed, with its 1-based line number.
pub fn read_lines(path: &Path) -> Result<Vec<(usize, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect())
}

/// A JSON array file's elements.
pub fn read_json_array(path: &Path) -> Result<Vec<serde_json::Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    match v {
        serde_json::Value::Array(a) => Ok(a),
        _ => Err(format!("{}: not a JSON array", path.display())),
    }
}

/// A trial that fails at once, for a file that could not be loaded.
pub fn load_failure(name: &str, err: String) -> Trial {
    Trial::test(format!("{name}::load"), move || Err(Failed::from(err)))
}

/// Shorten a case for a test name (some lines are thousands of characters long).
pub fn short(s: &str) -> String {
    let mut out: String = s.chars().take(48).collect();
    if s.chars().count() > 48 {
        out.push('…');
    }
    out.escape_debug().to_string()
}
