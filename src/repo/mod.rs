//! The repository: MST, signed v3 commits, write batches, diffs, proofs, CAR export and
//! whole-repo verification.
//!
//! - [`mst`]: the Merkle Search Tree (keys `collection/rkey` -> record CIDs)
//! - [`commit`]: v3 commits: build, sign, decode strictly, verify; revs
//! - [`writes`]: [`apply_writes`] (one signed commit per batch) and first commits
//! - [`export`]: a repository as a CAR stream (commit, then nodes in pre-order with each
//!   record after its entry), and the `getRecord` proof CAR
//! - [`verify`]: check a whole repository CAR against a DID and key, or a record proof
//!
//! The daemon's write path is one call: [`apply_writes`] reads the tree at `head.data`
//! through any [`crate::store::BlockSource`], and returns a [`CommitOutcome`] whose
//! `new_blocks` it stores, whose `removed_cids` it may drop (record CIDs only after
//! checking no other key still holds them), whose `ops` and `firehose_blocks` make the
//! `#commit` event, and whose [`CommitOutcome::head`] becomes the new head.
//!
//! The library never stores anything itself: callers get the new blocks and decide.

pub mod commit;
pub mod export;
pub mod mst;
pub mod verify;
pub mod writes;

pub use commit::{Commit, CommitError, SignedCommit, UnsignedCommit};
pub use export::{export_car, export_car_bytes, record_proof_car};
pub use mst::{BlockMap, Direction, Mst, MstDiff, MstError};
pub use verify::{
    VerifiedRepo, VerifyError, VerifyOptions, verify_car, verify_car_file, verify_record_proof,
};
pub use writes::{
    Action, CommitOutcome, RepoHead, RepoOp, Write, WriteError, apply_writes, create_repo,
    rebuild_repo,
};
