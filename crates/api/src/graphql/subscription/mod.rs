//! The subscription roots, one file per area: each area's part of the subscription root,
//! which [`crate::schema`] merges. Every stream follows the change feed through the replica's
//! feed follower (`crate::feed_follower`), with the permission rules of the queries.

pub(crate) mod feed;
