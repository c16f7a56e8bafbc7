//! What stays official while a report is corrected: its last accepted version, and how readers
//! limited to accepted reports (and lists of ACCEPTED reports) see a reopened report.

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use workplan_domain::listing::ReportFilter;
use workplan_domain::report::{AcceptedVersion, ReportState};

use super::report::{Health, ProgressReport, ReportStatus};
use crate::context::scope;

/// A report's content as it was last accepted.
pub(crate) struct AcceptedReportVersion(AcceptedVersion);

impl From<AcceptedVersion> for AcceptedReportVersion {
    fn from(v: AcceptedVersion) -> Self {
        Self(v)
    }
}

/// A report's content as it was last accepted: what stays official while it is corrected.
#[Object]
impl AcceptedReportVersion {
    /// The report's version when it was accepted.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The period reported on.
    async fn period(&self) -> &str {
        &self.0.period
    }

    /// Where the task stood.
    async fn status(&self) -> ReportStatus {
        self.0.status.into()
    }

    /// How far along the task was, 0–100, if stated.
    async fn percent_complete(&self) -> Option<i32> {
        self.0.percent_complete
    }

    /// What was done.
    async fn summary(&self) -> &str {
        &self.0.summary
    }

    /// Links to evidence.
    async fn evidence_urls(&self) -> &[String] {
        &self.0.evidence_urls
    }

    /// How the work was going, as the reporter judged it; null if not said.
    async fn health(&self) -> Option<Health> {
        self.0.health.map(Into::into)
    }

    /// What stood in the way; null if not said.
    async fn obstacles(&self) -> Option<&str> {
        self.0.obstacles.as_deref()
    }

    /// When it was accepted.
    async fn accepted_at(&self) -> DateTime<Utc> {
        self.0.accepted_at
    }
}

/// `report` as the caller sees it (a reopened report as its accepted version, for those limited
/// to accepted reports), or `None` if the caller may not read it.
pub(crate) fn seen(
    ctx: &Context<'_>,
    report: workplan_domain::report::ProgressReport,
) -> async_graphql::Result<Option<ProgressReport>> {
    let scope = scope(ctx)?;
    Ok(report.readable_within(&scope).then(|| ProgressReport(report.as_seen_within(&scope))))
}

/// `report`, listed under `filter`: as it officially stands in a list of ACCEPTED reports (a
/// reopened report as its accepted version), otherwise as the filter's scope sees it.
pub(crate) fn listed(report: workplan_domain::report::ProgressReport, filter: &ReportFilter) -> ProgressReport {
    ProgressReport(match filter.state {
        Some(ReportState::Accepted) => report.as_official(),
        _ => report.as_seen_within(&filter.scope),
    })
}
