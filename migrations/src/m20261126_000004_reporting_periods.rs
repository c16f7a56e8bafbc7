//! Reporting periods: the periods supervisors schedule, each with its due date, and their
//! history (who scheduled or rescheduled a period, when, and what changed).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportingPeriods {
    Table,
    Id,
    Period,
    StartsAt,
    EndsAt,
    DueAt,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum ReportingPeriodHistory {
    Table,
    Id,
    PeriodId,
    Version,
    Action,
    Actor,
    At,
    Changes,
}

/// Lists read periods by their start.
const IX_STARTS: &str = "ix_reporting_periods_starts";
/// A period's history is read by period, oldest first.
const IX_HISTORY: &str = "ix_reporting_period_history_period";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReportingPeriods::Table)
                .col(big_pk_auto(ReportingPeriods::Id))
                .col(string_len_uniq(ReportingPeriods::Period, 16))
                .col(timestamp_with_time_zone(ReportingPeriods::StartsAt))
                .col(timestamp_with_time_zone(ReportingPeriods::EndsAt))
                .col(timestamp_with_time_zone(ReportingPeriods::DueAt))
                .col(timestamp_with_time_zone(ReportingPeriods::CreatedAt))
                .col(timestamp_with_time_zone(ReportingPeriods::UpdatedAt))
                .col(integer(ReportingPeriods::Version))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(IX_STARTS)
                .table(ReportingPeriods::Table)
                .col(ReportingPeriods::StartsAt)
                .col(ReportingPeriods::Id)
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ReportingPeriodHistory::Table)
                .col(big_pk_auto(ReportingPeriodHistory::Id))
                .col(big_integer(ReportingPeriodHistory::PeriodId))
                .col(integer(ReportingPeriodHistory::Version))
                .col(string_len(ReportingPeriodHistory::Action, 32))
                .col(string(ReportingPeriodHistory::Actor))
                .col(timestamp_with_time_zone(ReportingPeriodHistory::At))
                .col(text(ReportingPeriodHistory::Changes))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReportingPeriodHistory::Table, ReportingPeriodHistory::PeriodId)
                        .to(ReportingPeriods::Table, ReportingPeriods::Id),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(IX_HISTORY)
                .table(ReportingPeriodHistory::Table)
                .col(ReportingPeriodHistory::PeriodId)
                .col(ReportingPeriodHistory::Id)
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReportingPeriodHistory::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ReportingPeriods::Table).to_owned()).await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
