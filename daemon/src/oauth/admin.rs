//! What `pdsctl oauth list|revoke` needs from the daemon: the apps an account has
//! authorized (with their live sessions), and revoking one app (every session it has)
//! or one session by id. The admin socket handlers call these; they do no I/O of their
//! own besides the database and never print tokens (only session ids, which grant
//! nothing by themselves).

use super::store;
pub use super::store::Authorization;
use crate::store::{Db, DbError};

/// The apps `did` has authorized that still hold a live session, most recent first.
pub async fn list_authorizations(db: &Db, did: &str) -> Result<Vec<Authorization>, DbError> {
    store::list_authorizations(db, did.to_string(), crate::auth::jwt::now_secs()).await
}

/// Revoke an app's access for `did`: `target` is a `client_id` (every session of that
/// app) or a session id from [`list_authorizations`]. Returns how many sessions ended
/// (0 when nothing matched).
pub async fn revoke_authorization(db: &Db, did: &str, target: &str) -> Result<usize, DbError> {
    store::revoke_authorization(db, did.to_string(), target.to_string()).await
}
