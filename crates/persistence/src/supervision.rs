//! What supervision reads ([`SupervisionReader`]): the facts of reports (their states and
//! times, never their text), the latest accepted version per task, party and kind, and the
//! exemptions and extensions. Each method is one statement, whatever the number of rows;
//! report facts and accepted parts come in no particular order (callers index them).
//!
//! They read the columns the supervision migration denormalised onto `progress_reports`
//! (period bounds, `ever_returned`, `accepted_*`), which `convert.rs` keeps true on every write.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, OverStatement, Query, SelectStatement, WindowStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, Order, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use workplan_domain::ids::{ReportId, TaskId};
use workplan_domain::ports::SupervisionReader;
use workplan_domain::report::{Health, Period, ReportKind, ReportState, ReportStatus, Reporter};
use workplan_domain::supervision::{AcceptedPart, AdjustmentId, ObligationAdjustment, ReportFacts};
use workplan_domain::{Error, Result};

use crate::convert::{collect, ids, reporter_from_cols, to_adjustment};
use crate::entities::{obligation_adjustment, progress_report};
use crate::error::DbResultExt;
use crate::store::SeaStore;

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(std::io::Error::other(format!("stored {what} {value:?} is not valid")))
}

fn period_of(key: &str) -> Result<Period> {
    Period::parse(key).map_err(|_| corrupt("period", key))
}

fn reporter_of(id: i64, agency_id: Option<i64>, province_id: Option<i64>) -> Result<Reporter> {
    reporter_from_cols(agency_id, province_id).ok_or_else(|| corrupt("reporter of report", &id.to_string()))
}

/// The columns of a report the obligation rules read.
#[derive(Debug, FromQueryResult)]
struct FactsRow {
    id: i64,
    task_id: i64,
    agency_id: Option<i64>,
    province_id: Option<i64>,
    period: String,
    state: String,
    first_submitted_at: Option<DateTime<Utc>>,
    accepted_status: Option<String>,
    ever_returned: bool,
}

fn to_facts(r: FactsRow) -> Result<ReportFacts> {
    Ok(ReportFacts {
        id: ReportId(r.id),
        task_id: TaskId(r.task_id),
        reporter: reporter_of(r.id, r.agency_id, r.province_id)?,
        period: period_of(&r.period)?,
        state: ReportState::parse(&r.state).ok_or_else(|| corrupt("state", &r.state))?,
        first_submitted_at: r.first_submitted_at,
        has_accepted: r.accepted_status.is_some(),
        ever_returned: r.ever_returned,
    })
}

/// The columns of an accepted version the progress rules read.
#[derive(Debug, FromQueryResult)]
struct AcceptedRow {
    id: i64,
    task_id: i64,
    agency_id: Option<i64>,
    province_id: Option<i64>,
    kind: String,
    period: String,
    accepted_status: String,
    accepted_percent: Option<i32>,
    accepted_health: Option<String>,
}

fn to_accepted_part(r: AcceptedRow) -> Result<AcceptedPart> {
    let health = r.accepted_health.as_deref().map(|h| Health::parse(h).ok_or_else(|| corrupt("health", h)));
    Ok(AcceptedPart {
        report_id: ReportId(r.id),
        task_id: TaskId(r.task_id),
        reporter: reporter_of(r.id, r.agency_id, r.province_id)?,
        kind: ReportKind::parse(&r.kind).ok_or_else(|| corrupt("kind", &r.kind))?,
        period: period_of(&r.period)?,
        status: ReportStatus::parse(&r.accepted_status).ok_or_else(|| corrupt("status", &r.accepted_status))?,
        percent_complete: r.accepted_percent,
        health: health.transpose()?,
    })
}

/// A constant written into the SQL rather than bound: the conditions of the partial indexes
/// these queries read (`ix_reports_facts`, `ix_reports_accepted_latest`) name such values, and
/// a database can use such an index only when it sees the value (a bound one could be any).
fn constant(value: &'static str) -> Expr {
    Expr::Constant(value.into())
}

