//! Progress reports: the report, its filters and lists, and submitting one.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Union};
use chrono::{DateTime, Utc};
use workplan_domain::access::{Viewer, can_edit, can_review};
use workplan_domain::ids::AgencyId;
use workplan_domain::listing::{Page, ReportFilter, ReportParent, ReportQuery};
use workplan_domain::report::{ReporterRef, SubmitReport};

use super::agency::Agency;
use super::history::HistoryEntry;
use super::official::{AcceptedReportVersion, listed};
use super::province::Province;
use super::report_filter::{ProgressReportFilter, report_query};
use super::task::Task;
use crate::connection::{Total, connection};
use crate::context::{clock, load, plan, reports, require, viewer, writer};
use crate::error::GqlResultExt;
use crate::ids::{self, Kind};
use crate::loaders::ReportPageOf;

/// A progress report on a task, from an agency or a province.
#[derive(Clone)]
pub(crate) struct ProgressReport(pub workplan_domain::report::ProgressReport);

/// Who filed a report.
#[derive(Union)]
pub(crate) enum Reporter {
    /// A central agency.
    Agency(Agency),
    /// A provincial-level government.
    Province(Province),
}

impl Reporter {
    /// The agency or province `reporter` names, through the request's loaders.
    pub(crate) async fn of(
        ctx: &Context<'_>,
        reporter: workplan_domain::report::Reporter,
    ) -> async_graphql::Result<Self> {
        Ok(match reporter {
            workplan_domain::report::Reporter::Agency(id) => Self::Agency(Agency(require(ctx, id).await?)),
            workplan_domain::report::Reporter::Province(id) => Self::Province(Province(require(ctx, id).await?)),
        })
    }
}

/// A progress report on a task, from an agency or a province.
#[Object]
impl ProgressReport {
    /// The report's global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::ProgressReport, self.0.id.0)
    }

    /// The task reported on.
    async fn task(&self, ctx: &Context<'_>) -> async_graphql::Result<Task> {
        require(ctx, self.0.task_id).await.map(Task)
    }

    /// Who filed the report.
    async fn reporter(&self, ctx: &Context<'_>) -> async_graphql::Result<Reporter> {
        Reporter::of(ctx, self.0.reporter).await
    }

    /// The period reported on: "2016", "2016-H2", "2016-Q3" or "2016-09".
    async fn period(&self) -> &str {
        &self.0.period
    }

    /// Where the task stands.
    async fn status(&self) -> ReportStatus {
        self.0.status.into()
    }

    /// How far along the task is, 0–100, if stated.
    async fn percent_complete(&self) -> Option<i32> {
        self.0.percent_complete
    }

    /// What was done.
    async fn summary(&self) -> &str {
        &self.0.summary
    }

    /// Links to evidence (http or https), as the URL standard spells them.
    async fn evidence_urls(&self) -> &[String] {
        &self.0.evidence_urls
    }

    /// How the work is going, as the reporter judges it; null if not said. Readers limited to
    /// accepted reports see a reopened report's accepted health.
    async fn health(&self) -> Option<Health> {
        self.0.health.map(Into::into)
    }

    /// What stands in the way, in the reporter's words; null if not said. Readers limited to
    /// accepted reports see a reopened report's accepted text.
    async fn obstacles(&self) -> Option<&str> {
        self.0.obstacles.as_deref()
    }

    /// When the report was last submitted for review; null for a draft never submitted.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }

    /// When the report was first submitted for review (timeliness is judged from it); null for
    /// a draft never submitted.
    async fn first_submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.first_submitted_at
    }

    /// When the report was created (submitted, or saved as a draft).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// PART (the reporter's own part) or CONSOLIDATED (a DIVIDED task's lead, on the whole
    /// task). At most one live report exists per reporter, task, period and kind.
    async fn kind(&self) -> ReportKind {
        self.0.kind.into()
    }

    /// Its content as last accepted, while it is official: the same as the report when it is
    /// ACCEPTED; while a reopened report is corrected (RETURNED, then SUBMITTED), the version
    /// that stays official. Null if it was never accepted.
    async fn accepted_version(&self) -> Option<AcceptedReportVersion> {
        self.0
            .accepted
            .clone()
            .filter(|_| self.0.state != workplan_domain::report::ReportState::Withdrawn)
            .map(AcceptedReportVersion::from)
    }

    /// The report's version, starting at 1.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// True for sample data made by `workplan seed --demo`, never for real reports.
    async fn is_demo(&self) -> bool {
        self.0.is_demo
    }

    /// Where the report is in its lifecycle; only ACCEPTED reports are official.
    async fn state(&self) -> ReportState {
        self.0.state.into()
    }

    /// The reporter's own stable id for the report (batch sync), if any.
    async fn client_report_id(&self) -> Option<&str> {
        self.0.client_report_id.as_deref()
    }

    /// The supervisor's comment (the reason, when returned). Null for anonymous callers.
    async fn review_comment(&self, ctx: &Context<'_>) -> Option<&str> {
        viewer(ctx).can_see_internals().then_some(self.0.review_comment.as_deref()).flatten()
    }

    /// When the report last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Every write to the report, oldest first: who, when, what, and each changed field's
    /// before and after. Needs a token. Read-only: history cannot be edited.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<HistoryEntry>> {
        viewer(ctx).principal().gql()?;
        let rows = load(ctx, crate::loaders::HistoryOf(self.0.id)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(|entry| HistoryEntry(entry, self.0.reporter)).collect())
    }

    /// Whether the caller may edit or withdraw this report now.
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> bool {
        match viewer(ctx) {
            Viewer::Token(p) => can_edit(p, &self.0).is_ok() && workplan_domain::report::can_change(&self.0),
            Viewer::Anonymous => false,
        }
    }

    /// Whether the caller may review this report now.
    async fn viewer_can_review(&self, ctx: &Context<'_>) -> bool {
        match viewer(ctx) {
            Viewer::Token(p) => can_review(p).is_ok() && workplan_domain::report::awaits_review(&self.0),
            Viewer::Anonymous => false,
        }
    }
}

