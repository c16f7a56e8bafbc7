//! Batch sync: a reporter's reports keyed by its own ids, applied in one transaction.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use workplan_domain::ports::SyncItemResult;
use workplan_domain::report::sync::SyncOutcome as DomainOutcome;
use workplan_domain::usecases::SyncItemInput;

use super::report::{Health, ProgressReport, ReportKind, ReportStatus, ReporterInput};
use crate::context::{clock, plan, viewer, writer};
use crate::error::{GqlResultExt, code};
use crate::metrics::Metrics;

/// One item of a batch: a report keyed by the caller's own id.
#[derive(InputObject, Debug)]
pub(crate) struct SyncProgressReportItem {
    /// The caller's own stable id for this report (at most 255 characters). Re-sending the
    /// same id updates the same report; it never creates a second one.
    pub client_report_id: String,
    /// The number of the task reported on.
    pub task_number: i32,
    /// The period reported on: "2016", "2016-H2", "2016-Q3" or "2016-09".
    pub period: String,
    /// PART (default) or CONSOLIDATED (only a lead agency of a DIVIDED task). A live report of
    /// the same reporter, task, period and kind that has no clientReportId is adopted; one held
    /// by another clientReportId makes this item a CONFLICT.
    #[graphql(default)]
    pub kind: ReportKind,
    /// Where the task stands.
    pub status: ReportStatus,
    /// How far along the task is, 0–100.
    pub percent_complete: Option<i32>,
    /// What was done: 1–5000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates.
    pub summary: String,
    /// Up to 10 http or https links: no user name or password, no whitespace, control or invisible
    /// characters (typed or percent-encoded); stored as the URL standard spells them
    /// (`HTTPS://EXAMPLE.ORG/x` is `https://example.org/x`).
    #[graphql(default)]
    pub evidence_urls: Vec<String>,
    /// How the work is going, if the reporter says (an item without it clears it).
    pub health: Option<Health>,
    /// What stands in the way: at most 2000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates. Trimmed, and blank is none
    /// (an item without it clears it).
    pub obstacles: Option<String>,
    /// ADMIN only (others: the item is FORBIDDEN): when the report was originally submitted,
    /// for importing historical reports: not in the future, nor before its period starts. The
    /// report is stored as created, first and last submitted then, and its history records the
    /// action BACKFILL with a `submittedAt` change.
    pub submitted_at: Option<DateTime<Utc>>,
}

/// A batch of reports from one reporter (the token's; an admin names one).
#[derive(InputObject, Debug)]
pub(crate) struct SyncProgressReportsInput {
    /// At most 500 items.
    pub reports: Vec<SyncProgressReportItem>,
    /// Check and report what would happen, writing nothing.
    #[graphql(default)]
    pub dry_run: bool,
    /// For admins: the reporter the batch is for.
    pub reporter: Option<ReporterInput>,
}

impl SyncProgressReportsInput {
    pub(crate) fn into_items(
        self,
    ) -> async_graphql::Result<(Vec<SyncItemInput>, Option<workplan_domain::report::ReporterRef>, bool)> {
        let reporter = self.reporter.map(ReporterInput::into_ref).transpose()?;
        let items = self
            .reports
            .into_iter()
            .map(|i| SyncItemInput {
                client_report_id: i.client_report_id,
                report: workplan_domain::report::SubmitReport {
                    task_number: i.task_number,
                    kind: i.kind.into(),
                    content: workplan_domain::report::ReportContent {
                        period: i.period,
                        status: i.status.into(),
                        percent_complete: i.percent_complete,
                        summary: i.summary,
                        evidence_urls: i.evidence_urls,
                        health: i.health.map(Into::into),
                        obstacles: i.obstacles,
                    },
                },
                submitted_at: i.submitted_at,
            })
            .collect();
        Ok((items, reporter, self.dry_run))
    }
}

/// What a batch item did.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SyncOutcome {
    /// A new report was created.
    Created,
    /// The report existed and changed: it was updated, its version bumped, and resubmitted.
    Updated,
    /// The report existed and was identical: nothing was written.
    Unchanged,
    /// The item was not applied: see `errorCode` and `message`.
    Rejected,
}

impl From<DomainOutcome> for SyncOutcome {
    fn from(o: DomainOutcome) -> Self {
        match o {
            DomainOutcome::Created => Self::Created,
            DomainOutcome::Updated => Self::Updated,
            DomainOutcome::Unchanged => Self::Unchanged,
            DomainOutcome::Rejected => Self::Rejected,
        }
    }
}

