//! The newest *officially accepted* reports of each task — a task's `latestReport` and
//! `latestAcceptedReport` as an anonymous reader sees them, the dashboard's one statement —
//! read from an index that holds only those reports.
//!
//! `ix_reports_task_submission` holds every report, so each task's page walked it backwards
//! past the reports an anonymous reader may not see: 7 a task at 200,000 reports against 4 at
//! 20,000, and 1,226 buffers a dashboard against 837. This partial index has the same key,
//! `(task_id, COALESCE(submitted_at, created_at), id)`, over the reports that count as
//! accepted (ACCEPTED, or reopened with an accepted version and not withdrawn): each page is
//! then its first rows, whatever the data's size.
//!
//! A database uses a partial index only where it can prove the query's condition implies the
//! index's, which it does from literals: the statements write these states as literals, not
//! bound parameters (`officially_accepted` in persistence/src/reports.rs), in exactly this
//! form. Raw SQL, the same text on SQLite and PostgreSQL (the schema builder has no expression
//! columns nor partial indexes).

use sea_orm_migration::prelude::*;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// The index this migration adds.
const IX_TASK_OFFICIAL: &str = "ix_reports_task_official";

#[derive(DeriveIden)]
enum ProgressReports {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!(
            "CREATE INDEX {IX_TASK_OFFICIAL} ON progress_reports \
             (task_id, (COALESCE(submitted_at, created_at)), id) \
             WHERE state = 'ACCEPTED' OR (accepted_content IS NOT NULL AND state <> 'WITHDRAWN')"
        );
        m.get_connection().execute_unprepared(&sql).await.map(|_| ())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(IX_TASK_OFFICIAL).table(ProgressReports::Table).to_owned()).await
    }
}
