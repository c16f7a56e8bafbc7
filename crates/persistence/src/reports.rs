//! Report reads ([`ReportReader`]): lists, counts and grouped pages of
//! reports, their audit history and the change feed, all within a [`ReportScope`].

use std::collections::HashMap;

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseBackend, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use workplan_domain::access::ReportScope;
use workplan_domain::ids::{AgencyId, ReportId};
use workplan_domain::listing::{Direction, Page, ReportFilter, ReportOrder, ReportParent, ReportQuery};
use workplan_domain::ports::ReportReader;
use workplan_domain::report::{Change, FeedPosition, HistoryEntry, ProgressReport, ReportState};
use workplan_domain::{Error, Result};

use crate::batch::one_of;
use crate::convert::{collect, ids, reporter_is, to_change, to_history, to_report};
use crate::entities::{progress_report, province, report_change, report_history, section, task};
use crate::error::DbResultExt;
use crate::paging::{GroupedArms, grouped_counts, grouped_pages_with, keyset};
use crate::plan::agencies_named;
use crate::store::SeaStore;

/// The condition that keeps rows within `scope`; `state`, `agency` and `province` name the
/// table's columns (reports and the change feed share the shape), `official` says which
/// rows count as accepted for those limited to accepted reports, and `ever_submitted` which
/// belong to a report submitted at least once (a draft withdrawn unsubmitted stays a draft).
fn scope_condition(
    scope: &ReportScope,
    state: impl ColumnTrait,
    agency: impl ColumnTrait,
    province: impl ColumnTrait,
    official: Condition,
    ever_submitted: Condition,
) -> Option<sea_orm::Condition> {
    match scope {
        ReportScope::All => None,
        ReportScope::NotDraft => Some(Condition::all().add(state.ne(ReportState::Draft.as_str())).add(ever_submitted)),
        ReportScope::Accepted => Some(official),
        ReportScope::OwnOrAccepted(own) => {
            let mine = reporter_is(*own, agency, province);
            Some(Condition::any().add(mine).add(official))
        }
    }
}

/// Change-feed rows of a report submitted at least once. Only a WITHDRAWN row can belong to
/// one never submitted (a DRAFT row is left out by its state, and every other state follows a
/// submission), and WITHDRAWN is final, so only those rows look their report up, by its key.
fn change_of_submitted() -> Condition {
    use progress_report::Column as P;
    let submitted = Query::select()
        .expr(Expr::val(1))
        .from(progress_report::Entity)
        .and_where(
            Expr::col((progress_report::Entity, P::Id))
                .equals((report_change::Entity, report_change::Column::ReportId)),
        )
        .and_where(Expr::col((progress_report::Entity, P::FirstSubmittedAt)).is_not_null())
        .take();
    Condition::any().add(report_change::Column::State.ne(ReportState::Withdrawn.as_str())).add(Expr::exists(submitted))
}

/// Reports that count as accepted: ACCEPTED ones, and those reopened for correction (they have
/// an accepted version and were not withdrawn), read as their accepted version.
///
/// The states are literals in the statement, not parameters, and the condition has exactly the
/// form of `ix_reports_task_official`'s: a database proves that a query may use a partial
/// index only from literals (a PostgreSQL generic plan knows nothing of its parameters).
fn officially_accepted() -> Condition {
    use progress_report::Column as C;
    let column = |c: C| Expr::col((progress_report::Entity, c));
    let state = |s: ReportState| SimpleExpr::Constant(s.as_str().into());
    Condition::any().add(column(C::State).eq(state(ReportState::Accepted))).add(
        Condition::all()
            .add(column(C::AcceptedContent).is_not_null())
            .add(column(C::State).ne(state(ReportState::Withdrawn))),
    )
}

