//! `cargo run --example verify_repo -- FILE.car DID_KEY [DID]`: verify a whole
//! repository CAR with the library and print a summary.
//!
//! Exits 0 when every check passes, 1 with a one-line reason when one fails, 2 on
//! bad usage. It only reads the file named on the command line.

use pds::crypto::PublicKey;
use pds::repo::{VerifyOptions, verify_car};
use std::collections::BTreeSet;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, did_key, did) = match args.as_slice() {
        [p, k] => (p, k, None),
        [p, k, d] => (p, k, Some(d.as_str())),
        _ => {
            eprintln!("usage: verify_repo FILE.car DID_KEY [DID]");
            return ExitCode::from(2);
        }
    };
    match run(path, did_key, did) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("verify_repo: {path}: FAILED: {msg}");
            ExitCode::from(1)
        }
    }
}

fn run(path: &str, did_key: &str, did: Option<&str>) -> Result<(), String> {
    let key = PublicKey::from_did_key(did_key).map_err(|e| format!("signing key: {e}"))?;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut opts = VerifyOptions::new(&key);
    opts.did = did;
    let repo = verify_car(std::io::BufReader::new(file), &opts).map_err(|e| e.to_string())?;
    let collections: BTreeSet<&str> = repo
        .records
        .iter()
        .filter_map(|(k, _)| k.split_once('/').map(|(c, _)| c))
        .collect();
    println!("OK {path}");
    println!("  did:         {}", repo.commit.did);
    println!("  commit:      {}", repo.commit_cid);
    println!("  rev:         {}", repo.commit.rev);
    println!("  data:        {}", repo.commit.data);
    println!("  records:     {}", repo.records.len());
    println!(
        "  collections: {}",
        collections.into_iter().collect::<Vec<_>>().join(", ")
    );
    println!("  mst nodes:   {}", repo.node_count);
    println!("  blocks:      {}", repo.block_count);
    println!("  stray:       {}", repo.stray_blocks.len());
    Ok(())
}
