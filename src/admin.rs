//! The admin-socket contract shared by pdsd (server) and pdsctl (client): paths,
//! request and response types, and the version header.
//!
//! Owns only the wire types; the daemon serves them and the CLI calls them.
