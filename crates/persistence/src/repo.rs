//! [`SeaStore`]: the SeaORM implementation of the domain ports.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use workplan_domain::auth::Principal;
use workplan_domain::model::{
    Agency, AgencyId, DocumentInfo, Plan, PlanId, ProgressReport, Province, ProvinceId, ProvinceKind, ReportId,
    ReportState, ReportStatus, Reporter, Responsibility, ResponsibilityMode, Role, Section, SectionId, Subsection,
    SubsectionId, Task, TaskId,
};
use workplan_domain::model::{Change, HistoryEntry};
use workplan_domain::page::{
    AgencyFilter, AgencyQuery, Page, ReportFilter, ReportParent, ReportQuery, ReportScope, SortOrder, TaskFilter,
    TaskParent, TaskQuery,
};
use workplan_domain::ports::{Health, Idempotency, PlanReader, PoolStats, ReportReader, ReportWriter, SyncItemResult};
use workplan_domain::report::{Edit, NewReport};
use workplan_domain::sync::ValidSyncItem;
use workplan_domain::{Error, Result};
use workplan_migration::{Migrator, MigratorTrait};

use crate::entities::{
    agency, agency_alias, plan, progress_report, province, responsibility, section, subsection, task,
};
use crate::error::DbResultExt;
use crate::paging::{contains_pattern, grouped_pages, keyset};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Longest a single statement may run (PostgreSQL).
    pub statement_timeout: Duration,
    /// Longest to wait for a pooled connection.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { max_connections: 10, statement_timeout: Duration::from_secs(5), acquire_timeout: Duration::from_secs(5) }
    }
}

/// The plan store on a SQLite or PostgreSQL database.
#[derive(Clone, Debug)]
pub struct SeaStore {
    pub(crate) db: DatabaseConnection,
    statements: Arc<AtomicU64>,
    /// Serialises report writes within this process on SQLite (PostgreSQL uses an advisory
    /// lock, which also holds across replicas). See `write.rs`.
    pub(crate) writer: Arc<tokio::sync::Mutex<()>>,
}

impl SeaStore {
    /// Connects to `url` (`sqlite://...` or `postgres://...`).
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(options.max_connections).acquire_timeout(options.acquire_timeout).sqlx_logging(false);
        if url.starts_with("postgres") {
            opts.statement_timeout(options.statement_timeout);
        }
        let mut db = Database::connect(opts).await.map_err(Error::internal)?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |info| {
            tracing::trace!(target: "workplan::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
            counter.fetch_add(1, Ordering::Relaxed);
        });
        if db.get_database_backend() == DatabaseBackend::Sqlite {
            // WAL lets readers proceed while one writer commits.
            db.execute_unprepared("PRAGMA journal_mode=WAL").await.db()?;
        }
        Ok(Self { db, statements, writer: Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await.db()
    }

    /// How many SQL statements this store has run (for tests and metrics).
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Closes the pool.
    pub async fn close(self) -> Result<()> {
        self.db.close().await.db()
    }
}

// ---- row → domain ----------------------------------------------------------------------------

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(std::io::Error::other(format!("stored {what} {value:?} is not valid")))
}

fn to_section(m: section::Model) -> Section {
    Section {
        id: SectionId(m.id),
        plan_id: PlanId(m.plan_id),
        position: m.position,
        numeral: m.numeral,
        title: m.title,
    }
}

fn to_subsection(m: subsection::Model) -> Subsection {
    Subsection {
        id: SubsectionId(m.id),
        section_id: SectionId(m.section_id),
        position: m.position,
        numeral: m.numeral,
        title: m.title,
    }
}

fn to_task(m: task::Model) -> Result<Task> {
    let mode =
        ResponsibilityMode::parse(&m.responsibility_mode).ok_or_else(|| corrupt("mode", &m.responsibility_mode))?;
    Ok(Task {
        id: TaskId(m.id),
        plan_id: PlanId(m.plan_id),
        section_id: SectionId(m.section_id),
        subsection_id: SubsectionId(m.subsection_id),
        number: m.number,
        text: m.text,
        mode,
    })
}

