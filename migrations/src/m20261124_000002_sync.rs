//! Sync: API tokens, the report lifecycle (state, client ids, review), audit history, the change
//! feed and idempotency keys.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Id,
    Name,
    Role,
    AgencyId,
    ProvinceId,
    SecretHash,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum ProgressReports {
    Table,
    State,
    ClientReportId,
    ReviewComment,
    UpdatedAt,
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
    Id,
    ReportId,
    Kind,
    Version,
    State,
    AgencyId,
    ProvinceId,
    Actor,
    At,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Id,
    Actor,
    Key,
    Fingerprint,
    ReportId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Agencies {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Provinces {
    Table,
    Id,
}

fn index(name: &str, table: impl IntoIden, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    stmt.take()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ApiTokens::Table)
                .col(big_pk_auto(ApiTokens::Id))
                .col(string_uniq(ApiTokens::Name))
                .col(string_len(ApiTokens::Role, 32))
                .col(big_integer_null(ApiTokens::AgencyId))
                .col(big_integer_null(ApiTokens::ProvinceId))
                .col(string_len_uniq(ApiTokens::SecretHash, 64))
                .col(timestamp_with_time_zone(ApiTokens::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiTokens::RevokedAt))
                .col(timestamp_with_time_zone_null(ApiTokens::LastUsedAt))
                .foreign_key(
                    ForeignKey::create().from(ApiTokens::Table, ApiTokens::AgencyId).to(Agencies::Table, Agencies::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiTokens::Table, ApiTokens::ProvinceId)
                        .to(Provinces::Table, Provinces::Id),
                )
                .take(),
        )
        .await?;

        // SQLite adds one column per statement.
        for column in [
            string_len(ProgressReports::State, 16).default("SUBMITTED").take(),
            string_len_null(ProgressReports::ClientReportId, 255).take(),
            text_null(ProgressReports::ReviewComment).take(),
            timestamp_with_time_zone_null(ProgressReports::UpdatedAt).take(),
        ] {
            m.alter_table(Table::alter().table(ProgressReports::Table).add_column(column).take()).await?;
        }
        // One report per (reporter, client id). NULLs are distinct, so each index binds only
        // the reports of its own kind of reporter.
        m.create_index(index(
            "ux_reports_agency_client",
            ProgressReports::Table,
            &["agency_id", "client_report_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ux_reports_province_client",
            ProgressReports::Table,
            &["province_id", "client_report_id"],
            true,
        ))
        .await?;
        m.create_index(index("ix_reports_state_id", ProgressReports::Table, &["state", "id"], false)).await?;

        m.create_table(
            Table::create()
                .table(ReportHistory::Table)
                .col(big_pk_auto(ReportHistory::Id))
                .col(big_integer(ReportHistory::ReportId))
                .col(integer(ReportHistory::Version))
                .col(string_len(ReportHistory::Action, 32))
                .col(string(ReportHistory::Actor))
                .col(timestamp_with_time_zone(ReportHistory::At))
                .col(text(ReportHistory::Changes))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReportHistory::Table, ReportHistory::ReportId)
                        .to(ProgressReports::Table, Alias::new("id")),
                )
                .take(),
        )
        .await?;
        m.create_index(index("ix_report_history_report", ReportHistory::Table, &["report_id", "id"], false)).await?;

        m.create_table(
            Table::create()
                .table(ReportChanges::Table)
                .col(big_pk_auto(ReportChanges::Id))
                .col(big_integer(ReportChanges::ReportId))
                .col(string_len(ReportChanges::Kind, 32))
                .col(integer(ReportChanges::Version))
                .col(string_len(ReportChanges::State, 16))
                .col(big_integer_null(ReportChanges::AgencyId))
                .col(big_integer_null(ReportChanges::ProvinceId))
                .col(string(ReportChanges::Actor))
                .col(timestamp_with_time_zone(ReportChanges::At))
                .take(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(big_pk_auto(IdempotencyKeys::Id))
                .col(string(IdempotencyKeys::Actor))
                .col(string_len(IdempotencyKeys::Key, 255))
                .col(string_len(IdempotencyKeys::Fingerprint, 64))
                .col(big_integer(IdempotencyKeys::ReportId))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .take(),
        )
        .await?;
        m.create_index(index("ux_idempotency_actor_key", IdempotencyKeys::Table, &["actor", "key"], true)).await?;
        Ok(())
    }
}