/// A report's lifecycle state.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::report::ReportState")]
pub enum ReportState {
    /// Saved by its reporter, not yet submitted; only the reporter (and supervisors) see it.
    Draft,
    /// Waiting for review.
    Submitted,
    /// Accepted by a supervisor: official, and locked.
    Accepted,
    /// Returned by a supervisor with a reason; the reporter edits and resubmits it.
    Returned,
    /// Withdrawn by its reporter (a tombstone).
    Withdrawn,
}

/// What a report covers.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(remote = "workplan_domain::report::ReportKind")]
pub enum ReportKind {
    /// The reporter's own part of the task (an agency's or a province's own report).
    #[default]
    Part,
    /// The lead agency of a DIVIDED task reporting on the task as a whole.
    Consolidated,
}

/// Where a task stands, as reported.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::report::ReportStatus")]
pub enum ReportStatus {
    /// Work has not started (0% complete).
    NotStarted,
    /// Work is under way.
    InProgress,
    /// The task is done (100% complete).
    Completed,
    /// Continuous work with no end state.
    Ongoing,
}

/// How the work on a task is going, as its reporter judges it (optional on a report, like a
/// project update's health).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::report::Health")]
pub enum Health {
    /// Going to plan.
    OnTrack,
    /// At risk of missing its goals.
    AtRisk,
    /// Off track: it will miss its goals without intervention.
    OffTrack,
}

connection!(ProgressReportConnection, ProgressReportEdge, ProgressReport, "progress reports");

/// A connection of the reports on `page`, each as listed under `filter`.
pub(crate) fn report_connection(
    page: Page<workplan_domain::report::ProgressReport>,
    filter: &ReportFilter,
    total: Total,
) -> ProgressReportConnection {
    ProgressReportConnection {
        cursors: page.items.iter().map(|r| ids::cursor("report", &r.id.0.to_string())).collect(),
        items: page.items.into_iter().map(|r| listed(r, filter)).collect(),
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        total,
    }
}

/// A page of the reports of a task, agency or province, batched with its siblings.
pub(crate) async fn reports_of_parent(
    ctx: &Context<'_>,
    parent: ReportParent,
    id: i64,
    query: ReportQuery,
) -> async_graphql::Result<ProgressReportConnection> {
    let total = Total::ReportsOf(parent, id, query.filter.clone());
    let filter = query.filter.clone();
    let page = load(ctx, ReportPageOf(parent, id, query)).await?.unwrap_or_default();
    Ok(report_connection(page, &filter, total))
}

/// Who is reporting: exactly one of `agencyId` or `provinceCode`. Reporter tokens may omit it
/// (they report for their own agency or province); admins must give it.
#[derive(InputObject, Debug)]
pub(crate) struct ReporterInput {
    /// A central agency (an Agency ID). It must be responsible for the task.
    pub agency_id: Option<ID>,
    /// A province, by GB/T 2260 code (e.g. "440000").
    pub province_code: Option<String>,
}

