//! The GraphQL types, one file per area: each area's objects, inputs, and its part of the query
//! and mutation roots, which [`crate::schema`] merges. Output types are thin adapters over
//! domain values; inputs convert into domain queries or commands, naming the field when it is
//! wrong.

pub mod agency;
pub mod changes;
pub mod edit;
pub mod history;
pub mod node;
pub mod official;
pub mod period;
pub mod plan;
pub mod province;
pub mod report;
pub mod report_filter;
pub mod review;
pub mod sync;
pub mod task;
pub mod token;
pub mod viewer;
