//! The change feed without a write lock: every feed row records the transaction that wrote it
//! (`txid`), and the feed is read in `(txid, id)` order, only up to the oldest transaction
//! still running. Writers no longer take turns to keep ids in commit order.
//!
//! On PostgreSQL the column defaults to the writing transaction's id
//! (`pg_current_xact_id()`, an `xid8`, cast through text to `bigint`), so every writer gets it
//! without naming it — an older replica still running during a rolling upgrade too. Rows
//! written before this migration keep 0: they were written in commit order, one writer at a
//! time, so `(0, id)` orders them as they were delivered, and before every newer row (real
//! transaction ids start at 3). SQLite has one writer at a time, so its rows keep 0 and the
//! feed there is ordered by id, as before.

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ReportChanges {
    Table,
    Id,
    Txid,
}

/// The feed's order, and the cursor's key.
const IX_FEED_ORDER: &str = "ix_report_changes_txid_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A constant default first: existing rows get 0 without a table rewrite.
        m.alter_table(
            Table::alter().table(ReportChanges::Table).add_column(big_integer(ReportChanges::Txid).default(0)).take(),
        )
        .await?;
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(
                    "ALTER TABLE report_changes ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint)",
                )
                .await?;
        }
        m.create_index(
            Index::create()
                .name(IX_FEED_ORDER)
                .table(ReportChanges::Table)
                .col(ReportChanges::Txid)
                .col(ReportChanges::Id)
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(IX_FEED_ORDER).table(ReportChanges::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(ReportChanges::Table).drop_column(ReportChanges::Txid).take()).await
    }

    /// The column, its default and its index come and go together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
