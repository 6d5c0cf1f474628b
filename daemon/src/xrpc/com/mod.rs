//! `com.*` XRPC namespaces.

pub mod atproto;
