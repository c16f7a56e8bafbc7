//! The subscription roots, one file per area, merged in [`crate::schema`]: `feed.rs` follows
//! the change feed through the replica's feed follower (`crate::feed_follower`), `obligation.rs`
//! the reporting matrix and the due-date events through the replica's watchers
//! (`crate::watch`); every stream with the permission rules of the queries.

pub(crate) mod feed;
mod obligation;

pub(crate) use obligation::ObligationSubscription;