fn to_responsibility(m: responsibility::Model) -> Result<Responsibility> {
    let role = Role::parse(&m.role).ok_or_else(|| corrupt("role", &m.role))?;
    Ok(Responsibility { task_id: TaskId(m.task_id), agency_id: AgencyId(m.agency_id), role, position: m.position })
}

fn to_province(m: province::Model) -> Result<Province> {
    let kind = ProvinceKind::parse(&m.kind).ok_or_else(|| corrupt("province kind", &m.kind))?;
    Ok(Province { id: ProvinceId(m.id), code: m.code, name: m.name, name_zh: m.name_zh, kind })
}

pub(crate) fn to_report(m: progress_report::Model) -> Result<ProgressReport> {
    let status = ReportStatus::parse(&m.status).ok_or_else(|| corrupt("status", &m.status))?;
    let state = ReportState::parse(&m.state).ok_or_else(|| corrupt("state", &m.state))?;
    let reporter = match (m.agency_id, m.province_id) {
        (Some(a), None) => Reporter::Agency(AgencyId(a)),
        (None, Some(p)) => Reporter::Province(ProvinceId(p)),
        _ => return Err(corrupt("reporter of report", &m.id.to_string())),
    };
    let evidence_urls: Vec<String> =
        serde_json::from_str(&m.evidence_urls).map_err(|_| corrupt("evidence URLs", &m.evidence_urls))?;
    Ok(ProgressReport {
        id: ReportId(m.id),
        state,
        client_report_id: m.client_report_id,
        review_comment: m.review_comment,
        updated_at: m.updated_at.unwrap_or(m.submitted_at),
        task_id: TaskId(m.task_id),
        reporter,
        period: m.period,
        status,
        percent_complete: m.percent_complete,
        summary: m.summary,
        evidence_urls,
        submitted_at: m.submitted_at,
        version: m.version,
        is_demo: m.is_demo,
    })
}

fn collect<T, U>(rows: Vec<T>, f: impl Fn(T) -> Result<U>) -> Result<Vec<U>> {
    rows.into_iter().map(f).collect()
}

