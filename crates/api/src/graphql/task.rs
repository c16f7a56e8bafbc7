//! Tasks and who is responsible for them: the task, its responsibilities, its filters and lists.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use workplan_domain::access::Viewer;
use workplan_domain::ids::{AgencyId, SectionId, SubsectionId};
use workplan_domain::listing::{
    MAX_TASK_PAGE_SIZE, PageRequest, ReportFilter, ReportParent, ReportQuery, TaskFilter, TaskPage, TaskParent,
    TaskQuery, TaskSort,
};
use workplan_domain::plan::Role;
use workplan_domain::report::ReportState;

use super::agency::Agency;
use super::plan::{Section, Subsection};
use super::report::{ProgressReport, ProgressReportConnection, reports_of_parent};
use super::report_filter::{ProgressReportFilter, report_query};
use crate::connection::{OrderDirection, Total, connection};
use crate::context::{load, plan, require, scope, viewer};
use crate::error::GqlResultExt;
use crate::ids::{self, Kind};
use crate::loaders::{ReportPageOf, ResponsibilitiesOfTask, TaskNumber, TaskPageOf, prefetch_report_pages};

/// A numbered key task of the plan.
#[derive(Clone)]
pub(crate) struct Task(pub workplan_domain::plan::Task);

/// A numbered key task of the plan.
#[Object]
impl Task {
    /// The task's global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Task, self.0.id.0)
    }

    /// The task's number in the plan (1–106), as printed.
    async fn number(&self) -> i32 {
        self.0.number
    }

    /// What must be done, as printed (without the list of agencies).
    async fn text(&self) -> &str {
        &self.0.text
    }

    /// The section the task is in.
    async fn section(&self, ctx: &Context<'_>) -> async_graphql::Result<Section> {
        require(ctx, self.0.section_id).await.map(Section)
    }

    /// The subsection the task is in.
    async fn subsection(&self, ctx: &Context<'_>) -> async_graphql::Result<Subsection> {
        require(ctx, self.0.subsection_id).await.map(Subsection)
    }

    /// Whether the agencies answer for the task together or each for its own part.
    async fn responsibility_mode(&self) -> ResponsibilityMode {
        self.0.mode.into()
    }

    /// How far along the task is, derived from ACCEPTED reports of its responsible agencies
    /// (docs/supervision.md, "Derived status"), with the reports used and an explanation.
    async fn progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period (any key, e.g. \"2016-Q4\"): reports for periods ending by its end count. \
                          Absent: the latest scheduled period whose due date has passed, else the earliest scheduled.")]
        period: Option<String>,
    ) -> async_graphql::Result<super::progress::Progress> {
        super::progress::Progress::of_task(ctx, &self.0, period).await
    }

    /// Every responsible agency in the order the plan lists them, with its role.
    async fn responsibilities(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Responsibility>> {
        let rows = load(ctx, ResponsibilitiesOfTask(self.0.id)).await?.unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|(r, a)| Responsibility { responsibility: r, agency: Some(a), task: Some(self.0.clone()) })
            .collect())
    }

    /// The agencies that lead the task, in listed order.
    async fn lead_agencies(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Agency>> {
        let rows = load(ctx, ResponsibilitiesOfTask(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().filter(|(r, _)| r.role == Role::Lead).map(|(_, a)| Agency(a)).collect())
    }

    /// Progress reports on this task, newest first.
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
        reports_of_parent(ctx, ReportParent::Task, self.0.id.0, query).await
    }

    /// The most recently submitted report on this task, if any.
    async fn latest_report(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProgressReport>> {
        latest(ctx, self.0.id.0, None).await
    }

    /// The most recently submitted ACCEPTED report on this task: its official status. A report
    /// reopened for correction still counts, as its accepted version.
    async fn latest_accepted_report(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProgressReport>> {
        latest(ctx, self.0.id.0, Some(ReportState::Accepted)).await
    }

    /// Whether the caller may file a report on this task: a province reporter always, an agency
    /// reporter when its agency is responsible, an admin always.
    async fn viewer_can_report(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let Viewer::Token(p) = viewer(ctx) else { return Ok(false) };
        let rows = load(ctx, ResponsibilitiesOfTask(self.0.id)).await?.unwrap_or_default();
        let agencies: Vec<_> = rows.iter().map(|(r, _)| r.agency_id).collect();
        Ok(workplan_domain::access::may_report_on(p, &agencies))
    }
}

/// The key of the newest report on a task the caller may see (in `state`, if given).
fn latest_key(ctx: &Context<'_>, task: i64, state: Option<ReportState>) -> async_graphql::Result<ReportPageOf> {
    let filter = ReportFilter { state, ..ReportFilter::new(scope(ctx)?) };
    let query = ReportQuery {
        filter,
        page: PageRequest::first(1),
        oldest_first: false,
        order: workplan_domain::listing::ReportOrder::Submitted,
    };
    Ok(ReportPageOf(ReportParent::Task, task, query))
}

/// The newest report on a task the caller may see (in `state`, if given).
async fn latest(
    ctx: &Context<'_>,
    task: i64,
    state: Option<ReportState>,
) -> async_graphql::Result<Option<ProgressReport>> {
    let key = latest_key(ctx, task, state)?;
    let listed_under = key.2.filter.clone();
    let page = load(ctx, key).await?;
    Ok(page.and_then(|p| p.items.into_iter().next()).map(|r| super::official::listed(r, &listed_under)))
}

/// Looks ahead into the selection on a page of tasks: when its tasks' `latestReport` or
/// `latestAcceptedReport` will be asked for, fetches them for the whole page in one batch now
/// (see [`prefetch_report_pages`]).
async fn prefetch_latest(ctx: &Context<'_>, tasks: &[Task]) -> async_graphql::Result<()> {
    let ahead = ctx.look_ahead();
    let (nodes, edges) = (ahead.field("nodes"), ahead.field("edges").field("node"));
    let mut keys = Vec::new();
    for (field, state) in [("latestReport", None), ("latestAcceptedReport", Some(ReportState::Accepted))] {
        if nodes.field(field).exists() || edges.field(field).exists() {
            for task in tasks {
                keys.push(latest_key(ctx, task.0.id.0, state)?);
            }
        }
    }
    prefetch_report_pages(ctx, keys).await
}

/// One agency's place on one task.
#[derive(Clone)]
pub(crate) struct Responsibility {
    pub(crate) responsibility: workplan_domain::plan::Responsibility,
    /// The agency, when it was fetched along with the responsibility.
    pub(crate) agency: Option<workplan_domain::agency::Agency>,
    /// The task, when it was fetched along with the responsibility.
    pub(crate) task: Option<workplan_domain::plan::Task>,
}

/// One agency's place on one task.
#[Object]
impl Responsibility {
    /// The responsible agency.
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Agency> {
        match &self.agency {
            Some(agency) => Ok(Agency(agency.clone())),
            None => require(ctx, self.responsibility.agency_id).await.map(Agency),
        }
    }

    /// The task.
    async fn task(&self, ctx: &Context<'_>) -> async_graphql::Result<Task> {
        match &self.task {
            Some(task) => Ok(Task(task.clone())),
            None => require(ctx, self.responsibility.task_id).await.map(Task),
        }
    }

    /// LEAD or PARTICIPANT.
    async fn role(&self) -> ResponsibilityRole {
        self.responsibility.role.into()
    }

    /// 1-based position in the task's list of agencies, as printed.
    async fn position(&self) -> i32 {
        self.responsibility.position
    }

    /// How far along this agency's own part is: its latest accepted PART report on the task
    /// for a period up to and including `period`.
    async fn progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period (any key); absent: as for `Task.progress`.")] period: Option<String>,
    ) -> async_graphql::Result<super::progress::Progress> {
        let party = workplan_domain::report::Reporter::Agency(self.responsibility.agency_id);
        super::progress::Progress::of_part(ctx, self.responsibility.task_id, party, period).await
    }
}

/// Whether a task's agencies answer for it together or each for its own part.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::plan::ResponsibilityMode")]
pub enum ResponsibilityMode {
    /// The agencies answer for the task together; the leads coordinate.
    Joint,
    /// "Responsible for the various tasks based on the division of responsibilities": each
    /// agency answers for its own part; the first listed still leads.
    Divided,
}

/// An agency's role on a task.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::plan::Role")]
pub enum ResponsibilityRole {
    /// Leads the task: the first agency listed, or every agency the text says "take the lead".
    Lead,
    /// Takes part under the leads.
    Participant,
}

/// Which tasks to list. All conditions must hold.
#[derive(InputObject, Default, Debug)]
#[graphql(name = "TaskFilter")]
pub(crate) struct TaskFilterInput {
    /// Only tasks in this section (a Section ID).
    pub section: Option<ID>,
    /// Only tasks in the section with this numeral, typed as printed or as a number: "III",
    /// "iii", "3", "三" and "（三）" are the same section.
    pub section_numeral: Option<String>,
    /// Only tasks in this subsection (a Subsection ID).
    pub subsection: Option<ID>,
    /// Only tasks in subsections with this numeral ("ii", "2", "二", "（二）"), in every section
    /// unless `section` or `sectionNumeral` picks one.
    pub subsection_numeral: Option<String>,
    /// Only tasks this agency is responsible for (an Agency ID).
    pub agency: Option<ID>,
    /// Only tasks an agency known by this name is responsible for: its English or Chinese
    /// name, abbreviation or any alias, ignoring case ("MOFCOM", "商务部"). An unknown name
    /// matches no task.
    pub agency_name: Option<String>,
    /// With `agency` or `agencyName`: only tasks where it has this role.
    pub role: Option<ResponsibilityRole>,
    /// Only tasks with this responsibility mode.
    pub mode: Option<ResponsibilityMode>,
    /// Only tasks whose text contains this, ignoring case (at most 200 characters).
    pub search: Option<String>,
}

impl TaskFilterInput {
    pub(crate) fn into_domain(self) -> async_graphql::Result<TaskFilter> {
        let decode = |kind, id: Option<ID>, field: &str| id.map(|id| ids::decode(kind, &id, field)).transpose();
        TaskFilter {
            section: decode(Kind::Section, self.section, "filter.section")?.map(SectionId),
            subsection: decode(Kind::Subsection, self.subsection, "filter.subsection")?.map(SubsectionId),
            agency: decode(Kind::Agency, self.agency, "filter.agency")?.map(AgencyId),
            role: self.role.map(Into::into),
            mode: self.mode.map(Into::into),
            search: self.search,
            section_numeral: self.section_numeral,
            subsection_numeral: self.subsection_numeral,
            agency_name: self.agency_name,
        }
        .validated("filter")
        .gql()
    }
}

/// What to sort tasks by. Ties go by task number, in the same direction.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum TaskOrderField {
    /// The task number.
    #[default]
    Number,
    /// The section's position in the plan, then the task number.
    Section,
    /// The English name of the task's first-listed lead agency, compared character by
    /// character (upper case before lower case), then the task number.
    LeadAgency,
}

