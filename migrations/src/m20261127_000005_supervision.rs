//! Supervision: what the reporting matrix, derived progress, rollups and scorecards read of a
//! report without reading its text, and the supervisors' exemptions and extensions.
//!
//! - `progress_reports` gains denormalised columns: the instants its period starts and ends
//!   (`period_starts_at`, `period_ends_at`: midnight in China Standard Time), whether it was
//!   ever returned (`ever_returned`), and the status, percent and health of its accepted
//!   version (`accepted_status`, `accepted_percent`, `accepted_health`, from
//!   `accepted_content`). Existing rows are backfilled (see `backfill`).
//! - Three indexes serve the supervision reads: a period's PART reports (covering what the
//!   obligation rules read), the latest accepted report per task, reporter and kind, and the
//!   same over agencies' reports only (covering what the progress rules read), which derived
//!   progress and the rollups of sections, subsections and agencies read.
//! - `obligation_adjustments` holds exemptions and extensions; they are never deleted, only
//!   revoked (who, when, why).

use sea_orm::{ConnectionTrait, DatabaseBackend};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

mod backfill;

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
    Kind,
    State,
    FirstSubmittedAt,
    AcceptedContent,
    PeriodStartsAt,
    PeriodEndsAt,
    EverReturned,
    AcceptedStatus,
    AcceptedPercent,
    AcceptedHealth,
}

#[derive(DeriveIden)]
enum ReportHistory {
    Table,
    ReportId,
    Action,
}

#[derive(DeriveIden)]
enum ObligationAdjustments {
    Table,
    Id,
    Kind,
    Period,
    TaskId,
    AgencyId,
    ProvinceId,
    DueAt,
    Reason,
    Actor,
    At,
    RevokedAt,
    RevokedBy,
    RevokeReason,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
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

/// The live PART reports of some periods: `period IN (…) AND kind = 'PART'`, by id.
const IX_PERIOD_KIND: &str = "ix_reports_period_kind";
/// The latest accepted report per task, reporter and kind: the window's partition, then its
/// order, over the reports that have an accepted version.
const IX_ACCEPTED_LATEST: &str = "ix_reports_accepted_latest";
/// The same over agencies' reports only, with the columns the progress rules read.
const IX_ACCEPTED_AGENCY_LATEST: &str = "ix_reports_accepted_agency_latest";

// The two covering indexes list the columns a read needs after the ones it seeks and sorts by,
// as trailing key columns rather than PostgreSQL's INCLUDE, which SQLite lacks (sea-query
// leaves it out there): after the unique `id` they change no order, and both databases can
// answer from the index alone. With 200 000 reports on PostgreSQL this took the accepted-parts
// window from about 60–140 ms (a bitmap scan visiting nearly every page of the table) to
// 4–11 ms (an index-only scan), and a period's report facts from 12 ms to 1 ms (BENCHMARKS.md).

/// A period's PART reports, by id, with every column `report_facts` reads.
fn period_kind_index() -> IndexCreateStatement {
    use ProgressReports as P;
    let mut index = Index::create();
    index.name(IX_PERIOD_KIND).table(P::Table);
    for column in [
        P::Period,
        P::Kind,
        P::Id,
        P::TaskId,
        P::AgencyId,
        P::ProvinceId,
        P::State,
        P::FirstSubmittedAt,
        P::AcceptedStatus,
        P::EverReturned,
    ] {
        index.col(column);
    }
    index.take()
}

/// Agencies' accepted reports, ordered like the window of `accepted_parts`, with every column
/// it reads.
fn accepted_agency_latest_index() -> IndexCreateStatement {
    use ProgressReports as P;
    let mut index = accepted_latest_index();
    index.name(IX_ACCEPTED_AGENCY_LATEST);
    for column in [P::State, P::Period, P::AcceptedStatus, P::AcceptedPercent, P::AcceptedHealth] {
        index.col(column);
    }
    index.and_where(Expr::col(P::AgencyId).is_not_null()).take()
}
/// The adjustments of some periods (or of every period: `period IS NULL`).
const IX_ADJUSTMENTS_PERIOD: &str = "ix_obligation_adjustments_period";

fn accepted_latest_index() -> IndexCreateStatement {
    use ProgressReports as P;
    Index::create()
        .name(IX_ACCEPTED_LATEST)
        .table(P::Table)
        .col(P::TaskId)
        .col(P::AgencyId)
        .col(P::ProvinceId)
        .col(P::Kind)
        .col((P::PeriodEndsAt, IndexOrder::Desc))
        .col((P::PeriodStartsAt, IndexOrder::Desc))
        .col((P::Id, IndexOrder::Desc))
        .and_where(Expr::col(P::AcceptedStatus).is_not_null())
        .take()
}

/// What an adjustment may be: an exemption (of one period, or of every period when `period`
/// is NULL) without a due date, or an extension of one period with its new due date.
fn adjustment_kinds() -> SimpleExpr {
    use ObligationAdjustments as A;
    let exempt = Expr::col(A::Kind).eq("EXEMPT").and(Expr::col(A::DueAt).is_null());
    let extend =
        Expr::col(A::Kind).eq("EXTEND").and(Expr::col(A::DueAt).is_not_null()).and(Expr::col(A::Period).is_not_null());
    exempt.or(extend)
}

/// Exactly one party: an agency or a province.
fn one_party() -> SimpleExpr {
    use ObligationAdjustments as A;
    let agency = Expr::col(A::AgencyId).is_not_null().and(Expr::col(A::ProvinceId).is_null());
    let province = Expr::col(A::AgencyId).is_null().and(Expr::col(A::ProvinceId).is_not_null());
    agency.or(province)
}

fn fk(column: ObligationAdjustments, table: impl IntoIden, id: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(ObligationAdjustments::Table, column).to(table, id).take()
}

impl Migration {
    async fn add_report_columns(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        use ProgressReports as P;
        // A NOT NULL column added to existing rows needs a default. SQLite cannot drop it
        // afterwards: there the epoch stays as the default of the period bounds, which every
        // writer sets (persistence's `convert.rs`); PostgreSQL drops it after the backfill.
        let unset = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        // SQLite adds one column per statement.
        for column in [
            timestamp_with_time_zone(P::PeriodStartsAt).default(unset).take(),
            timestamp_with_time_zone(P::PeriodEndsAt).default(unset).take(),
            boolean(P::EverReturned).default(false).take(),
            string_len_null(P::AcceptedStatus, 16).take(),
            integer_null(P::AcceptedPercent).take(),
            string_len_null(P::AcceptedHealth, 16).take(),
        ] {
            m.alter_table(Table::alter().table(P::Table).add_column(column).take()).await?;
        }
        Ok(())
    }

