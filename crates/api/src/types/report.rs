//! Progress reports.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject, Union};
use chrono::{DateTime, Utc};
use workplan_domain::model as m;
use workplan_domain::page::{Page, ReportFilter, ReportParent, ReportQuery};
use workplan_domain::report::{Period, ReporterRef, SubmitReport};

use super::agency::Agency;
use super::province::Province;
use super::task::Task;
use super::{ReportStatus, Total, connection, load, page_request, require};
use crate::error::GqlResultExt;
use crate::ids::{self, Kind};
use crate::loaders::ReportPageOf;

/// A progress report on a task, from an agency or a province.
#[derive(Clone)]
pub struct ProgressReport(pub m::ProgressReport);

/// Who filed a report.
#[derive(Union)]
pub enum Reporter {
    /// A central agency.
    Agency(Agency),
    /// A provincial-level government.
    Province(Province),
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
        Ok(match self.0.reporter {
            m::Reporter::Agency(id) => Reporter::Agency(Agency(require(ctx, id).await?)),
            m::Reporter::Province(id) => Reporter::Province(Province(require(ctx, id).await?)),
        })
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

    /// Links to evidence (http or https).
    async fn evidence_urls(&self) -> &[String] {
        &self.0.evidence_urls
    }

    /// When the report was submitted.
    async fn submitted_at(&self) -> DateTime<Utc> {
        self.0.submitted_at
    }

    /// The report's version, starting at 1.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// True for sample data made by `workplan seed --demo`, never for real reports.
    async fn is_demo(&self) -> bool {
        self.0.is_demo
    }
}

/// Which reports to list. All conditions must hold.
#[derive(InputObject, Default, Debug)]
pub struct ProgressReportFilter {
    /// Only reports on the task with this number.
    pub task_number: Option<i32>,
    /// Only reports filed by this agency (an Agency ID).
    pub agency: Option<ID>,
    /// Only reports filed by the province with this GB/T 2260 code.
    pub province_code: Option<String>,
    /// Only reports on exactly this period ("2016", "2016-H2", "2016-Q3" or "2016-09").
    pub period: Option<String>,
    /// Only reports with this status.
    pub status: Option<ReportStatus>,
    /// Only demo reports (true) or only real ones (false).
    pub demo: Option<bool>,
}

impl ProgressReportFilter {
    fn into_domain(self) -> async_graphql::Result<ReportFilter> {
        let agency = self
            .agency
            .map(|id| ids::decode(Kind::Agency, &id, "filter.agency"))
            .transpose()?;
        let period = self
            .period
            .map(|p| Period::parse(p.trim()).map(|p| p.to_string()))
            .transpose()
            .map_err(|e| match e {
                workplan_domain::Error::Validation { message, .. } => {
                    workplan_domain::Error::validation("filter.period", message)
                }
                other => other,
            })
            .gql()?;
        Ok(ReportFilter {
            task_number: self.task_number,
            agency: agency.map(m::AgencyId),
            province_code: self.province_code,
            period,
            status: self.status.map(Into::into),
            demo: self.demo,
        })
    }
}

connection!(
    ProgressReportConnection,
    ProgressReportEdge,
    ProgressReport,
    "progress reports"
);

/// Builds a report query from Relay arguments.
pub(crate) fn report_query(
    filter: Option<ProgressReportFilter>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<ReportQuery> {
    Ok(ReportQuery {
        filter: filter.unwrap_or_default().into_domain()?,
        page: page_request("report", first, after, last, before)?,
    })
}

pub(crate) fn report_connection(
    page: Page<m::ProgressReport>,
    total: Total,
) -> ProgressReportConnection {
    ProgressReportConnection {
        cursors: page
            .items
            .iter()
            .map(|r| ids::cursor("report", &r.id.0.to_string()))
            .collect(),
        items: page.items.into_iter().map(ProgressReport).collect(),
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        total,
    }
}

/// A page of the reports of a task, agency or province, batched with its siblings.
pub(crate) async fn nested(
    ctx: &Context<'_>,
    parent: ReportParent,
    id: i64,
    query: ReportQuery,
) -> async_graphql::Result<ProgressReportConnection> {
    let total = Total::ReportsOf(parent, id, query.filter.clone());
    let page = load(ctx, ReportPageOf(parent, id, query))
        .await?
        .unwrap_or_default();
    Ok(report_connection(page, total))
}

/// Who is reporting: exactly one of `agencyId` or `provinceCode`.
#[derive(InputObject, Debug)]
pub struct ReporterInput {
    /// A central agency (an Agency ID). It must be responsible for the task.
    pub agency_id: Option<ID>,
    /// A province, by GB/T 2260 code (e.g. "440000").
    pub province_code: Option<String>,
}

/// A progress report to record.
#[derive(InputObject, Debug)]
pub struct SubmitProgressReportInput {
    /// The number of the task reported on (1–106).
    pub task_number: i32,
    /// Who is reporting.
    pub reporter: ReporterInput,
    /// The period reported on: a year ("2016"), half ("2016-H2"), quarter ("2016-Q3") or month
    /// ("2016-09").
    pub period: String,
    /// Where the task stands.
    pub status: ReportStatus,
    /// How far along the task is, 0–100 (0 when NOT_STARTED, 100 when COMPLETED).
    pub percent_complete: Option<i32>,
    /// What was done: 1–5000 characters, no NUL.
    pub summary: String,
    /// Up to 10 http or https links to evidence.
    #[graphql(default)]
    pub evidence_urls: Vec<String>,
}

impl SubmitProgressReportInput {
    pub(crate) fn into_command(self) -> async_graphql::Result<SubmitReport> {
        let reporter = match (self.reporter.agency_id, self.reporter.province_code) {
            (Some(id), None) => ReporterRef::Agency(m::AgencyId(ids::decode(
                Kind::Agency,
                &id,
                "reporter.agencyId",
            )?)),
            (None, Some(code)) => ReporterRef::Province(code),
            _ => {
                return Err(crate::error::bad_input(
                    "reporter",
                    "give exactly one of agencyId or provinceCode",
                ));
            }
        };
        Ok(SubmitReport {
            task_number: self.task_number,
            reporter,
            period: self.period,
            status: self.status.into(),
            percent_complete: self.percent_complete,
            summary: self.summary,
            evidence_urls: self.evidence_urls,
        })
    }
}

/// The result of `submitProgressReport`.
#[derive(SimpleObject)]
pub struct SubmitProgressReportPayload {
    /// The recorded report.
    pub report: ProgressReport,
}
