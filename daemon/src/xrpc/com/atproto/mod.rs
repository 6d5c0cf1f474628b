//! `com.atproto.*` handlers, one file per NSID under server/, repo/, sync/, identity/.

pub mod identity;
pub mod repo;
pub mod server;
pub mod sync;