fn report_select(filter: &ReportFilter) -> sea_orm::Select<progress_report::Entity> {
    use progress_report::Column as C;
    let mut q = progress_report::Entity::find();
    let submitted = Condition::all().add(C::FirstSubmittedAt.is_not_null());
    let scope = scope_condition(&filter.scope, C::State, C::AgencyId, C::ProvinceId, officially_accepted(), submitted);
    if let Some(cond) = scope {
        q = q.filter(cond);
    }
    match filter.state {
        // ACCEPTED means officially accepted: reopened reports count, as their accepted version.
        Some(ReportState::Accepted) => q = q.filter(officially_accepted()),
        Some(state) => q = q.filter(C::State.eq(state.as_str())),
        None => {}
    }
    if let Some(number) = filter.task_number {
        let sub = Query::select()
            .column(task::Column::Id)
            .from(task::Entity)
            .and_where(Expr::col(task::Column::Number).eq(number))
            .take();
        q = q.filter(Expr::col((progress_report::Entity, C::TaskId)).in_subquery(sub));
    }
    if let Some(AgencyId(id)) = filter.agency {
        q = q.filter(C::AgencyId.eq(id));
    }
    if let Some(code) = &filter.province_code {
        let sub = Query::select()
            .column(province::Column::Id)
            .from(province::Entity)
            .and_where(Expr::col(province::Column::Code).eq(code.as_str()))
            .take();
        q = q.filter(Expr::col((progress_report::Entity, C::ProvinceId)).in_subquery(sub));
    }
    if let Some(period) = &filter.period {
        q = q.filter(C::Period.eq(period.as_str()));
    }
    if let Some(status) = filter.status {
        q = q.filter(C::Status.eq(status.as_str()));
    }
    if let Some(demo) = filter.demo {
        q = q.filter(C::IsDemo.eq(demo));
    }
    if let Some(ids) = &filter.ids {
        q = q.filter(C::Id.is_in(ids.iter().map(|i| i.0)));
    }
    human_key_conditions(q, filter)
}

/// The first month of a stored period ("2016-Q3" → "2016-07"), as SQL both databases run.
const PERIOD_START: &str = "(substr(progress_reports.period, 1, 4) || '-' || CASE \
     WHEN length(progress_reports.period) = 4 THEN '01' \
     WHEN substr(progress_reports.period, 6, 1) = 'H' THEN \
       CASE substr(progress_reports.period, 7, 1) WHEN '1' THEN '01' ELSE '07' END \
     WHEN substr(progress_reports.period, 6, 1) = 'Q' THEN \
       CASE substr(progress_reports.period, 7, 1) WHEN '1' THEN '01' WHEN '2' THEN '04' WHEN '3' THEN '07' ELSE '10' END \
     ELSE substr(progress_reports.period, 6, 2) END)";

/// The filters by the keys people use: client id, kind, agency name, period range, states, section.
fn human_key_conditions(
    mut q: sea_orm::Select<progress_report::Entity>,
    filter: &ReportFilter,
) -> sea_orm::Select<progress_report::Entity> {
    use progress_report::Column as C;
    if let Some(id) = &filter.client_report_id {
        q = q.filter(C::ClientReportId.eq(id.as_str()));
    }
    if let Some(kind) = filter.kind {
        q = q.filter(C::Kind.eq(kind.as_str()));
    }
    if let Some(name) = &filter.agency_name {
        q = q.filter(Expr::col((progress_report::Entity, C::AgencyId)).in_subquery(agencies_named(name)));
    }
    if let Some(from) = &filter.period_from {
        q = q.filter(Expr::cust(PERIOD_START).gte(from.start_key()));
    }
    if let Some(to) = &filter.period_to {
        q = q.filter(Expr::cust(PERIOD_START).lte(to.start_key()));
    }
    if let Some(states) = &filter.states {
        q = q.filter(C::State.is_in(states.iter().map(|s| s.as_str())));
    }
    if let Some(numeral) = &filter.section_numeral {
        let sections = Query::select()
            .column(section::Column::Id)
            .from(section::Entity)
            .and_where(Func::lower(Expr::col(section::Column::Numeral)).eq(numeral.as_str()))
            .take();
        let tasks = Query::select()
            .column(task::Column::Id)
            .from(task::Entity)
            .and_where(Expr::col(task::Column::SectionId).in_subquery(sections))
            .take();
        q = q.filter(Expr::col((progress_report::Entity, C::TaskId)).in_subquery(tasks));
    }
    q
}

