//! workplan-migration: the database schema, as an ordered list of migrations that run the same
//! on SQLite and PostgreSQL.
//!
//! Migrations are frozen code: they name tables and columns with their own identifiers and
//! never import entities, and they hold no seed data (the plan is loaded by the application).

#![expect(
    elided_lifetimes_in_paths,
    reason = "`MigrationTrait` is an async_trait whose `&SchemaManager` cannot be written `<'_>` (the lifetime would become early-bound)"
)]

pub use sea_orm_migration::prelude::*;

pub mod m20261124_000001_plan;
pub mod m20261124_000002_sync;
pub mod m20261126_000003_report_integrity;
pub mod m20261126_000004_reporting_periods;
pub mod m20261127_000005_supervision;
pub mod m20261127_000006_report_health;
pub mod m20261128_000007_report_submission_order;
pub mod m20261129_000008_feed_xid;
pub mod m20261130_000009_obligation_events;
pub mod m20261130_000010_webhooks;
pub mod m20261201_000011_webhook_secret_rotation;
pub mod m20261201_000012_official_reports_index;

/// Runs the workplan migrations.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_plan::Migration),
            Box::new(m20261124_000002_sync::Migration),
            Box::new(m20261126_000003_report_integrity::Migration),
            Box::new(m20261126_000004_reporting_periods::Migration),
            Box::new(m20261127_000005_supervision::Migration),
            Box::new(m20261127_000006_report_health::Migration),
            Box::new(m20261128_000007_report_submission_order::Migration),
            Box::new(m20261129_000008_feed_xid::Migration),
            Box::new(m20261130_000009_obligation_events::Migration),
            Box::new(m20261130_000010_webhooks::Migration),
            Box::new(m20261201_000011_webhook_secret_rotation::Migration),
            Box::new(m20261201_000012_official_reports_index::Migration),
        ]
    }
}
