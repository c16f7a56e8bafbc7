//! The plan's reads in SQL ([`SqlPlan`]): the document, its sections and tasks, the agencies
//! responsible for them and the provinces. Each method is one batched query (agencies: three),
//! whatever the number of ids it is given. The service reads the plan from memory
//! (`live_plan.rs`); these queries load that snapshot, and a test holds the two to the same
//! answers.

use std::collections::HashMap;

use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use workplan_domain::agency::Agency;
use workplan_domain::ids::{AgencyId, ProvinceId, SectionId, SubsectionId, TaskId};
use workplan_domain::listing::{AgencyFilter, AgencyQuery, Page, TaskFilter, TaskKey, TaskPage, TaskParent, TaskQuery};
use workplan_domain::plan::{Plan, Responsibility, Role, Section, Subsection, Task};
use workplan_domain::ports::PlanReader;
use workplan_domain::province::Province;
use workplan_domain::{Error, Result};

use crate::convert::{
    collect, ids, to_agency, to_plan, to_province, to_responsibility, to_section, to_subsection, to_task,
};
use crate::entities::{agency, agency_alias, plan, province, responsibility, section, subsection, task};
use crate::error::DbResultExt;
use crate::paging::{contains_pattern, grouped_counts, keyset};
use crate::store::SeaStore;
use crate::task_order::{grouped_task_rows, task_rows};

fn lower(col: impl sea_orm::sea_query::IntoColumnRef) -> SimpleExpr {
    Func::lower(Expr::col(col)).into()
}

fn task_select(filter: &TaskFilter) -> sea_orm::Select<task::Entity> {
    let mut q = task::Entity::find();
    if let Some(SectionId(id)) = filter.section {
        q = q.filter(task::Column::SectionId.eq(id));
    }
    if let Some(SubsectionId(id)) = filter.subsection {
        q = q.filter(task::Column::SubsectionId.eq(id));
    }
    if filter.agency.is_some() || filter.agency_name.is_some() {
        let mut sub = Query::select();
        sub.column(responsibility::Column::TaskId).from(responsibility::Entity);
        if let Some(AgencyId(agency)) = filter.agency {
            sub.and_where(Expr::col(responsibility::Column::AgencyId).eq(agency));
        }
        if let Some(name) = &filter.agency_name {
            sub.and_where(Expr::col(responsibility::Column::AgencyId).in_subquery(agencies_named(name)));
        }
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
    if let Some(numeral) = &filter.section_numeral {
        let sections = Query::select()
            .column(section::Column::Id)
            .from(section::Entity)
            .and_where(lower(section::Column::Numeral).eq(numeral.as_str()))
            .take();
        q = q.filter(Expr::col((task::Entity, task::Column::SectionId)).in_subquery(sections));
    }
    if let Some(numeral) = &filter.subsection_numeral {
        let subsections = Query::select()
            .column(subsection::Column::Id)
            .from(subsection::Entity)
            .and_where(lower(subsection::Column::Numeral).eq(numeral.as_str()))
            .take();
        q = q.filter(Expr::col((task::Entity, task::Column::SubsectionId)).in_subquery(subsections));
    }
    q
}

/// The ids of agencies whose name, Chinese name, abbreviation or an alias is `name`
/// (lower-case), ignoring case.
pub(crate) fn agencies_named(name: &str) -> sea_orm::sea_query::SelectStatement {
    let aliases = Query::select()
        .column(agency_alias::Column::AgencyId)
        .from(agency_alias::Entity)
        .and_where(lower(agency_alias::Column::Alias).eq(name))
        .take();
    Query::select()
        .column((agency::Entity, agency::Column::Id))
        .from(agency::Entity)
        .cond_where(
            lower((agency::Entity, agency::Column::Name))
                .eq(name)
                .or(lower((agency::Entity, agency::Column::NameZh)).eq(name))
                .or(lower((agency::Entity, agency::Column::Abbreviation)).eq(name))
                .or(Expr::col((agency::Entity, agency::Column::Id)).in_subquery(aliases)),
        )
        .take()
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

fn keyed_tasks(rows: Vec<(TaskKey, task::Model)>) -> Result<Vec<(TaskKey, Task)>> {
    rows.into_iter().map(|(key, row)| Ok((key, to_task(row)?))).collect()
}

fn task_parent_col(parent: TaskParent) -> task::Column {
    match parent {
        TaskParent::Section => task::Column::SectionId,
        TaskParent::Subsection => task::Column::SubsectionId,
    }
}

/// The plan as the database holds it, read with SQL on every call: [`SeaStore::sql_plan`].
#[derive(Debug, Clone)]
pub struct SqlPlan(pub(crate) SeaStore);

impl SeaStore {
    /// Completes agency rows with their aliases and task counts: two statements per batch.
    pub(crate) async fn with_aliases(&self, rows: Vec<agency::Model>) -> Result<Vec<Agency>> {
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
                let counts = counts.remove(&m.id).unwrap_or_default();
                let aliases = by_agency.remove(&m.id).unwrap_or_default();
                to_agency(m, aliases, counts)
            })
            .collect())
    }
}

