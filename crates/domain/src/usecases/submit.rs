//! Submitting a new report (or saving a draft).

use chrono::Utc;

use super::idempotency::{Request, idempotency};
use super::reporter::{resolve_reporter, task_by_number};
use crate::Result;
use crate::access::Viewer;
use crate::ports::{PlanReader, ReportWriter};
use crate::report::{NewReport, ProgressReport, ReportState, ReporterRef, SubmitReport};

/// Records a progress report (a draft when `as_draft`) for the token's own reporter, or for an
/// admin the `requested` one. Nothing is written unless every rule holds.
pub async fn submit_report(
    plan: &dyn PlanReader,
    reports: &dyn ReportWriter,
    viewer: &Viewer,
    input: SubmitReport,
    requested: Option<ReporterRef>,
    as_draft: bool,
    idempotency_key: Option<String>,
) -> Result<ProgressReport> {
    let principal = viewer.principal()?;
    let fields = input.validate_fields()?;
    let task = task_by_number(plan, input.task_number, "taskNumber").await?;
    let reporter = resolve_reporter(plan, principal, requested.as_ref(), &task).await?;
    let request = Request::Submit { input: &input, requested: requested.as_ref(), as_draft };
    let idem = idempotency(idempotency_key, principal, request)?;
    let state = if as_draft { ReportState::Draft } else { ReportState::Submitted };
    let report = NewReport {
        task_id: task.id,
        reporter,
        fields,
        state,
        client_report_id: None,
        submitted_at: Utc::now(),
        is_demo: false,
    };
    reports.create_report(principal, report, idem).await
}
