//! The GraphQL types, one file per area: each area's objects, inputs, and its part of the query
//! and mutation roots, which [`crate::schema`] merges. Output types are thin adapters over
//! domain values; inputs convert into domain queries or commands, naming the field when it is
//! wrong.

pub(crate) mod adjustment;
pub(crate) mod agency;
pub(crate) mod changes;
pub(crate) mod edit;
pub(crate) mod export;
pub(crate) mod history;
pub(crate) mod node;
pub(crate) mod obligation;
pub(crate) mod official;
pub(crate) mod period;
pub(crate) mod plan;
pub(crate) mod progress;
pub(crate) mod province;
pub(crate) mod report;
pub(crate) mod report_filter;
pub(crate) mod review;
pub(crate) mod rollup;
pub(crate) mod scorecard;
pub(crate) mod subscription;
pub(crate) mod sync;
pub(crate) mod task;
pub(crate) mod token;
pub(crate) mod viewer;
