//! workplan-persistence: stores the plan and its progress with SeaORM, on SQLite or PostgreSQL,
//! and implements the domain's ports ([`workplan_domain::ports`]).
//!
//! Owns the entities, the queries and the classification of database errors. Nothing here is
//! visible to the API but domain types.

mod convert;
mod entities;
mod error;
mod load;
mod paging;
mod plan;
mod reports;
mod store;
mod tokens;
mod write;

pub use load::LoadOutcome;
pub use store::{SeaStore, StoreOptions};
