//! man/ and completions/ hold pdsctl's generated man pages and shell completions; this
//! test regenerates them with the real binary and fails when the committed files are
//! stale. The check itself is shared with pdsd's test.

#[path = "../../daemon/tests/common/generated.rs"]
mod generated;

use generated::check;

#[test]
fn pdsctl_man_pages_are_current() {
    check(env!("CARGO_BIN_EXE_pdsctl"), "pdsctl", "man");
}

#[test]
fn pdsctl_completions_are_current() {
    check(env!("CARGO_BIN_EXE_pdsctl"), "pdsctl", "completions");
}