/// The result of one batch item.
#[derive(SimpleObject)]
pub(crate) struct SyncResult {
    /// The item's position in the batch (0-based).
    pub index: i32,
    /// The item's clientReportId.
    pub client_report_id: String,
    /// What happened.
    pub outcome: SyncOutcome,
    /// The report as it stands (absent when the item was invalid, and in a dry run for a
    /// report that does not exist yet).
    pub report: Option<ProgressReport>,
    /// Why it was rejected, as the GraphQL error codes: BAD_USER_INPUT, NOT_FOUND, FORBIDDEN or
    /// CONFLICT (also for a report that is accepted or withdrawn).
    pub code: Option<String>,
    /// The item's input field the rejection is about, when one is (e.g. `period`,
    /// `evidenceUrls[0]`, `taskNumber`).
    pub field: Option<String>,
    /// Why it was rejected: BAD_USER_INPUT, NOT_FOUND, FORBIDDEN, CONFLICT or LOCKED.
    #[graphql(deprecation = "Use `code` (LOCKED is CONFLICT there) and `field`.")]
    pub error_code: Option<String>,
    /// What was wrong, naming the field.
    pub message: Option<String>,
}

/// The import summary of a batch. Invalid items are rejected one by one; the valid items of
/// the same batch still apply, all together in one transaction (none of them if it fails).
#[derive(SimpleObject)]
pub(crate) struct SyncProgressReportsPayload {
    /// Whether this was a dry run (nothing written).
    pub dry_run: bool,
    /// How many items created a report.
    pub created: i32,
    /// How many updated one.
    pub updated: i32,
    /// How many changed nothing.
    pub unchanged: i32,
    /// How many were rejected.
    pub rejected: i32,
    /// One result per item, in batch order.
    pub results: Vec<SyncResult>,
}

impl SyncProgressReportsPayload {
    pub(crate) fn from_results(results: Vec<SyncItemResult>, dry_run: bool) -> Self {
        let count = |o: DomainOutcome| results.iter().filter(|r| r.outcome == o).count() as i32;
        Self {
            dry_run,
            created: count(DomainOutcome::Created),
            updated: count(DomainOutcome::Updated),
            unchanged: count(DomainOutcome::Unchanged),
            rejected: count(DomainOutcome::Rejected),
            results: results
                .into_iter()
                .map(|r| {
                    let (error_code, message) = r.error.as_ref().map(crate::error::sync_rejection).unzip();
                    let code = error_code.map(|c| if c == code::LOCKED { code::CONFLICT } else { c });
                    SyncResult {
                        index: i32::try_from(r.index).unwrap_or(i32::MAX),
                        client_report_id: r.client_report_id,
                        outcome: r.outcome.into(),
                        report: r.report.map(ProgressReport),
                        code: code.map(str::to_owned),
                        field: r.error.as_ref().and_then(crate::error::sync_rejection_field),
                        error_code: error_code.map(str::to_owned),
                        message,
                    }
                })
                .collect(),
        }
    }
}

/// Batch sync.
#[derive(Default)]
pub(crate) struct SyncMutationRoot;

/// Batch sync.
#[Object]
impl SyncMutationRoot {
    /// Applies a batch of reports keyed by the caller's own ids: identical re-sends change
    /// nothing, changed items update their report, new ones create one. Invalid items are
    /// rejected one by one with field-level messages; the valid items of the same batch still
    /// apply, together in one transaction. At most 500 items.
    async fn sync_progress_reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The batch.")] input: SyncProgressReportsInput,
    ) -> async_graphql::Result<SyncProgressReportsPayload> {
        let (items, reporter, dry_run) = input.into_items()?;
        let results = workplan_domain::usecases::sync_reports(
            plan(ctx)?.as_ref(),
            writer(ctx)?.as_ref(),
            clock(ctx),
            viewer(ctx),
            items,
            reporter,
            dry_run,
        )
        .await
        .gql()?;
        if let (Ok(metrics), false) = (ctx.data::<Arc<Metrics>>(), dry_run) {
            for (outcome, label) in [
                (DomainOutcome::Created, "CREATED"),
                (DomainOutcome::Updated, "UPDATED"),
                (DomainOutcome::Unchanged, "UNCHANGED"),
                (DomainOutcome::Rejected, "REJECTED"),
            ] {
                metrics.sync_items(label, results.iter().filter(|r| r.outcome == outcome).count() as u64);
            }
        }
        Ok(SyncProgressReportsPayload::from_results(results, dry_run))
    }
}