    async fn drop_bound_defaults(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared(
                    r#"ALTER TABLE "progress_reports" ALTER COLUMN "period_starts_at" DROP DEFAULT, ALTER COLUMN "period_ends_at" DROP DEFAULT"#,
                )
                .await?;
        }
        Ok(())
    }

    async fn create_report_indexes(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        m.create_index(period_kind_index()).await?;
        m.create_index(accepted_latest_index()).await?;
        m.create_index(accepted_agency_latest_index()).await
    }

    async fn create_adjustments(m: &SchemaManager<'_>) -> Result<(), DbErr> {
        use ObligationAdjustments as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .col(big_pk_auto(A::Id))
                .col(string_len(A::Kind, 16))
                .col(string_len_null(A::Period, 16))
                .col(big_integer(A::TaskId))
                .col(big_integer_null(A::AgencyId))
                .col(big_integer_null(A::ProvinceId))
                .col(timestamp_with_time_zone_null(A::DueAt))
                .col(text(A::Reason))
                .col(string(A::Actor))
                .col(timestamp_with_time_zone(A::At))
                .col(timestamp_with_time_zone_null(A::RevokedAt))
                .col(string_null(A::RevokedBy))
                .col(text_null(A::RevokeReason))
                .check(("ck_obligation_adjustments_kind", adjustment_kinds()))
                .check(("ck_obligation_adjustments_party", one_party()))
                .foreign_key(&mut fk(A::TaskId, Tasks::Table, Tasks::Id))
                .foreign_key(&mut fk(A::AgencyId, Agencies::Table, Agencies::Id))
                .foreign_key(&mut fk(A::ProvinceId, Provinces::Table, Provinces::Id))
                .take(),
        )
        .await?;
        m.create_index(Index::create().name(IX_ADJUSTMENTS_PERIOD).table(A::Table).col(A::Period).col(A::Id).take())
            .await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        Self::add_report_columns(m).await?;
        let filled = backfill::run(m.get_connection()).await?;
        tracing::info!(
            periods = filled.periods,
            returned = filled.returned,
            accepted = filled.accepted,
            "backfilled the supervision columns of progress reports"
        );
        Self::drop_bound_defaults(m).await?;
        Self::create_report_indexes(m).await?;
        Self::create_adjustments(m).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ProgressReports as P;
        m.drop_table(Table::drop().table(ObligationAdjustments::Table).to_owned()).await?;
        for name in [IX_ACCEPTED_AGENCY_LATEST, IX_ACCEPTED_LATEST, IX_PERIOD_KIND] {
            m.drop_index(Index::drop().name(name).table(P::Table).to_owned()).await?;
        }
        for column in [
            P::AcceptedHealth,
            P::AcceptedPercent,
            P::AcceptedStatus,
            P::EverReturned,
            P::PeriodEndsAt,
            P::PeriodStartsAt,
        ] {
            m.alter_table(Table::alter().table(P::Table).drop_column(column).take()).await?;
        }
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
    fn the_accepted_index_is_partial_and_ordered_like_the_window_on_both_databases() {
        let expected = r#"CREATE INDEX "ix_reports_accepted_latest" ON "progress_reports" ("task_id", "agency_id", "province_id", "kind", "period_ends_at" DESC, "period_starts_at" DESC, "id" DESC) WHERE "accepted_status" IS NOT NULL"#;
        assert_eq!(accepted_latest_index().to_string(SqliteQueryBuilder), expected);
        assert_eq!(accepted_latest_index().to_string(PostgresQueryBuilder), expected);
    }

    #[test]
    fn the_covering_indexes_are_the_same_on_both_databases() {
        let agency = r#"CREATE INDEX "ix_reports_accepted_agency_latest" ON "progress_reports" ("task_id", "agency_id", "province_id", "kind", "period_ends_at" DESC, "period_starts_at" DESC, "id" DESC, "state", "period", "accepted_status", "accepted_percent", "accepted_health") WHERE "accepted_status" IS NOT NULL AND "agency_id" IS NOT NULL"#;
        let facts = r#"CREATE INDEX "ix_reports_period_kind" ON "progress_reports" ("period", "kind", "id", "task_id", "agency_id", "province_id", "state", "first_submitted_at", "accepted_status", "ever_returned")"#;
        for (index, expected) in [(accepted_agency_latest_index(), agency), (period_kind_index(), facts)] {
            assert_eq!(index.to_string(SqliteQueryBuilder), expected);
            assert_eq!(index.to_string(PostgresQueryBuilder), expected);
        }
    }
}
