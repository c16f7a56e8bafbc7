//! Batch sync: many reports from one reporter, checked item by item, applied together.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::reporter::reporter_for;
use crate::access::{Principal, Viewer, check_kind, check_responsible};
use crate::ids::AgencyId;
use crate::plan::{Responsibility, Task};
use crate::ports::{Clock, PlanReader, ReportWriter, SyncItemResult};
use crate::report::sync::{MAX_BATCH, RejectReason, SyncOutcome, ValidSyncItem, check_client_id};
use crate::report::{Reporter, ReporterRef, SubmitReport};
use crate::token::AccessRole;
use crate::{Error, Result};

/// One item of a batch, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncItemInput {
    /// The reporter's own stable id for the report.
    pub client_report_id: String,
    /// The report.
    pub report: SubmitReport,
    /// ADMIN only: when the report was originally submitted (importing historical reports).
    pub submitted_at: Option<DateTime<Utc>>,
}

/// What every item of a batch is checked against, read once for the whole batch.
struct Batch<'a> {
    principal: &'a Principal,
    reporter: Reporter,
    tasks: Vec<Task>,
    responsibilities: Vec<Responsibility>,
    seen: HashSet<String>,
    now: DateTime<Utc>,
}

impl Batch<'_> {
    /// Every check on one item that needs no stored report.
    fn check(&mut self, index: usize, item: &SyncItemInput) -> Result<ValidSyncItem> {
        check_client_id(&item.client_report_id, "clientReportId")?;
        if !self.seen.insert(item.client_report_id.clone()) {
            return Err(Error::validation("clientReportId", "appears twice in this batch"));
        }
        let fields = item.report.validate_fields()?;
        let number = item.report.task_number;
        let task = self
            .tasks
            .iter()
            .find(|t| t.number == number)
            .ok_or_else(|| Error::not_found(format!("task {number}"), Some("taskNumber")))?;
        if let Reporter::Agency(agency) = self.reporter {
            let agencies: Vec<AgencyId> =
                self.responsibilities.iter().filter(|r| r.task_id == task.id).map(|r| r.agency_id).collect();
            check_responsible(self.principal.role, agency, &agencies, task.number)?;
        }
        let kind = item.report.kind;
        check_kind(self.principal.role, kind, self.reporter, task, &self.responsibilities)?;
        if let Some(at) = item.submitted_at {
            if self.principal.role != AccessRole::Admin {
                return Err(Error::Forbidden("only an admin may give a report's original submittedAt".into()));
            }
            if at > self.now {
                return Err(Error::validation("submittedAt", "must not be in the future"));
            }
            if at < fields.period.starts_at() {
                return Err(Error::validation("submittedAt", "must not be before the period it reports on starts"));
            }
        }
        Ok(ValidSyncItem {
            index,
            client_report_id: item.client_report_id.clone(),
            task_id: task.id,
            kind,
            fields,
            backfilled_at: item.submitted_at,
        })
    }
}

/// Applies a batch for the token's reporter (an admin names one). Invalid items are rejected
/// one by one; the valid ones apply together in one transaction.
pub async fn sync_reports(
    plan: &dyn PlanReader,
    reports: &dyn ReportWriter,
    clock: &dyn Clock,
    viewer: &Viewer,
    items: Vec<SyncItemInput>,
    requested: Option<ReporterRef>,
    dry_run: bool,
) -> Result<Vec<SyncItemResult>> {
    let principal = viewer.principal()?;
    if items.len() > MAX_BATCH {
        return Err(Error::validation("reports", format!("at most {MAX_BATCH} items per batch, got {}", items.len())));
    }
    if principal.role == AccessRole::Admin && requested.is_none() {
        return Err(Error::validation("reporter", "an admin must name the reporter it syncs for"));
    }
    let mut numbers: Vec<i32> = items.iter().map(|i| i.report.task_number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let tasks = plan.tasks_by_numbers(&numbers).await?;
    let responsibilities = plan.responsibilities_by_tasks(&tasks.iter().map(|t| t.id).collect::<Vec<_>>()).await?;
    let reporter = reporter_for(plan, principal, requested.as_ref()).await?;
    let now = clock.now();
    let mut batch = Batch { principal, reporter, tasks, responsibilities, seen: HashSet::new(), now };

    let mut results: Vec<SyncItemResult> = Vec::new();
    let mut valid: Vec<ValidSyncItem> = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match batch.check(index, &item) {
            Ok(v) => valid.push(v),
            Err(e) => results.push(SyncItemResult {
                index,
                client_report_id: item.client_report_id,
                outcome: SyncOutcome::Rejected,
                report: None,
                error: Some(RejectReason::Invalid(e)),
            }),
        }
    }
    results.extend(reports.sync_reports(principal, reporter, valid, dry_run, now).await?);
    results.sort_by_key(|r| r.index);
    if dry_run {
        // A dry run creates nothing: a report it would create has no id yet.
        for r in &mut results {
            if r.outcome == SyncOutcome::Created {
                r.report = None;
            }
        }
    }
    Ok(results)
}