fn ids<T: Copy>(ids: &[T], f: impl Fn(T) -> i64) -> Vec<i64> {
    let mut out: Vec<i64> = ids.iter().map(|&i| f(i)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn lower(col: impl sea_orm::sea_query::IntoColumnRef) -> SimpleExpr {
    Func::lower(Expr::col(col)).into()
}

// ---- filters ---------------------------------------------------------------------------------

fn task_select(filter: &TaskFilter) -> sea_orm::Select<task::Entity> {
    let mut q = task::Entity::find();
    if let Some(SectionId(id)) = filter.section {
        q = q.filter(task::Column::SectionId.eq(id));
    }
    if let Some(SubsectionId(id)) = filter.subsection {
        q = q.filter(task::Column::SubsectionId.eq(id));
    }
    if let Some(AgencyId(agency)) = filter.agency {
        let mut sub = Query::select();
        sub.column(responsibility::Column::TaskId)
            .from(responsibility::Entity)
            .and_where(Expr::col(responsibility::Column::AgencyId).eq(agency));
        if let Some(role) = filter.role {
            sub.and_where(Expr::col(responsibility::Column::Role).eq(role.as_str()));
        }
        q = q.filter(Expr::col((task::Entity, task::Column::Id)).in_subquery(sub.take()));
    }
    if let Some(mode) = filter.mode {
        q = q.filter(task::Column::ResponsibilityMode.eq(mode.as_str()));
    }
    if let Some(search) = &filter.search {
        q = q.filter(
            lower((task::Entity, task::Column::Text)).like(LikeExpr::new(contains_pattern(search)).escape('\\')),
        );
    }
    q
}

fn agency_select(filter: &AgencyFilter) -> sea_orm::Select<agency::Entity> {
    let mut q = agency::Entity::find();
    if let Some(search) = &filter.search {
        let like = || LikeExpr::new(contains_pattern(search)).escape('\\');
        let aliases = Query::select()
            .column(agency_alias::Column::AgencyId)
            .from(agency_alias::Entity)
            .and_where(lower(agency_alias::Column::Alias).like(like()))
            .take();
        q = q.filter(
            lower((agency::Entity, agency::Column::Name))
                .like(like())
                .or(lower((agency::Entity, agency::Column::Abbreviation)).like(like()))
                .or(Expr::col((agency::Entity, agency::Column::NameZh)).like(like()))
                .or(Expr::col((agency::Entity, agency::Column::Id)).in_subquery(aliases)),
        );
    }
    if let Some(role) = filter.role {
        let sub = Query::select()
            .column(responsibility::Column::AgencyId)
            .from(responsibility::Entity)
            .and_where(Expr::col(responsibility::Column::Role).eq(role.as_str()))
            .take();
        q = q.filter(Expr::col((agency::Entity, agency::Column::Id)).in_subquery(sub));
    }
    q
}

/// The condition that keeps rows within `scope`; `state`, `agency` and `province` name the
/// table's columns (reports and the change feed share the shape).
pub(crate) fn scope_condition(
    scope: &ReportScope,
    state: impl ColumnTrait,
    agency: impl ColumnTrait,
    province: impl ColumnTrait,
) -> Option<sea_orm::Condition> {
    use sea_orm::Condition;
    match scope {
        ReportScope::All => None,
        ReportScope::NotDraft => Some(Condition::all().add(state.ne(ReportState::Draft.as_str()))),
        ReportScope::Accepted => Some(Condition::all().add(state.eq(ReportState::Accepted.as_str()))),
        ReportScope::OwnOrAccepted(own) => {
            let mine = match own {
                Reporter::Agency(AgencyId(a)) => agency.eq(*a),
                Reporter::Province(ProvinceId(p)) => province.eq(*p),
            };
            Some(Condition::any().add(mine).add(state.eq(ReportState::Accepted.as_str())))
        }
    }
}

fn report_select(filter: &ReportFilter) -> sea_orm::Select<progress_report::Entity> {
    use progress_report::Column as C;
    let mut q = progress_report::Entity::find();
    if let Some(cond) = scope_condition(&filter.scope, C::State, C::AgencyId, C::ProvinceId) {
        q = q.filter(cond);
    }
    if let Some(state) = filter.state {
        q = q.filter(C::State.eq(state.as_str()));
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
    q
}

fn task_parent_col(parent: TaskParent) -> task::Column {
    match parent {
        TaskParent::Section => task::Column::SectionId,
        TaskParent::Subsection => task::Column::SubsectionId,
    }
}

fn report_parent_col(parent: ReportParent) -> progress_report::Column {
    match parent {
        ReportParent::Task => progress_report::Column::TaskId,
        ReportParent::Agency => progress_report::Column::AgencyId,
        ReportParent::Province => progress_report::Column::ProvinceId,
    }
}

impl SeaStore {
    /// Completes agency rows with their aliases and task counts: two statements per batch.
    async fn with_aliases(&self, rows: Vec<agency::Model>) -> Result<Vec<Agency>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
        let lead = Expr::case(Expr::col(responsibility::Column::Role).eq(Role::Lead.as_str()), 1).finally(0);
        let counts: Vec<(i64, i64, i64)> = responsibility::Entity::find()
            .filter(responsibility::Column::AgencyId.is_in(ids.clone()))
            .select_only()
            .column(responsibility::Column::AgencyId)
            .column_as(Expr::col(responsibility::Column::Id).count(), "tasks")
            .column_as(SimpleExpr::from(Func::sum(lead)), "leads")
            .group_by(responsibility::Column::AgencyId)
            .into_tuple()
            .all(&self.db)
            .await
            .db()?;
        let mut counts: HashMap<i64, (i64, i64)> = counts.into_iter().map(|(id, t, l)| (id, (t, l))).collect();
        let aliases = agency_alias::Entity::find()
            .filter(agency_alias::Column::AgencyId.is_in(ids))
            .order_by_asc(agency_alias::Column::Id)
            .all(&self.db)
            .await
            .db()?;
        let mut by_agency: HashMap<i64, Vec<String>> = HashMap::new();
        for a in aliases {
            by_agency.entry(a.agency_id).or_default().push(a.alias);
        }
        Ok(rows
            .into_iter()
            .map(|m| {
                let (task_count, lead_task_count) = counts.remove(&m.id).unwrap_or_default();
                Agency {
                    id: AgencyId(m.id),
                    aliases: by_agency.remove(&m.id).unwrap_or_default(),
                    task_count,
                    lead_task_count,
                    name: m.name,
                    name_zh: m.name_zh,
                    abbreviation: m.abbreviation,
                }
            })
            .collect())
    }

    async fn grouped_counts<E: EntityTrait>(
        &self,
        select: sea_orm::Select<E>,
        parent: impl ColumnTrait,
        ids: &[i64],
    ) -> Result<HashMap<i64, i64>> {
        let rows: Vec<(Option<i64>, i64)> = select
            .filter(parent.is_in(ids.to_vec()))
            .select_only()
            .column(parent)
            .column_as(Expr::col(parent).count(), "n")
            .group_by(parent)
            .into_tuple()
            .all(&self.db)
            .await
            .db()?;
        Ok(rows.into_iter().filter_map(|(p, n)| Some((p?, n))).collect())
    }
}

#[async_trait]
impl PlanReader for SeaStore {
    async fn plan(&self) -> Result<Option<Plan>> {
        let row = plan::Entity::find().order_by_asc(plan::Column::Id).one(&self.db).await.db()?;
        Ok(row.map(|m| Plan {
            id: PlanId(m.id),
            document: DocumentInfo {
                title: m.title,
                plan_title: m.plan_title,
                issuing_office: m.issuing_office,
                document_number: m.document_number,
                issue_date: m.issue_date,
                implements_title: m.implements_title,
                implements_reference: m.implements_reference,
                notice: m.notice,
            },
        }))
    }

    async fn sections(&self) -> Result<Vec<Section>> {
        let rows = section::Entity::find()
            .order_by_asc(section::Column::PlanId)
            .order_by_asc(section::Column::Position)
            .all(&self.db)
            .await
            .db()?;
        Ok(rows.into_iter().map(to_section).collect())
    }

    async fn sections_by_ids(&self, ids_: &[SectionId]) -> Result<Vec<Section>> {
        let rows =
            section::Entity::find().filter(section::Column::Id.is_in(ids(ids_, |i| i.0))).all(&self.db).await.db()?;
        Ok(rows.into_iter().map(to_section).collect())
    }

    async fn subsections_by_ids(&self, ids_: &[SubsectionId]) -> Result<Vec<Subsection>> {
        let rows = subsection::Entity::find()
            .filter(subsection::Column::Id.is_in(ids(ids_, |i| i.0)))
            .all(&self.db)
            .await
            .db()?;
        Ok(rows.into_iter().map(to_subsection).collect())
    }

    async fn subsections_by_sections(&self, ids_: &[SectionId]) -> Result<Vec<Subsection>> {
        let rows = subsection::Entity::find()
            .filter(subsection::Column::SectionId.is_in(ids(ids_, |i| i.0)))
            .order_by_asc(subsection::Column::SectionId)
            .order_by_asc(subsection::Column::Position)
            .all(&self.db)
            .await
            .db()?;
        Ok(rows.into_iter().map(to_subsection).collect())
    }

    async fn tasks_by_ids(&self, ids_: &[TaskId]) -> Result<Vec<Task>> {
        let rows = task::Entity::find().filter(task::Column::Id.is_in(ids(ids_, |i| i.0))).all(&self.db).await.db()?;
        collect(rows, to_task)
    }

    async fn tasks_by_numbers(&self, numbers: &[i32]) -> Result<Vec<Task>> {
        let rows = task::Entity::find()
            .filter(task::Column::Number.is_in(numbers.to_vec()))
            .order_by_asc(task::Column::Number)
            .all(&self.db)
            .await
            .db()?;
        collect(rows, to_task)
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<Page<Task>> {
        let ascending = query.order == SortOrder::Ascending;
        let rows = keyset(task_select(&query.filter), task::Column::Number, ascending, &query.page)
            .all(&self.db)
            .await
            .db()?;
        Ok(query.page.finish(collect(rows, to_task)?))
    }

    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64> {
        let n = task_select(filter).count(&self.db).await.db()?;
        i64::try_from(n).map_err(Error::internal)
    }

    async fn list_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        query: &TaskQuery,
    ) -> Result<HashMap<i64, Page<Task>>> {
        let col = task_parent_col(parent);
        let groups = grouped_pages(
            &self.db,
            task_select(&query.filter),
            col,
            ids,
            task::Column::Number,
            query.order == SortOrder::Ascending,
            &query.page,
            |m: &task::Model| {
                Some(match parent {
                    TaskParent::Section => m.section_id,
                    TaskParent::Subsection => m.subsection_id,
                })
            },
            |m| i64::from(m.number),
        )
        .await
        .db()?;
        groups.into_iter().map(|(k, rows)| Ok((k, query.page.finish(collect(rows, to_task)?)))).collect()
    }

    async fn count_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        filter: &TaskFilter,
    ) -> Result<HashMap<i64, i64>> {
        self.grouped_counts(task_select(filter), task_parent_col(parent), ids).await
    }

    async fn agencies_by_ids(&self, ids_: &[AgencyId]) -> Result<Vec<Agency>> {
        let rows =
            agency::Entity::find().filter(agency::Column::Id.is_in(ids(ids_, |i| i.0))).all(&self.db).await.db()?;
        self.with_aliases(rows).await
    }

    async fn agency_by_name(&self, name: &str) -> Result<Option<Agency>> {
        let name = name.trim().to_lowercase();
        let aliases = Query::select()
            .column(agency_alias::Column::AgencyId)
            .from(agency_alias::Entity)
            .and_where(lower(agency_alias::Column::Alias).eq(name.as_str()))
            .take();
        let rows = agency::Entity::find()
            .filter(
                lower((agency::Entity, agency::Column::Name))
                    .eq(name.as_str())
                    .or(lower((agency::Entity, agency::Column::Abbreviation)).eq(name.as_str()))
                    .or(Expr::col((agency::Entity, agency::Column::Id)).in_subquery(aliases)),
            )
            .order_by_asc(agency::Column::Id)
            .limit(1)
            .all(&self.db)
            .await
            .db()?;
        Ok(self.with_aliases(rows).await?.into_iter().next())
    }

    async fn list_agencies(&self, query: &AgencyQuery) -> Result<Page<Agency>> {
        let rows =
            keyset(agency_select(&query.filter), agency::Column::Name, true, &query.page).all(&self.db).await.db()?;
        let page = query.page.finish(rows);
        Ok(Page {
            items: self.with_aliases(page.items).await?,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        })
    }

    async fn count_agencies(&self, filter: &AgencyFilter) -> Result<i64> {
        let n = agency_select(filter).count(&self.db).await.db()?;
        i64::try_from(n).map_err(Error::internal)
    }

    async fn responsibilities_by_tasks(&self, ids_: &[TaskId]) -> Result<Vec<Responsibility>> {
        let rows = responsibility::Entity::find()
            .filter(responsibility::Column::TaskId.is_in(ids(ids_, |i| i.0)))
            .order_by_asc(responsibility::Column::TaskId)
            .order_by_asc(responsibility::Column::Position)
            .all(&self.db)
            .await
            .db()?;
        collect(rows, to_responsibility)
    }

    async fn responsibilities_by_agencies(&self, ids_: &[AgencyId], role: Option<Role>) -> Result<Vec<Responsibility>> {
        let mut q = responsibility::Entity::find().filter(responsibility::Column::AgencyId.is_in(ids(ids_, |i| i.0)));
        if let Some(role) = role {
            q = q.filter(responsibility::Column::Role.eq(role.as_str()));
        }
        let rows = q.order_by_asc(responsibility::Column::TaskId).all(&self.db).await.db()?;
        collect(rows, to_responsibility)
    }

    async fn provinces(&self) -> Result<Vec<Province>> {
        let rows = province::Entity::find().order_by_asc(province::Column::Code).all(&self.db).await.db()?;
        collect(rows, to_province)
    }

    async fn provinces_by_ids(&self, ids_: &[ProvinceId]) -> Result<Vec<Province>> {
        let rows =
            province::Entity::find().filter(province::Column::Id.is_in(ids(ids_, |i| i.0))).all(&self.db).await.db()?;
        collect(rows, to_province)
    }

    async fn provinces_by_codes(&self, codes: &[String]) -> Result<Vec<Province>> {
        let rows =
            province::Entity::find().filter(province::Column::Code.is_in(codes.to_vec())).all(&self.db).await.db()?;
        collect(rows, to_province)
    }
}

#[async_trait]
impl Health for SeaStore {
    async fn ping(&self) -> Result<()> {
        self.db.ping().await.db()
    }

    fn pool_stats(&self) -> PoolStats {
        let (size, idle) = match self.db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
            }
            DatabaseBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
            }
            _ => (0, 0),
        };
        PoolStats { size, idle, statements: self.statement_count() }
    }
}

