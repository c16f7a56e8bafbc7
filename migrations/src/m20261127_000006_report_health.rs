//! Report health: a report may say how the work is going (`health`: ON_TRACK, AT_RISK or
//! OFF_TRACK) and what stands in the way (`obstacles`). Both are optional, so existing rows
//! need no backfill; their accepted snapshots (`accepted_content`) read as saying neither.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProgressReports {
    Table,
    Health,
    Obstacles,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in
            [string_len_null(ProgressReports::Health, 16).take(), text_null(ProgressReports::Obstacles).take()]
        {
            m.alter_table(Table::alter().table(ProgressReports::Table).add_column(column).take()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [ProgressReports::Obstacles, ProgressReports::Health] {
            m.alter_table(Table::alter().table(ProgressReports::Table).drop_column(column).take()).await?;
        }
        Ok(())
    }

    /// Both columns come and go together, on SQLite as on PostgreSQL.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