/// A progress report to record.
#[derive(InputObject, Debug)]
pub(crate) struct SubmitProgressReportInput {
    /// The number of the task reported on (1–106).
    pub task_number: i32,
    /// Who is reporting. Optional for reporter tokens; required for admins.
    pub reporter: Option<ReporterInput>,
    /// The period reported on: a year ("2016"), half ("2016-H2"), quarter ("2016-Q3") or month
    /// ("2016-09").
    pub period: String,
    /// PART (default) or CONSOLIDATED (only a lead agency of a DIVIDED task). A second live
    /// report for the same reporter, task, period and kind is a CONFLICT naming the first
    /// (`extensions.existingReport`).
    #[graphql(default)]
    pub kind: ReportKind,
    /// Where the task stands.
    pub status: ReportStatus,
    /// How far along the task is, 0–100 (0 when NOT_STARTED, 100 when COMPLETED).
    pub percent_complete: Option<i32>,
    /// What was done: 1–5000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates.
    pub summary: String,
    /// Up to 10 http or https links: no user name or password, no whitespace, control or invisible
    /// characters (typed or percent-encoded); stored as the URL standard spells them
    /// (`HTTPS://EXAMPLE.ORG/x` is `https://example.org/x`).
    #[graphql(default)]
    pub evidence_urls: Vec<String>,
    /// How the work is going, if the reporter says.
    pub health: Option<Health>,
    /// What stands in the way: at most 2000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates. Trimmed, and blank is none.
    pub obstacles: Option<String>,
    /// Save as a DRAFT instead of submitting for review.
    #[graphql(default)]
    pub as_draft: bool,
    /// A key of the caller's choosing: retrying with the same key and input returns the first
    /// result instead of writing again; the same key with different input is a CONFLICT.
    pub idempotency_key: Option<String>,
}

impl ReporterInput {
    pub(crate) fn into_ref(self) -> async_graphql::Result<ReporterRef> {
        match (self.agency_id, self.province_code) {
            (Some(id), None) => Ok(ReporterRef::Agency(AgencyId(ids::decode(Kind::Agency, &id, "reporter.agencyId")?))),
            (None, Some(code)) => Ok(ReporterRef::Province(code)),
            _ => Err(crate::error::bad_input("reporter", "give exactly one of agencyId or provinceCode")),
        }
    }
}

impl SubmitProgressReportInput {
    /// The command, the named reporter, whether a draft, and the idempotency key.
    pub(crate) fn into_command(
        self,
    ) -> async_graphql::Result<(SubmitReport, Option<ReporterRef>, bool, Option<String>)> {
        let reporter = self.reporter.map(ReporterInput::into_ref).transpose()?;
        let command = SubmitReport {
            task_number: self.task_number,
            kind: self.kind.into(),
            content: workplan_domain::report::ReportContent {
                period: self.period,
                status: self.status.into(),
                percent_complete: self.percent_complete,
                summary: self.summary,
                evidence_urls: self.evidence_urls,
                health: self.health.map(Into::into),
                obstacles: self.obstacles,
            },
        };
        Ok((command, reporter, self.as_draft, self.idempotency_key))
    }
}

/// The result of `submitProgressReport`.
#[derive(SimpleObject)]
pub(crate) struct SubmitProgressReportPayload {
    /// The recorded report.
    pub report: ProgressReport,
}

/// Progress reports.
#[derive(Default)]
pub(crate) struct ReportQueryRoot;

/// Progress reports.
#[Object]
impl ReportQueryRoot {
    /// Progress reports, newest first, filtered and paginated.
    async fn progress_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only reports matching this filter.")] filter: Option<ProgressReportFilter>,
        #[graphql(desc = "Return the first n reports (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return reports after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n reports (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return reports before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<ProgressReportConnection> {
        let query = report_query(ctx, filter, first, after, last, before)?;
        let page = reports(ctx)?.list_reports(&query).await.gql()?;
        Ok(report_connection(page, &query.filter, Total::Reports(query.filter.clone())))
    }
}

/// Submitting progress reports.
#[derive(Default)]
pub(crate) struct ReportMutationRoot;

/// Submitting progress reports.
#[Object]
impl ReportMutationRoot {
    /// Records a progress report: SUBMITTED for review, or a DRAFT. The reporter comes from the
    /// token; an admin names it. On any error nothing is written and `extensions.field` names
    /// the input field at fault.
    async fn submit_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report.")] input: SubmitProgressReportInput,
    ) -> async_graphql::Result<SubmitProgressReportPayload> {
        let (command, reporter, as_draft, key) = input.into_command()?;
        let report = workplan_domain::usecases::submit_report(
            plan(ctx)?.as_ref(),
            writer(ctx)?.as_ref(),
            clock(ctx),
            viewer(ctx),
            command,
            reporter,
            as_draft,
            key,
        )
        .await
        .gql()?;
        Ok(SubmitProgressReportPayload { report: ProgressReport(report) })
    }
}