#[async_trait]
impl ReportWriter for SeaStore {
    async fn create_report(
        &self,
        actor: &Principal,
        report: NewReport,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        self.write_create(actor, report, idempotency).await
    }

    async fn edit_report(
        &self,
        actor: &Principal,
        id: ReportId,
        expected_version: i32,
        edit: Edit,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        self.write_edit(actor, id, expected_version, edit, idempotency).await
    }

    async fn sync_reports(
        &self,
        actor: &Principal,
        reporter: Reporter,
        items: Vec<ValidSyncItem>,
        dry_run: bool,
    ) -> Result<Vec<SyncItemResult>> {
        self.write_sync(actor, reporter, items, dry_run).await
    }
}

#[async_trait]
impl ReportReader for SeaStore {
    async fn history(&self, ids_: &[ReportId]) -> Result<Vec<HistoryEntry>> {
        self.read_history(&ids(ids_, |i| i.0)).await
    }

    async fn list_changes(&self, after: Option<i64>, size: u32, scope: &ReportScope) -> Result<(Vec<Change>, bool)> {
        self.read_changes(after, size, scope).await
    }

    async fn reports_by_ids(&self, ids_: &[ReportId]) -> Result<Vec<ProgressReport>> {
        let rows = progress_report::Entity::find()
            .filter(progress_report::Column::Id.is_in(ids(ids_, |i| i.0)))
            .all(&self.db)
            .await
            .db()?;
        collect(rows, to_report)
    }

