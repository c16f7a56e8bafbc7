//! Submitting a new report (or saving a draft).

use super::idempotency::{Request, idempotency};
use super::reporter::{resolve_reporter, task_by_number};
use crate::Result;
use crate::access::{Viewer, check_kind};
use crate::ports::{Clock, PlanReader, ReportWriter};
use crate::report::{NewReport, ProgressReport, ReportKind, ReportState, ReporterRef, SubmitReport};

/// Records a progress report (a draft when `as_draft`) for the token's own reporter, or for an
/// admin the `requested` one. Nothing is written unless every rule holds.
#[expect(clippy::too_many_arguments, reason = "the ports it uses, the clock, the caller and the request")]
pub async fn submit_report(
    plan: &dyn PlanReader,
    reports: &dyn ReportWriter,
    clock: &dyn Clock,
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
    if input.kind != ReportKind::Part {
        let responsibilities = plan.responsibilities_by_tasks(&[task.id]).await?;
        check_kind(principal.role, input.kind, reporter, &task, &responsibilities)?;
    }
    let request = Request::Submit { input: &input, requested: requested.as_ref(), as_draft };
    let idem = idempotency(idempotency_key, principal, request)?;
    let state = if as_draft { ReportState::Draft } else { ReportState::Submitted };
    let now = clock.now();
    let (submitted_at, first_submitted_at) = NewReport::times(state, now);
    let report = NewReport {
        task_id: task.id,
        reporter,
        fields,
        state,
        kind: input.kind,
        client_report_id: None,
        created_at: now,
        submitted_at,
        first_submitted_at,
        is_demo: false,
    };
    reports.create_report(principal, report, idem).await
}
