//! The firehose: the durable sequencer and the live fan-out behind
//! `com.atproto.sync.subscribeRepos`, and the requestCrawl announcements to relays.
//!
//! - [`events`]: the event bodies (#commit, #identity, #account, #sync, #info) and frames
//! - [`sequencer`]: appending an event inside the same transaction as the change it reports
//! - [`hub`]: live fan-out to subscribers; replay from the database for cursors; the
//!   backfill window (pruning)
//! - [`wire`]: the WebSocket framing (events are framed once, for every subscriber)
//! - [`crawl`]: requestCrawl to the configured relays, and what they answered
//!
//! Writers never wait for subscribers: frames go into one shared bounded ring, and a
//! subscriber that falls behind it is dropped with `ConsumerTooSlow`.

pub mod crawl;
pub mod events;
pub mod hub;
pub mod sequencer;
pub mod wire;

pub use hub::Firehose;

/// How often events older than the backfill window are deleted. The window is thus kept
/// to within this much: an event may be replayable a little longer than `backfill_hours`.
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);
