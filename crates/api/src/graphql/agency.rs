//! Central agencies.

use async_graphql::{Context, ID, InputObject, Object};
use workplan_domain::ids::AgencyId;
use workplan_domain::listing::{AgencyFilter, AgencyQuery, ReportParent};

use super::report::{ProgressReportConnection, reports_of_parent};
use super::report_filter::{ProgressReportFilter, report_query};
use super::task::{Responsibility, ResponsibilityRole};
use crate::connection::{Total, connection, page_request};
use crate::context::{load, plan};
use crate::error::{GqlResultExt, bad_input};
use crate::ids::{self, Kind};
use crate::loaders::ResponsibilitiesOfAgency;

/// A central agency the plan assigns tasks to.
#[derive(Clone)]
pub(crate) struct Agency(pub workplan_domain::agency::Agency);

/// A central agency the plan assigns tasks to.
#[Object]
impl Agency {
    /// The agency's global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Agency, self.0.id.0)
    }

    /// How well the agency kept its reporting deadlines over the scheduled periods from
    /// `from` to `to` (period keys, compared by start, both inclusive; every scheduled period
    /// when absent). docs/supervision.md ("Scorecards") has the rules.
    async fn scorecard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first period, e.g. \"2016-Q1\".")] from: Option<String>,
        #[graphql(desc = "The last period, e.g. \"2016-Q4\".")] to: Option<String>,
    ) -> async_graphql::Result<super::scorecard::Scorecard> {
        let party = workplan_domain::report::Reporter::Agency(self.0.id);
        super::scorecard::scorecard_of(ctx, party, from, to).await
    }

    /// The canonical English name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The official Chinese name.
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }

    /// The common English abbreviation, where one is in use (e.g. SIPO, MOFCOM).
    async fn abbreviation(&self) -> Option<&str> {
        self.0.abbreviation.as_deref()
    }

    /// Other spellings of the name seen in the source document.
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
    }

    /// The agency's tasks with its role on each, by task number.
    async fn responsibilities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only tasks where the agency has this role.")] role: Option<ResponsibilityRole>,
    ) -> async_graphql::Result<Vec<Responsibility>> {
        let rows = load(ctx, ResponsibilitiesOfAgency(self.0.id, role.map(Into::into))).await?.unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|(r, task)| Responsibility { responsibility: r, agency: Some(self.0.clone()), task: Some(task) })
            .collect())
    }

    /// How many tasks the agency is responsible for, in any role.
    async fn task_count(&self) -> i64 {
        self.0.task_count
    }

    /// How many tasks the agency leads.
    async fn lead_task_count(&self) -> i64 {
        self.0.lead_task_count
    }

    /// Progress reports this agency submitted, newest first.
    async fn reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only reports matching this filter.")] filter: Option<ProgressReportFilter>,
        #[graphql(desc = "Return the first n reports (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return reports after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n reports (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return reports before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<ProgressReportConnection> {
        let query = report_query(ctx, filter, first, after, last, before)?;
        reports_of_parent(ctx, ReportParent::Agency, self.0.id.0, query).await
    }
}

/// Which agencies to list. All conditions must hold.
#[derive(InputObject, Default, Debug)]
#[graphql(name = "AgencyFilter")]
pub(crate) struct AgencyFilterInput {
    /// Only agencies whose name, Chinese name, abbreviation or an alias contains this,
    /// ignoring case (at most 200 characters).
    pub search: Option<String>,
    /// Only agencies with at least one task in this role.
    pub role: Option<ResponsibilityRole>,
}

connection!(AgencyConnection, AgencyEdge, Agency, "agencies");

/// Lists agencies by name.
pub(crate) async fn list(
    ctx: &Context<'_>,
    filter: Option<AgencyFilterInput>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<AgencyConnection> {
    let filter = filter.unwrap_or_default();
    let filter = AgencyFilter { search: filter.search, role: filter.role.map(Into::into) }.validated("filter").gql()?;
    let query = AgencyQuery { filter, page: page_request("agency", first, after, last, before)? };
    let page = plan(ctx)?.list_agencies(&query).await.gql()?;
    Ok(AgencyConnection {
        cursors: page.items.iter().map(|a| ids::cursor("agency", &a.name)).collect(),
        items: page.items.into_iter().map(Agency).collect(),
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        total: Total::Agencies(query.filter),
    })
}

/// Central agencies.
#[derive(Default)]
pub(crate) struct AgencyQueryRoot;

/// Central agencies.
#[Object]
impl AgencyQueryRoot {
    /// An agency by ID, or by name: its canonical name, any alias or its abbreviation (ignoring
    /// case). Give exactly one.
    async fn agency(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The agency's ID.")] id: Option<ID>,
        #[graphql(desc = "The agency's name, an alias or its abbreviation.")] name: Option<String>,
    ) -> async_graphql::Result<Option<Agency>> {
        match (id, name) {
            (Some(id), None) => {
                let id = ids::decode(Kind::Agency, &id, "id")?;
                Ok(load(ctx, AgencyId(id)).await?.map(Agency))
            }
            (None, Some(name)) => {
                if name.len() > 500 {
                    return Err(bad_input("name", "at most 500 characters"));
                }
                Ok(plan(ctx)?.agency_by_name(&name).await.gql()?.map(Agency))
            }
            _ => Err(bad_input("id", "give exactly one of id or name")),
        }
    }

    /// Agencies by name, filtered and paginated.
    async fn agencies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only agencies matching this filter.")] filter: Option<AgencyFilterInput>,
        #[graphql(desc = "Return the first n agencies (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return agencies after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n agencies (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return agencies before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<AgencyConnection> {
        list(ctx, filter, first, after, last, before).await
    }
}
