//! The built-in PLC directory of `--dev` (placeholder until pds::identity lands).

use crate::store::Db;
use axum::Router;

/// The directory's routes.
pub fn router(db: Db) -> Router {
    let _ = db;
    Router::new()
}
