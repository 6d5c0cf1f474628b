//! `cargo test --test interop`: the official AT Protocol interop vectors, one test per case.
//!
//! Reads tests/fixtures/interop (vendored from bluesky-social/atproto-interop-tests,
//! CC0), or the folder named by `PDS_INTEROP_FIXTURES` with the same layout, at run time.
//! Nothing expected is hard-coded here: every answer comes from the files. A family
//! that loads zero cases is itself a failing test.

mod common;
mod crypto;
mod data_model;
mod firehose;
mod lexicon;
mod mst;
mod syntax;

use libtest_mimic::{Arguments, Trial};

/// A family's loader: every case under the fixtures folder as a trial.
type Loader = fn(&std::path::Path) -> Vec<Trial>;

fn main() {
    let args = Arguments::from_args();
    let dir = common::fixtures_dir();
    let families: [(&str, Loader); 6] = [
        ("syntax", syntax::trials),
        ("crypto", crypto::trials),
        ("data-model", data_model::trials),
        ("mst", mst::trials),
        ("firehose", firehose::trials),
        ("lexicon", lexicon::trials),
    ];
    let mut all = Vec::new();
    for (name, load) in families {
        let trials = load(&dir);
        if trials.is_empty() {
            let msg = format!("family {name} loaded zero cases from {}", dir.display());
            all.push(Trial::test(format!("{name}::loaded_cases"), move || {
                Err(msg.into())
            }));
        }
        all.extend(trials);
    }
    libtest_mimic::run(&args, all).exit();
}
