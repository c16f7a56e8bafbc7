//! Rotating a webhook's signing secret without dropping deliveries: the secret it replaced
//! (`previous_secret`) is kept until `previous_secret_until`, and every delivery sent before
//! then carries a signature under each (the Standard Webhooks header holds several), so a
//! receiver can switch secrets at its own pace. Both are null when no rotation is under way.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    PreviousSecret,
    PreviousSecretUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        m.alter_table(
            Table::alter()
                .table(WebhookEndpoints::Table)
                .add_column(string_len_null(WebhookEndpoints::PreviousSecret, 100))
                .take(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(WebhookEndpoints::Table)
                .add_column(timestamp_with_time_zone_null(WebhookEndpoints::PreviousSecretUntil))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(WebhookEndpoints::Table).drop_column(WebhookEndpoints::PreviousSecretUntil).take(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(WebhookEndpoints::Table).drop_column(WebhookEndpoints::PreviousSecret).take(),
        )
        .await
    }
}
