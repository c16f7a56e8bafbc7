//! Report integrity: the creation time gets its own column, `submitted_at` becomes the time of
//! the last submission (and `first_submitted_at` of the first, for timeliness), reports get a
//! `kind` (PART or CONSOLIDATED) and a snapshot of their last accepted content, and the database
//! keeps at most one live (not withdrawn) report per reporter, task, period and kind.
//!
//! Existing rows are migrated from the audit history, and existing duplicates are withdrawn
//! (with a history entry and a change-feed row) before the unique indexes are built.

use chrono::Utc;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

mod backfill;
mod duplicates;
mod rows;

/// The actor recorded for the writes this migration makes.
const ACTOR: &str = "system (migration)";

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ProgressReports {
    Table,
    Id,
    TaskId,
    AgencyId,
    ProvinceId,
    Period,
    Status,
    PercentComplete,
    Summary,
    EvidenceUrls,
    SubmittedAt,
    FirstSubmittedAt,
    CreatedAt,
    Version,
    State,
    UpdatedAt,
    Kind,
    AcceptedContent,
}

#[derive(DeriveIden)]
enum ReportHistory {
    Table,
    Id,
    ReportId,
    Version,
    Action,
    Actor,
    At,
    Changes,
}

#[derive(DeriveIden)]
enum ReportChanges {
    Table,
    ReportId,
    Kind,
    Version,
    State,
    AgencyId,
    ProvinceId,
    Actor,
    At,
}

/// One live report per agency and key (agency reports have no province).
const UX_LIVE_AGENCY: &str = "ux_reports_live_agency";
/// One live report per province and key (province reports have no agency).
const UX_LIVE_PROVINCE: &str = "ux_reports_live_province";
/// "The latest report of a task" reads (task_id, submitted_at, id) backwards.
const IX_TASK_SUBMITTED: &str = "ix_reports_task_submitted";

fn live_index(name: &str, reporter: ProgressReports) -> IndexCreateStatement {
    Index::create()
        .name(name)
        .table(ProgressReports::Table)
        .col(reporter)
        .col(ProgressReports::TaskId)
        .col(ProgressReports::Period)
        .col(ProgressReports::Kind)
        .unique()
        .and_where(Expr::col(reporter).is_not_null())
        .and_where(Expr::col(ProgressReports::State).ne("WITHDRAWN"))
        .take()
}

impl Migration {
    async fn alter_columns(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        // Until now `submitted_at` held the creation time.
        m.alter_table(
            Table::alter()
                .table(ProgressReports::Table)
                .rename_column(ProgressReports::SubmittedAt, ProgressReports::CreatedAt)
                .take(),
        )
        .await?;
        // SQLite adds one column per statement.
        for column in [
            timestamp_with_time_zone_null(ProgressReports::SubmittedAt).take(),
            timestamp_with_time_zone_null(ProgressReports::FirstSubmittedAt).take(),
            string_len(ProgressReports::Kind, 16).default("PART").take(),
            text_null(ProgressReports::AcceptedContent).take(),
        ] {
            m.alter_table(Table::alter().table(ProgressReports::Table).add_column(column).take()).await?;
        }
        Ok(())
    }

    /// Fills the new columns from the history and withdraws duplicates; returns (keys with
    /// duplicates, reports withdrawn).
    async fn migrate_rows(m: &SchemaManager<'_>) -> Result<(usize, usize), DbErr> {
        let db = m.get_connection();
        let reports = rows::reports(db).await?;
        let facts = rows::history_facts(db).await?;
        let found = duplicates::find(&reports);
        let withdrawn: std::collections::HashSet<i64> = found.withdrawals.iter().map(|w| w.id).collect();
        let fills = reports
            .iter()
            .map(|r| backfill::plan(r, facts.get(&r.id), withdrawn.contains(&r.id)))
            .collect::<Result<Vec<_>, DbErr>>()?;
        backfill::write(db, &fills).await?;
        duplicates::withdraw(db, &found.withdrawals, Utc::now()).await?;
        Ok((found.keys, found.withdrawals.len()))
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        Self::alter_columns(m).await?;
        let (keys, withdrawn) = Self::migrate_rows(m).await?;
        if withdrawn > 0 {
            tracing::warn!(
                keys_with_duplicates = keys,
                reports_withdrawn = withdrawn,
                "withdrew duplicate live reports (one kept per reporter, task, period and kind)"
            );
        } else {
            tracing::info!(keys_with_duplicates = keys, reports_withdrawn = withdrawn, "no duplicate live reports");
        }
        m.create_index(live_index(UX_LIVE_AGENCY, ProgressReports::AgencyId)).await?;
        m.create_index(live_index(UX_LIVE_PROVINCE, ProgressReports::ProvinceId)).await?;
        m.create_index(
            Index::create()
                .name(IX_TASK_SUBMITTED)
                .table(ProgressReports::Table)
                .col(ProgressReports::TaskId)
                .col(ProgressReports::SubmittedAt)
                .col(ProgressReports::Id)
                .take(),
        )
        .await?;
        Ok(())
    }

    /// Restores the previous schema. Data changes are not undone: withdrawn duplicates stay
    /// withdrawn (with their history and change-feed rows), since un-withdrawing them would
    /// bring the duplicates back and rewrite the audit trail; `submitted_at` gets back the
    /// creation time it held before.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for name in [IX_TASK_SUBMITTED, UX_LIVE_PROVINCE, UX_LIVE_AGENCY] {
            m.drop_index(Index::drop().name(name).table(ProgressReports::Table).to_owned()).await?;
        }
        for column in [
            ProgressReports::AcceptedContent,
            ProgressReports::Kind,
            ProgressReports::FirstSubmittedAt,
            ProgressReports::SubmittedAt,
        ] {
            m.alter_table(Table::alter().table(ProgressReports::Table).drop_column(column).take()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(ProgressReports::Table)
                .rename_column(ProgressReports::CreatedAt, ProgressReports::SubmittedAt)
                .take(),
        )
        .await?;
        Ok(())
    }

    /// Schema and data change together or not at all, on SQLite as on PostgreSQL.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_indexes_are_partial_on_both_databases() {
        let index = live_index(UX_LIVE_AGENCY, ProgressReports::AgencyId);
        let expected = r#"CREATE UNIQUE INDEX "ux_reports_live_agency" ON "progress_reports" ("agency_id", "task_id", "period", "kind") WHERE "agency_id" IS NOT NULL AND "state" <> 'WITHDRAWN'"#;
        assert_eq!(index.to_string(SqliteQueryBuilder), expected);
        assert_eq!(index.to_string(PostgresQueryBuilder), expected);
    }
}
