//! The firehose: the durable sequencer and the live fan-out behind
//! `com.atproto.sync.subscribeRepos`.
//!
//! - [`events`]: the event bodies (#commit, #identity, #account, #sync, #info) and frames
//! - [`sequencer`]: appending an event inside the same transaction as the change it reports
//! - [`hub`]: live fan-out to subscribers; replay from the database for cursors
//!
//! Writers never wait for subscribers: each subscriber has a bounded queue, and one that
//! falls behind is dropped with `ConsumerTooSlow`.

pub mod events;
pub mod hub;
pub mod sequencer;

pub use hub::Firehose;
