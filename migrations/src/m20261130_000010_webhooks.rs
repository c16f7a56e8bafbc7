//! Webhooks: endpoints that provincial systems register to be told of changes they may read,
//! and the deliveries to them.
//!
//! - `webhook_endpoints`: the URL, the change kinds wanted (comma-separated), the token whose
//!   read rights bound what the endpoint receives, the signing secret (kept, since every
//!   delivery is signed with it; shown to the caller once), when it was created and disabled,
//!   and its cursor in the change feed (`cursor_txn`, `cursor_id`: the last change looked at).
//! - `webhook_deliveries`: one row per endpoint and change (unique, so enqueuing twice is a
//!   no-op), with the payload as sent, its status (PENDING, DELIVERED, FAILED), attempts, when
//!   the next attempt is due, and the last error and status code. The due index serves the
//!   replicas' claims (`FOR UPDATE SKIP LOCKED` on PostgreSQL).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    Url,
    Kinds,
    TokenId,
    Secret,
    CreatedAt,
    DisabledAt,
    CursorTxn,
    CursorId,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    EndpointId,
    MessageId,
    ChangeId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    LastStatusCode,
    CreatedAt,
    UpdatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
}

const UQ_DELIVERY_CHANGE: &str = "uq_webhook_deliveries_endpoint_change";
const IX_DELIVERY_DUE: &str = "ix_webhook_deliveries_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(big_pk_auto(WebhookEndpoints::Id))
                .col(text(WebhookEndpoints::Url))
                .col(string_len(WebhookEndpoints::Kinds, 200))
                .col(big_integer(WebhookEndpoints::TokenId))
                .col(string_len(WebhookEndpoints::Secret, 100))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone_null(WebhookEndpoints::DisabledAt))
                .col(big_integer(WebhookEndpoints::CursorTxn).default(0))
                .col(big_integer(WebhookEndpoints::CursorId).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookEndpoints::Table, WebhookEndpoints::TokenId)
                        .to(ApiTokens::Table, ApiTokens::Id),
                )
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(big_pk_auto(WebhookDeliveries::Id))
                .col(big_integer(WebhookDeliveries::EndpointId))
                .col(string_len_uniq(WebhookDeliveries::MessageId, 64))
                .col(big_integer(WebhookDeliveries::ChangeId))
                .col(text(WebhookDeliveries::Payload))
                .col(string_len(WebhookDeliveries::Status, 16))
                .col(integer(WebhookDeliveries::Attempts).default(0))
                .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                .col(text_null(WebhookDeliveries::LastError))
                .col(integer_null(WebhookDeliveries::LastStatusCode))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone(WebhookDeliveries::UpdatedAt))
                .col(timestamp_with_time_zone_null(WebhookDeliveries::DeliveredAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                        .to(WebhookEndpoints::Table, WebhookEndpoints::Id),
                )
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(UQ_DELIVERY_CHANGE)
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::ChangeId)
                .unique()
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(IX_DELIVERY_DUE)
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .take(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).take()).await?;
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).take()).await
    }

    /// Both tables come and go together, on SQLite as on PostgreSQL.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