#[async_trait]
impl PlanReader for SqlPlan {
    async fn plan(&self) -> Result<Option<Plan>> {
        let row = plan::Entity::find().order_by_asc(plan::Column::Id).one(&self.0.db).await.db()?;
        Ok(row.map(to_plan))
    }

    async fn sections(&self) -> Result<Vec<Section>> {
        let rows = section::Entity::find()
            .order_by_asc(section::Column::PlanId)
            .order_by_asc(section::Column::Position)
            .all(&self.0.db)
            .await
            .db()?;
        Ok(rows.into_iter().map(to_section).collect())
    }

    async fn sections_by_ids(&self, ids_: &[SectionId]) -> Result<Vec<Section>> {
        let rows =
            section::Entity::find().filter(section::Column::Id.is_in(ids(ids_, |i| i.0))).all(&self.0.db).await.db()?;
        Ok(rows.into_iter().map(to_section).collect())
    }

    async fn subsections_by_ids(&self, ids_: &[SubsectionId]) -> Result<Vec<Subsection>> {
        let rows = subsection::Entity::find()
            .filter(subsection::Column::Id.is_in(ids(ids_, |i| i.0)))
            .all(&self.0.db)
            .await
            .db()?;
        Ok(rows.into_iter().map(to_subsection).collect())
    }

    async fn subsections_by_sections(&self, ids_: &[SectionId]) -> Result<Vec<Subsection>> {
        let rows = subsection::Entity::find()
            .filter(subsection::Column::SectionId.is_in(ids(ids_, |i| i.0)))
            .order_by_asc(subsection::Column::SectionId)
            .order_by_asc(subsection::Column::Position)
            .all(&self.0.db)
            .await
            .db()?;
        Ok(rows.into_iter().map(to_subsection).collect())
    }

    async fn tasks(&self) -> Result<Vec<Task>> {
        let rows = task::Entity::find().order_by_asc(task::Column::Number).all(&self.0.db).await.db()?;
        collect(rows, to_task)
    }

    async fn tasks_by_ids(&self, ids_: &[TaskId]) -> Result<Vec<Task>> {
        let rows =
            task::Entity::find().filter(task::Column::Id.is_in(ids(ids_, |i| i.0))).all(&self.0.db).await.db()?;
        collect(rows, to_task)
    }

    async fn tasks_by_numbers(&self, numbers: &[i32]) -> Result<Vec<Task>> {
        let rows = task::Entity::find()
            .filter(task::Column::Number.is_in(numbers.to_vec()))
            .order_by_asc(task::Column::Number)
            .all(&self.0.db)
            .await
            .db()?;
        collect(rows, to_task)
    }

    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage> {
        let rows = task_rows(&self.0.db, task_select(&query.filter), query).await.db()?;
        Ok(query.page.finish(keyed_tasks(rows)?))
    }

    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64> {
        let n = task_select(filter).count(&self.0.db).await.db()?;
        i64::try_from(n).map_err(Error::internal)
    }