/// When a report was submitted, or created if it never was: `COALESCE(submitted_at,
/// created_at)`, on the table itself or (`table: None`) on whatever the subquery reads.
fn submission_time(table: bool) -> SimpleExpr {
    use progress_report::Column as C;
    let col = |c: C| if table { Expr::col((progress_report::Entity, c)) } else { Expr::col(c) };
    Func::coalesce([col(C::SubmittedAt), col(C::CreatedAt)]).into()
}

/// The rows after (`greater`) or before the report `id` in (submission time, id) order.
fn beyond(id: i64, greater: bool) -> Condition {
    use progress_report::Column as C;
    let cursor_time: SimpleExpr = Query::select()
        .expr(submission_time(false))
        .from(progress_report::Entity)
        .and_where(Expr::col(C::Id).eq(id))
        .take()
        .into();
    let own_id = Expr::col((progress_report::Entity, C::Id));
    let (time, key) = if greater {
        (submission_time(true).gt(cursor_time.clone()), own_id.gt(id))
    } else {
        (submission_time(true).lt(cursor_time.clone()), own_id.lt(id))
    };
    Condition::any().add(time).add(Condition::all().add(submission_time(true).eq(cursor_time)).add(key))
}

/// Restricts `select` to the page `query` asks for, in its order (see [`ReportQuery`]).
fn report_page(
    select: sea_orm::Select<progress_report::Entity>,
    query: &ReportQuery,
) -> sea_orm::Select<progress_report::Entity> {
    let ascending = query.oldest_first;
    if query.order != ReportOrder::Submitted {
        return keyset(select, progress_report::Column::Id, ascending, &query.page);
    }
    let page = &query.page;
    let mut select = select;
    if let Some(after) = page.after {
        select = select.filter(beyond(after, ascending));
    }
    if let Some(before) = page.before {
        select = select.filter(beyond(before, !ascending));
    }
    let order = if ascending == (page.direction == Direction::Forward) { Order::Asc } else { Order::Desc };
    select
        .order_by(submission_time(true), order.clone())
        .order_by(progress_report::Column::Id, order)
        .limit(u64::from(page.size) + 1)
}

/// The key [`report_page`] orders by.
fn page_key(query: &ReportQuery, m: &progress_report::Model) -> (chrono::DateTime<chrono::Utc>, i64) {
    if query.order == ReportOrder::Submitted {
        (m.submitted_at.unwrap_or(m.created_at), m.id)
    } else {
        (chrono::DateTime::default(), m.id)
    }
}

fn report_parent_col(parent: ReportParent) -> progress_report::Column {
    match parent {
        ReportParent::Task => progress_report::Column::TaskId,
        ReportParent::Agency => progress_report::Column::AgencyId,
        ReportParent::Province => progress_report::Column::ProvinceId,
    }
}

#[async_trait]
impl ReportReader for SeaStore {
    async fn reports_by_ids(&self, ids_: &[ReportId]) -> Result<Vec<ProgressReport>> {
        let rows = progress_report::Entity::find()
            .filter(one_of(self.db.get_database_backend(), progress_report::Column::Id, &ids(ids_, |i| i.0)))
            .all(&self.db)
            .await
            .db()?;
        collect(rows, to_report)
    }

    async fn list_reports(&self, query: &ReportQuery) -> Result<Page<ProgressReport>> {
        let rows = report_page(report_select(&query.filter), query).all(&self.db).await.db()?;
        Ok(query.page.finish(collect(rows, to_report)?))
    }

    async fn count_reports(&self, filter: &ReportFilter) -> Result<i64> {
        let n = report_select(filter).count(&self.db).await.db()?;
        i64::try_from(n).map_err(Error::internal)
    }

