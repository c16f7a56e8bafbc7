//! Due-date events: what the cluster's timer recorded when an obligation became due soon or
//! overdue (`obligation_events`, one row per event: unique on kind, period, task, party and due
//! date, so two timers that overlap record it once), and the instant up to which the timer has
//! looked (`obligation_timer`, one row).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The migration.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ObligationEvents {
    Table,
    Id,
    Kind,
    Period,
    TaskId,
    PartyKind,
    PartyId,
    DueAt,
    RecordedAt,
}

#[derive(DeriveIden)]
enum ObligationTimer {
    Table,
    Id,
    RecordedUntil,
}

/// An event is recorded once: its whole key is unique.
const UX_EVENT: &str = "ux_obligation_events_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ObligationEvents as E;
        m.create_table(
            Table::create()
                .table(E::Table)
                .col(big_pk_auto(E::Id))
                .col(string_len(E::Kind, 16))
                .col(string_len(E::Period, 16))
                .col(big_integer(E::TaskId))
                .col(string_len(E::PartyKind, 16))
                .col(big_integer(E::PartyId))
                .col(timestamp_with_time_zone(E::DueAt))
                .col(timestamp_with_time_zone(E::RecordedAt))
                .check(("ck_obligation_events_kind", Expr::col(E::Kind).is_in(["DUE_SOON", "OVERDUE"])))
                .check(("ck_obligation_events_party_kind", Expr::col(E::PartyKind).is_in(["AGENCY", "PROVINCE"])))
                .take(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(UX_EVENT)
                .table(E::Table)
                .col(E::Kind)
                .col(E::Period)
                .col(E::TaskId)
                .col(E::PartyKind)
                .col(E::PartyId)
                .col(E::DueAt)
                .unique()
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ObligationTimer::Table)
                .col(integer(ObligationTimer::Id).primary_key())
                .col(timestamp_with_time_zone(ObligationTimer::RecordedUntil))
                .take(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ObligationTimer::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ObligationEvents::Table).to_owned()).await
    }

    /// The tables come and go together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