    async fn list_reports(&self, query: &ReportQuery) -> Result<Page<ProgressReport>> {
        let rows = keyset(report_select(&query.filter), progress_report::Column::Id, query.oldest_first, &query.page)
            .all(&self.db)
            .await
            .db()?;
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
        let groups = grouped_pages(
            &self.db,
            report_select(&query.filter),
            report_parent_col(parent),
            ids,
            progress_report::Column::Id,
            query.oldest_first,
            &query.page,
            |m: &progress_report::Model| match parent {
                ReportParent::Task => Some(m.task_id),
                ReportParent::Agency => m.agency_id,
                ReportParent::Province => m.province_id,
            },
            |m| m.id,
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
        self.grouped_counts(report_select(filter), report_parent_col(parent), ids).await
    }
}

pub(crate) fn report_active_model(report: NewReport) -> Result<progress_report::ActiveModel> {
    let (agency_id, province_id) = match report.reporter {
        Reporter::Agency(AgencyId(a)) => (Some(a), None),
        Reporter::Province(ProvinceId(p)) => (None, Some(p)),
    };
    Ok(progress_report::ActiveModel {
        task_id: Set(report.task_id.0),
        agency_id: Set(agency_id),
        province_id: Set(province_id),
        period: Set(report.fields.period.to_string()),
        status: Set(report.fields.status.as_str().to_owned()),
        percent_complete: Set(report.fields.percent_complete),
        summary: Set(report.fields.summary),
        evidence_urls: Set(serde_json::to_string(&report.fields.evidence_urls).map_err(Error::internal)?),
        submitted_at: Set(report.submitted_at),
        updated_at: Set(Some(report.submitted_at)),
        version: Set(1),
        is_demo: Set(report.is_demo),
        state: Set(report.state.as_str().to_owned()),
        client_report_id: Set(report.client_report_id),
        review_comment: Set(None),
        ..Default::default()
    })
}
