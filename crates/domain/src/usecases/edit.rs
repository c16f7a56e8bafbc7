//! Editing, withdrawing or reviewing a report.

use super::idempotency::{Request, idempotency};
use crate::Result;
use crate::access::Viewer;
use crate::ids::ReportId;
use crate::ports::{Clock, ReportWriter};
use crate::report::{Edit, ProgressReport};

/// Edits, withdraws or reviews a report at `expected_version`. The rules run in the store's
/// transaction, against the current row ([`crate::report::apply_edit`]).
pub async fn edit_report(
    reports: &dyn ReportWriter,
    clock: &dyn Clock,
    viewer: &Viewer,
    id: ReportId,
    expected_version: i32,
    edit: Edit,
    idempotency_key: Option<String>,
) -> Result<ProgressReport> {
    let principal = viewer.principal()?;
    let idem = idempotency(idempotency_key, principal, Request::Edit { id, expected_version, edit: &edit })?;
    reports.edit_report(principal, id, expected_version, edit, clock.now(), idem).await
}
