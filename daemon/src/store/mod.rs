//! Storage adapters of pdsd. SQLite ([`sqlite`]) is the embedded default; each sibling
//! module holds the queries of one area, and nothing outside `store/` writes SQL.
//!
//! - [`sqlite`]: the database handle, group-committing writer thread and reader pool
//! - [`schema`]: migrations
//! - [`accounts`], [`repo`], [`blobs`], [`sessions`], [`invites`]: queries by area

pub mod schema;
pub mod sqlite;

pub use sqlite::{Db, DbError, WriteTx};
