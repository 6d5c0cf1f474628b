//! `/v1/relay`: the account's relay signing keys, the operating mode, the repo snapshot,
//! desktop commit signing and the firehose proxy. One file per endpoint group.

pub mod commits;
pub mod firehose;
pub mod keys;
pub mod mode;
pub mod snapshot;

use super::route::Route;

/// Every /v1/relay endpoint.
pub fn routes() -> Vec<Route> {
    vec![
        keys::create_route(),
        keys::list_route(),
        keys::revoke_route(),
        mode::route(),
        snapshot::route(),
        commits::route(),
        firehose::route(),
    ]
}