    async fn list_reports_grouped(
        &self,
        parent: ReportParent,
        ids: &[i64],
        query: &ReportQuery,
    ) -> Result<HashMap<i64, Page<ProgressReport>>> {
        let reading_ascending = query.oldest_first == (query.page.direction == Direction::Forward);
        let arms = GroupedArms {
            parent_col: report_parent_col(parent),
            key_col: progress_report::Column::Id,
            parent_ids: ids,
            reading_ascending,
        };
        let groups = grouped_pages_with(
            &self.db,
            report_select(&query.filter),
            arms,
            |s| report_page(s, query),
            |m: &progress_report::Model| match parent {
                ReportParent::Task => Some(m.task_id),
                ReportParent::Agency => m.agency_id,
                ReportParent::Province => m.province_id,
            },
            |m| page_key(query, m),
        )
        .await
        .db()?;
        groups.into_iter().map(|(k, rows)| Ok((k, query.page.finish(collect(rows, to_report)?)))).collect()
    }

    async fn count_reports_grouped(
        &self,
        parent: ReportParent,
        ids: &[i64],
        filter: &ReportFilter,
    ) -> Result<HashMap<i64, i64>> {
        grouped_counts(&self.db, report_select(filter), report_parent_col(parent), ids).await.db()
    }

    async fn history(&self, ids_: &[ReportId]) -> Result<Vec<HistoryEntry>> {
        let rows = report_history::Entity::find()
            .filter(one_of(self.db.get_database_backend(), report_history::Column::ReportId, &ids(ids_, |i| i.0)))
            .order_by_asc(report_history::Column::Id)
            .all(&self.db)
            .await
            .db()?;
        collect(rows, to_history)
    }

    /// The feed in `(txid, id)` order. On PostgreSQL writers run in parallel and a change
    /// commits in the transaction that wrote it, so a row is returned only once every
    /// transaction that could still commit a row before it has ended: its `txid` is below the
    /// snapshot's `xmin` (the oldest transaction still running). Every row below that line is
    /// visible to this very statement, and any row committed later has a `txid` at or above it,
    /// so it sorts after every change already handed out. On SQLite writers take turns and
    /// every `txid` is 0: the order is the ids', which follow commit order.
    async fn list_changes(
        &self,
        after: Option<FeedPosition>,
        size: u32,
        scope: &ReportScope,
    ) -> Result<(Vec<Change>, bool)> {
        use report_change::Column as C;
        let mut q = report_change::Entity::find();
        if let Some(after) = after {
            q = q.filter(
                Expr::tuple([Expr::col(C::Txid), Expr::col(C::Id)])
                    .gt(Expr::tuple([Expr::val(after.txn), Expr::val(after.id.0)])),
            );
        }
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            q = q.filter(Expr::cust("report_changes.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"));
        }
        let accepted = Condition::all().add(C::State.eq(ReportState::Accepted.as_str()));
        if let Some(cond) =
            scope_condition(scope, C::State, C::AgencyId, C::ProvinceId, accepted, change_of_submitted())
        {
            q = q.filter(cond);
        }
        let mut rows =
            q.order_by_asc(C::Txid).order_by_asc(C::Id).limit(u64::from(size) + 1).all(&self.db).await.db()?;
        let more = rows.len() > size as usize;
        rows.truncate(size as usize);
        Ok((collect(rows, to_change)?, more))
    }

    /// The last row [`Self::list_changes`] would hand out to a reader of every report now.
    async fn feed_head(&self) -> Result<Option<FeedPosition>> {
        use report_change::Column as C;
        let mut q = report_change::Entity::find();
        if self.db.get_database_backend() == DatabaseBackend::Postgres {
            q = q.filter(Expr::cust("report_changes.txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"));
        }
        let row = q.order_by_desc(C::Txid).order_by_desc(C::Id).one(&self.db).await.db()?;
        row.map(|r| to_change(r).map(|c| c.position)).transpose()
    }
}
