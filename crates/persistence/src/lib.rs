//! workplan-persistence: stores the plan and its progress with SeaORM, on SQLite or PostgreSQL,
//! and implements the domain's ports ([`workplan_domain::ports`]).
//!
//! Owns the entities, the queries and the classification of database errors. Nothing here is
//! visible to the API but domain types.
//!
//! Rooms: `store.rs` (the [`SeaStore`]: pool, migrations, write transactions, health, keeping the
//! caches fresh), `live_plan.rs` (the plan in memory, served to every plan read),
//! `live_tokens.rs` (the token table in memory), `live_facts.rs` (the report facts
//! supervision reads, in memory), `notify.rs` (the notifier: LISTEN/NOTIFY or
//! in-process), `leadership.rs` (which replica runs the due-date timer), `due_dates.rs` (the
//! record of due-date events), `plan.rs` (the plan's SQL reads, which load the snapshot), `reports.rs` (report reads, history, change feed), `write.rs` (the one report write
//! path, with `write/idempotency.rs` and `write/sync.rs`), `tokens.rs`, `webhooks.rs` (webhook endpoints, deliveries and their claims), `periods.rs` (the reporting calendar), `supervision.rs` (what
//! supervision reads of the reports, and the adjustments), `adjustments.rs` (exemptions and
//! extensions), `load.rs` (seed and demo loading), `convert.rs` (rows ↔ domain values),
//! `entities.rs` (the rows), `paging.rs` (keyset pages), `batch.rs` (statements over a batch of
//! keys whose text does not grow with the batch) and `error.rs` (database errors → domain
//! errors).

mod adjustments;
mod batch;
mod convert;
mod db_spans;
mod due_dates;
mod entities;
mod error;
mod leadership;
mod live_facts;
mod live_plan;
mod live_tokens;
mod load;
mod notify;
mod paging;
mod periods;
mod plan;
mod preparation;
mod reports;
mod store;
mod supervision;
mod task_order;
mod tokens;
mod transaction;
mod webhooks;
mod write;

pub use leadership::{PgLeadership, SoloLeadership, TIMER_LOCK};
pub use load::LoadOutcome;
pub use notify::{CHANNEL, LocalNotifier, PgNotifier};
pub use plan::SqlPlan;
pub use preparation::PreparationLock;
pub use store::{SeaStore, StoreOptions};
