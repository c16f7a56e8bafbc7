//! The plan document and its sections.

use async_graphql::{Context, ID, Object};
use chrono::NaiveDate;
use workplan_domain::listing::{AgencyFilter, TaskFilter, TaskParent};

use super::task::{TaskConnection, TaskFilterInput, TaskOrder, task_query, tasks_of_parent};
use crate::context::{load, plan, require};
use crate::error::GqlResultExt;
use crate::ids::{self, Kind};
use crate::loaders::SubsectionsOf;

/// The work plan and the document it comes from.
#[derive(Clone)]
pub(crate) struct Plan(pub workplan_domain::plan::Plan);

/// The work plan and the document it comes from.
#[Object]
impl Plan {
    /// The plan's global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Plan, self.0.id.0)
    }

    /// The title of the notice that distributes the plan.
    async fn title(&self) -> &str {
        &self.0.document.title
    }

    /// The title of the plan itself.
    async fn plan_title(&self) -> &str {
        &self.0.document.plan_title
    }

    /// The document number, e.g. "Letter No. 66 [2016]".
    async fn document_number(&self) -> &str {
        &self.0.document.document_number
    }

    /// Who issued the document.
    async fn issuing_office(&self) -> &str {
        &self.0.document.issuing_office
    }

    /// The date the document was issued.
    async fn issue_date(&self) -> NaiveDate {
        self.0.document.issue_date
    }

    /// The title of the opinions this plan implements.
    async fn implements(&self) -> &str {
        &self.0.document.implements_title
    }

    /// The reference of the opinions this plan implements, e.g. "Guo Fa [2015] No. 71".
    async fn implements_reference(&self) -> &str {
        &self.0.document.implements_reference
    }

    /// The notice's text to the provinces and departments.
    async fn notice(&self) -> &str {
        &self.0.document.notice
    }

    /// The plan's sections, in order.
    async fn sections(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Section>> {
        Ok(plan(ctx)?.sections().await.gql()?.into_iter().map(Section).collect())
    }

    /// How many key tasks the plan has.
    async fn task_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        plan(ctx)?.count_tasks(&TaskFilter::default()).await.gql()
    }

    /// How many central agencies the plan names.
    async fn agency_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        plan(ctx)?.count_agencies(&AgencyFilter::default()).await.gql()
    }
}

/// A section of the plan (I–VI).
#[derive(Clone)]
pub(crate) struct Section(pub workplan_domain::plan::Section);

/// A section of the plan (I–VI).
#[Object]
impl Section {
    /// The section's global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Section, self.0.id.0)
    }

    /// The numeral as printed: "I", "II", ...
    async fn numeral(&self) -> &str {
        &self.0.numeral
    }

    /// 1-based position in the plan.
    async fn position(&self) -> i32 {
        self.0.position
    }

    /// The section's title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The section's subsections, in order.
    async fn subsections(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Subsection>> {
        let rows = load(ctx, SubsectionsOf(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(Subsection).collect())
    }

    /// The section's tasks.
    #[expect(clippy::too_many_arguments, reason = "Relay connection arguments plus filter and order")]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only tasks matching this filter.")] filter: Option<TaskFilterInput>,
        #[graphql(desc = "Sort order (default: by number, ascending).")] order_by: Option<TaskOrder>,
        #[graphql(desc = "Return the first n tasks (1–200, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return tasks after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n tasks (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return tasks before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<TaskConnection> {
        let query = task_query(filter, order_by, first, after, last, before)?;
        tasks_of_parent(ctx, TaskParent::Section, self.0.id.0, query).await
    }
}

/// A subsection of a section ((i), (ii), ...).
#[derive(Clone)]
pub(crate) struct Subsection(pub workplan_domain::plan::Subsection);

/// A subsection of a section ((i), (ii), ...).
#[Object]
impl Subsection {
    /// The subsection's global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Subsection, self.0.id.0)
    }

    /// The numeral as printed, without parentheses: "i", "ii", ...
    async fn numeral(&self) -> &str {
        &self.0.numeral
    }

    /// 1-based position in its section.
    async fn position(&self) -> i32 {
        self.0.position
    }

    /// The subsection's title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The section this subsection is in.
    async fn section(&self, ctx: &Context<'_>) -> async_graphql::Result<Section> {
        require(ctx, self.0.section_id).await.map(Section)
    }

    /// The subsection's tasks.
    #[expect(clippy::too_many_arguments, reason = "Relay connection arguments plus filter and order")]
    async fn tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only tasks matching this filter.")] filter: Option<TaskFilterInput>,
        #[graphql(desc = "Sort order (default: by number, ascending).")] order_by: Option<TaskOrder>,
        #[graphql(desc = "Return the first n tasks (1–200, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return tasks after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n tasks (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return tasks before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<TaskConnection> {
        let query = task_query(filter, order_by, first, after, last, before)?;
        tasks_of_parent(ctx, TaskParent::Subsection, self.0.id.0, query).await
    }
}

/// The plan and its sections.
#[derive(Default)]
pub(crate) struct PlanQueryRoot;

/// The plan and its sections.
#[Object]
impl PlanQueryRoot {
    /// The work plan.
    async fn plan(&self, ctx: &Context<'_>) -> async_graphql::Result<Plan> {
        match plan(ctx)?.plan().await.gql()? {
            Some(plan) => Ok(Plan(plan)),
            None => Err(crate::error::to_graphql(&workplan_domain::Error::not_found("plan (none is loaded)", None))),
        }
    }

    /// The plan's sections, in order.
    async fn sections(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Section>> {
        Ok(plan(ctx)?.sections().await.gql()?.into_iter().map(Section).collect())
    }
}
