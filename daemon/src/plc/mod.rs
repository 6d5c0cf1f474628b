//! PLC directories: a client for any directory, and the built-in one `--dev` runs.
//!
//! - [`client`]: HTTP client (submit operations, read documents and logs)
//! - [`directory`]: the built-in directory (dev), validating every operation with `pds::identity`

pub mod client;
pub mod directory;
