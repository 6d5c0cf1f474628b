//! `cargo test --test e2e`: end-to-end tests that run the real `pdsd` and `pdsctl`
//! binaries (built by `cargo test --workspace`) on free loopback ports with temporary
//! data folders, and check them from outside with HTTP, WebSockets and the `pds` library.

mod ctl;
mod device;
mod device_support;
mod durability;
mod firehose;
mod handles;
mod identity;
mod migrate;
mod pdsctl;
mod recovery;
mod repo;
mod server;
mod support;
mod sync;
mod transfer;