    async fn list_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        query: &TaskQuery,
    ) -> Result<HashMap<i64, TaskPage>> {
        let base = task_select(&query.filter);
        let groups = grouped_task_rows(&self.0.db, base, task_parent_col(parent), ids, query).await.db()?;
        groups.into_iter().map(|(k, rows)| Ok((k, query.page.finish(keyed_tasks(rows)?)))).collect()
    }

    async fn count_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        filter: &TaskFilter,
    ) -> Result<HashMap<i64, i64>> {
        grouped_counts(&self.0.db, task_select(filter), task_parent_col(parent), ids).await.db()
    }

    async fn agencies_by_ids(&self, ids_: &[AgencyId]) -> Result<Vec<Agency>> {
        let rows =
            agency::Entity::find().filter(agency::Column::Id.is_in(ids(ids_, |i| i.0))).all(&self.0.db).await.db()?;
        self.0.with_aliases(rows).await
    }

    async fn agency_by_name(&self, name: &str) -> Result<Option<Agency>> {
        let name = name.trim().to_lowercase();
        let rows = agency::Entity::find()
            .filter(Expr::col((agency::Entity, agency::Column::Id)).in_subquery(agencies_named(&name)))
            .order_by_asc(agency::Column::Id)
            .limit(1)
            .all(&self.0.db)
            .await
            .db()?;
        Ok(self.0.with_aliases(rows).await?.into_iter().next())
    }

    async fn list_agencies(&self, query: &AgencyQuery) -> Result<Page<Agency>> {
        let rows =
            keyset(agency_select(&query.filter), agency::Column::Name, true, &query.page).all(&self.0.db).await.db()?;
        let page = query.page.finish(rows);
        Ok(Page {
            items: self.0.with_aliases(page.items).await?,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
        })
    }

    async fn count_agencies(&self, filter: &AgencyFilter) -> Result<i64> {
        let n = agency_select(filter).count(&self.0.db).await.db()?;
        i64::try_from(n).map_err(Error::internal)
    }

    async fn responsibilities(&self) -> Result<Vec<Responsibility>> {
        let rows = responsibility::Entity::find()
            .order_by_asc(responsibility::Column::TaskId)
            .order_by_asc(responsibility::Column::Position)
            .all(&self.0.db)
            .await
            .db()?;
        collect(rows, to_responsibility)
    }

    async fn responsibilities_by_tasks(&self, ids_: &[TaskId]) -> Result<Vec<Responsibility>> {
        let rows = responsibility::Entity::find()
            .filter(responsibility::Column::TaskId.is_in(ids(ids_, |i| i.0)))
            .order_by_asc(responsibility::Column::TaskId)
            .order_by_asc(responsibility::Column::Position)
            .all(&self.0.db)
            .await
            .db()?;
        collect(rows, to_responsibility)
    }

    async fn responsibilities_by_agencies(&self, ids_: &[AgencyId], role: Option<Role>) -> Result<Vec<Responsibility>> {
        let mut q = responsibility::Entity::find().filter(responsibility::Column::AgencyId.is_in(ids(ids_, |i| i.0)));
        if let Some(role) = role {
            q = q.filter(responsibility::Column::Role.eq(role.as_str()));
        }
        let rows = q.order_by_asc(responsibility::Column::TaskId).all(&self.0.db).await.db()?;
        collect(rows, to_responsibility)
    }

    async fn provinces(&self) -> Result<Vec<Province>> {
        let rows = province::Entity::find().order_by_asc(province::Column::Code).all(&self.0.db).await.db()?;
        collect(rows, to_province)
    }

    async fn provinces_by_ids(&self, ids_: &[ProvinceId]) -> Result<Vec<Province>> {
        let rows = province::Entity::find()
            .filter(province::Column::Id.is_in(ids(ids_, |i| i.0)))
            .all(&self.0.db)
            .await
            .db()?;
        collect(rows, to_province)
    }

    async fn provinces_by_codes(&self, codes: &[String]) -> Result<Vec<Province>> {
        let rows =
            province::Entity::find().filter(province::Column::Code.is_in(codes.to_vec())).all(&self.0.db).await.db()?;
        collect(rows, to_province)
    }
}
