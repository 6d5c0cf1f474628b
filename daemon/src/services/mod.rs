//! Operations shared by the XRPC handlers and the admin socket: each is written once here
//! and called from both, so `pdsctl` and the public API cannot drift apart. Services use
//! the store for SQL and `pds` for protocol logic; they know nothing about HTTP.
//!
//! - [`invite`]: invite codes

pub mod invite;