impl From<TaskOrderField> for TaskSort {
    fn from(f: TaskOrderField) -> Self {
        match f {
            TaskOrderField::Number => Self::Number,
            TaskOrderField::Section => Self::Section,
            TaskOrderField::LeadAgency => Self::LeadAgency,
        }
    }
}

/// How to sort tasks.
#[derive(InputObject, Debug, Default)]
pub(crate) struct TaskOrder {
    /// The field to sort by.
    #[graphql(default)]
    pub field: TaskOrderField,
    /// The direction.
    #[graphql(default)]
    pub direction: OrderDirection,
}

connection!(TaskConnection, TaskEdge, Task, "tasks");

/// Builds a task query from Relay arguments.
pub(crate) fn task_query(
    filter: Option<TaskFilterInput>,
    order_by: Option<TaskOrder>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<TaskQuery> {
    let order_by = order_by.unwrap_or_default();
    TaskQuery {
        filter: filter.unwrap_or_default().into_domain()?,
        sort: order_by.field.into(),
        order: order_by.direction.into(),
        page: PageRequest::with_max_first(
            MAX_TASK_PAGE_SIZE,
            first,
            crate::ids::parse_cursor("task", after, "after")?,
            last,
            crate::ids::parse_cursor("task", before, "before")?,
        )
        .gql()?,
    }
    .validated()
    .gql()
}

pub(crate) fn task_connection(page: TaskPage, total: Total) -> TaskConnection {
    TaskConnection {
        cursors: page.items.iter().map(|(key, _)| ids::cursor("task", &key.to_string())).collect(),
        items: page.items.into_iter().map(|(_, t)| Task(t)).collect(),
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        total,
    }
}

/// A page of the tasks of a section or subsection, batched with its siblings.
pub(crate) async fn tasks_of_parent(
    ctx: &Context<'_>,
    parent: TaskParent,
    id: i64,
    query: TaskQuery,
) -> async_graphql::Result<TaskConnection> {
    let total = Total::TasksOf(parent, id, query.filter.clone());
    let page = load(ctx, TaskPageOf(parent, id, query)).await?.unwrap_or_default();
    let connection = task_connection(page, total);
    prefetch_latest(ctx, &connection.items).await?;
    Ok(connection)
}

/// Tasks.
#[derive(Default)]
pub(crate) struct TaskQueryRoot;

/// Tasks.
#[Object]
impl TaskQueryRoot {
    /// A task by its number, or null if there is no such task.
    async fn task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The task number (1–106).")] number: i32,
    ) -> async_graphql::Result<Option<Task>> {
        Ok(load(ctx, TaskNumber(number)).await?.map(Task))
    }

    /// Tasks, filtered and paginated.
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
        let page = plan(ctx)?.list_tasks(&query).await.gql()?;
        let connection = task_connection(page, Total::Tasks(query.filter));
        prefetch_latest(ctx, &connection.items).await?;
        Ok(connection)
    }
}