/// The condition "filed by one of `parties`"; `None` when there are none.
fn filed_by(parties: &[Reporter]) -> Option<Condition> {
    use progress_report::Column as C;
    let (mut agencies, mut provinces) = (Vec::new(), Vec::new());
    for party in parties {
        match party {
            Reporter::Agency(a) => agencies.push(a.0),
            Reporter::Province(p) => provinces.push(p.0),
        }
    }
    let mut any = Condition::any();
    if !agencies.is_empty() {
        any = any.add(C::AgencyId.is_in(ids(&agencies, |a| a)));
    }
    if !provinces.is_empty() {
        any = any.add(C::ProvinceId.is_in(ids(&provinces, |p| p)));
    }
    (!parties.is_empty()).then_some(any)
}

/// The distinct keys of `periods`, sorted.
fn period_keys(periods: &[Period]) -> Vec<String> {
    let mut keys: Vec<String> = periods.iter().map(ToString::to_string).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The row number of a report within its reporter, task and kind, latest period first (by
/// end, then start, then id): the order of `ix_reports_accepted_latest`, which the database
/// reads instead of sorting.
fn latest_first() -> WindowStatement {
    use progress_report::Column as C;
    let mut window = WindowStatement::new();
    window.partition_by(C::ProvinceId).partition_by(C::AgencyId).partition_by(C::TaskId).partition_by(C::Kind);
    window.order_by(C::PeriodEndsAt, Order::Desc).order_by(C::PeriodStartsAt, Order::Desc).order_by(C::Id, Order::Desc);
    window
}

/// The live PART reports of `periods` (of `parties`, when given): their facts. Reads
/// `ix_reports_facts` alone.
fn report_facts_query(periods: &[Period], parties: Option<&[Reporter]>) -> Select<progress_report::Entity> {
    use progress_report::Column as C;
    let mut select = progress_report::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::TaskId,
            C::AgencyId,
            C::ProvinceId,
            C::Period,
            C::State,
            C::FirstSubmittedAt,
            C::AcceptedStatus,
            C::EverReturned,
        ])
        .filter(C::Period.is_in(period_keys(periods)))
        .filter(Expr::col(C::Kind).eq(constant(ReportKind::Part.as_str())))
        .filter(Expr::col(C::State).ne(constant(ReportState::Withdrawn.as_str())));
    if let Some(by) = parties.and_then(filed_by) {
        select = select.filter(by);
    }
    select
}

/// The latest accepted version per reporter, task and kind among live reports whose period
/// ends no later than `up_to` ends (of agencies only, when asked): a `ROW_NUMBER()` window
/// read in the order of `ix_reports_accepted_latest`, from the index alone.
fn accepted_parts_query(up_to: Option<Period>, agencies_only: bool) -> SelectStatement {
    use progress_report::Column as C;
    let mut ranked = Query::select();
    ranked
        .columns([
            C::Id,
            C::TaskId,
            C::AgencyId,
            C::ProvinceId,
            C::Kind,
            C::Period,
            C::AcceptedStatus,
            C::AcceptedPercent,
            C::AcceptedHealth,
        ])
        .expr_window_as(Expr::cust("ROW_NUMBER()"), latest_first(), Alias::new("latest"))
        .from(progress_report::Entity)
        .and_where(Expr::col(C::AcceptedStatus).is_not_null())
        .and_where(Expr::col(C::State).ne(constant(ReportState::Withdrawn.as_str())));
    if let Some(period) = up_to {
        ranked.and_where(Expr::col(C::PeriodEndsAt).lte(period.ends_at()));
    }
    if agencies_only {
        // Filed by an agency: no province (a report has exactly one reporter). The index
        // leads with the province, so agencies' reports are one range of it.
        ranked.and_where(Expr::col(C::ProvinceId).is_null());
    }
    Query::select()
        .column(Asterisk)
        .from_subquery(ranked, Alias::new("ranked"))
        .and_where(Expr::col(Alias::new("latest")).eq(Expr::Constant(1.into())))
        .take()
}

impl SeaStore {
    /// The facts of the live PART reports of `periods` (of `parties`, when given), read now:
    /// one statement.
    pub(crate) async fn read_report_facts(
        &self,
        periods: &[Period],
        parties: Option<&[Reporter]>,
    ) -> Result<Vec<ReportFacts>> {
        let rows = report_facts_query(periods, parties).into_model::<FactsRow>().all(&self.db).await.db()?;
        collect(rows, to_facts)
    }
}

