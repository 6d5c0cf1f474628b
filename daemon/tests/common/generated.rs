//! The check behind `daemon/tests/generated.rs` and `cli/tests/generated.rs` (which
//! includes this file by path): run a binary's hidden `generate` subcommand into a
//! temporary folder and compare the result, file by file, with what is committed under
//! man/ and completions/ at the repository's root.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root (the workspace folder).
pub fn repo_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

/// Whether `file` in man/ or completions/ belongs to binary `bin`.
fn belongs_to(file: &str, bin: &str) -> bool {
    file == format!("_{bin}")
        || file
            .strip_prefix(bin)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('-'))
}

fn files_of(dir: &Path, bin: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| belongs_to(n, bin))
                .collect()
        })
        .unwrap_or_default()
}

/// Regenerate `what` (`man` or `completions`) with `exe` and compare with the committed
/// folder `what/`. Panics with the regeneration command when anything differs.
pub fn check(exe: &str, bin: &str, what: &str) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let status = Command::new(exe)
        .args(["generate", what, "--out"])
        .arg(tmp.path())
        .env_clear()
        .status()
        .expect("run the binary");
    assert!(status.success(), "{bin} generate {what} failed: {status}");
    let committed_dir = repo_root().join(what);
    let fresh = files_of(tmp.path(), bin);
    let committed = files_of(&committed_dir, bin);
    let fix = format!("regenerate with: cargo run -p {bin} -- generate {what} --out {what}");
    assert!(!fresh.is_empty(), "{bin} generate {what} wrote nothing");
    assert_eq!(
        fresh, committed,
        "the files of {bin} in {what}/ differ from what it generates; {fix}"
    );
    for name in &fresh {
        let new = std::fs::read(tmp.path().join(name)).expect("read generated");
        let old = std::fs::read(committed_dir.join(name)).expect("read committed");
        assert!(new == old, "{what}/{name} is stale; {fix}");
    }
}

#[test]
fn ownership_of_generated_files_is_by_name() {
    assert!(belongs_to("pdsd.1", "pdsd"));
    assert!(belongs_to("pdsd-config-show.1", "pdsd"));
    assert!(belongs_to("_pdsd", "pdsd"));
    assert!(belongs_to("pdsd.bash", "pdsd"));
    assert!(!belongs_to("pdsctl.1", "pdsd"));
    assert!(!belongs_to("_pdsctl", "pdsd"));
    assert!(belongs_to("pdsctl-account-create.1", "pdsctl"));
}
