//! man/ and completions/ hold pdsd's generated man pages and shell completions; this test
//! regenerates them with the real binary and fails when the committed files are stale.

mod common {
    pub mod generated;
}

use common::generated::check;

#[test]
fn pdsd_man_pages_are_current() {
    check(env!("CARGO_BIN_EXE_pdsd"), "pdsd", "man");
}

#[test]
fn pdsd_completions_are_current() {
    check(env!("CARGO_BIN_EXE_pdsd"), "pdsd", "completions");
}