#[async_trait]
impl SupervisionReader for SeaStore {
    /// From memory (`live_facts.rs`): a whole period's facts are read once and kept while
    /// fresh. One party's facts come from memory when their periods are there, else from a
    /// statement of their own (a reporter's to-do list should not load every period).
    async fn report_facts(&self, periods: &[Period], parties: Option<&[Reporter]>) -> Result<Vec<Arc<[ReportFacts]>>> {
        if periods.is_empty() || parties.is_some_and(<[Reporter]>::is_empty) {
            return Ok(Vec::new());
        }
        let Some(parties) = parties else { return self.facts.of(self, periods).await };
        let theirs: Vec<ReportFacts> = match self.facts.of_cached(periods) {
            Some(chunks) => {
                chunks.iter().flat_map(|c| c.iter()).filter(|f| parties.contains(&f.reporter)).cloned().collect()
            }
            None => self.read_report_facts(periods, Some(parties)).await?,
        };
        Ok(vec![theirs.into()])
    }

    async fn accepted_parts(&self, up_to: Option<Period>, agencies_only: bool) -> Result<Vec<AcceptedPart>> {
        let statement = self.db.get_database_backend().build(&accepted_parts_query(up_to, agencies_only));
        let rows = AcceptedRow::find_by_statement(statement).all(&self.db).await.db()?;
        collect(rows, to_accepted_part)
    }

    async fn adjustments(&self, periods: &[Period]) -> Result<Vec<ObligationAdjustment>> {
        use obligation_adjustment::Column as C;
        let mut named = Condition::any().add(C::Period.is_null());
        if !periods.is_empty() {
            named = named.add(C::Period.is_in(period_keys(periods)));
        }
        let rows = obligation_adjustment::Entity::find().filter(named).order_by_asc(C::Id).all(&self.db).await.db()?;
        collect(rows, to_adjustment)
    }

    async fn adjustments_by_ids(&self, wanted: &[AdjustmentId]) -> Result<Vec<ObligationAdjustment>> {
        adjustments_by_ids(&self.db, wanted).await
    }
}

/// The adjustments with these ids, by id (unknown ids are skipped).
pub(crate) async fn adjustments_by_ids(
    db: &impl ConnectionTrait,
    wanted: &[AdjustmentId],
) -> Result<Vec<ObligationAdjustment>> {
    use obligation_adjustment::Column as C;
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let rows = obligation_adjustment::Entity::find()
        .filter(C::Id.is_in(ids(wanted, |a| a.0)))
        .order_by_asc(C::Id)
        .all(db)
        .await
        .db()?;
    collect(rows, to_adjustment)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::SqliteQueryBuilder;
    use sea_orm::{DbBackend, QueryTrait};
    use workplan_domain::ids::{AgencyId, ProvinceId};

    use super::*;

    // The databases use the partial indexes only when a query names their conditions'
    // constants in its SQL (see the supervision migration).
    #[test]
    fn the_queries_name_the_partial_indexes_conditions_literally() {
        let parties = [Reporter::Agency(AgencyId(3)), Reporter::Province(ProvinceId(4))];
        let periods = [Period::Quarter(2016, 4)];
        let facts = report_facts_query(&periods, Some(&parties)).build(DbBackend::Sqlite).to_string();
        assert!(facts.contains(r#""kind" = 'PART' AND "state" <> 'WITHDRAWN'"#), "{facts}");
        let parties = r#"("progress_reports"."agency_id" IN (3) OR "progress_reports"."province_id" IN (4))"#;
        assert!(facts.contains(parties), "{facts}");
        let (latest, values) = accepted_parts_query(Some(Period::Year(2016)), true).build(SqliteQueryBuilder);
        for part in [
            r#"ROW_NUMBER() OVER ( PARTITION BY "province_id", "agency_id", "task_id", "kind" ORDER BY "period_ends_at" DESC, "period_starts_at" DESC, "id" DESC )"#,
            r#"WHERE "accepted_status" IS NOT NULL AND "state" <> 'WITHDRAWN' AND "period_ends_at" <= ? AND "province_id" IS NULL"#,
            r#"WHERE "latest" = 1"#,
        ] {
            assert!(latest.contains(part), "{latest}\n lacks {part}");
        }
        assert_eq!(values.0, [Period::Year(2016).ends_at().into()]);
    }
}
