//! Review: the queue of submitted reports and a supervisor's decision on one.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use workplan_domain::access::{ReportScope, can_review};
use workplan_domain::listing::{ReportFilter, ReportOrder, ReportQuery};
use workplan_domain::report::{Edit, ReportState};

use super::edit::{ProgressReportPayload, edit};
use super::report::{ProgressReportConnection, report_connection};
use super::report_filter::ReviewQueueFilter;
use crate::connection::{Total, page_request};
use crate::context::{reports, viewer};
use crate::error::GqlResultExt;

/// A supervisor's decision.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReviewDecision {
    /// Make the report official (and lock it).
    Accept,
    /// Send it back to its reporter; needs a comment saying why.
    Return,
}

/// The review queue's order, defined here only: by submission time (`submittedAt`), then by
/// id, oldest first, so the longest-waiting report is reviewed first.
const REVIEW_QUEUE_ORDER: (ReportOrder, bool) = (ReportOrder::Submitted, true);

/// The review queue.
#[derive(Default)]
pub(crate) struct ReviewQueryRoot;

/// The review queue.
#[Object]
impl ReviewQueryRoot {
    /// Submitted reports waiting for review, longest waiting first: by `submittedAt`, then by
    /// id (SUPERVISOR and ADMIN).
    async fn review_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only reports matching this filter.")] filter: Option<ReviewQueueFilter>,
        #[graphql(desc = "Return the first n reports (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return reports after this cursor.")] after: Option<String>,
    ) -> async_graphql::Result<ProgressReportConnection> {
        can_review(viewer(ctx).principal().gql()?).gql()?;
        let mut query = ReportQuery {
            filter: ReportFilter { state: Some(ReportState::Submitted), ..ReportFilter::new(ReportScope::All) },
            page: page_request("report", first, after, None, None)?,
            oldest_first: REVIEW_QUEUE_ORDER.1,
            order: REVIEW_QUEUE_ORDER.0,
        };
        filter.unwrap_or_default().narrow(&mut query.filter)?;
        let page = reports(ctx)?.list_reports(&query).await.gql()?;
        Ok(report_connection(page, &query.filter, Total::Reports(query.filter.clone())))
    }
}

/// Reopening an accepted report for correction.
#[derive(InputObject, Debug)]
pub(crate) struct ReopenProgressReportInput {
    /// The report's ID (an ACCEPTED report).
    pub id: ID,
    /// The version the reopening is based on.
    pub expected_version: i32,
    /// Why it needs correcting: 1–5000 characters (no control characters but line breaks and tabs, no bidi overrides or isolates), shown to the reporter as the
    /// review comment.
    pub reason: String,
    /// Retries with the same key return the first result.
    pub idempotency_key: Option<String>,
}

/// Review decisions.
#[derive(Default)]
pub(crate) struct ReviewMutationRoot;

/// Review decisions.
#[Object]
impl ReviewMutationRoot {
    /// Accepts or returns a SUBMITTED report (SUPERVISOR and ADMIN). Returning needs a comment.
    /// A report the caller cannot read is NOT_FOUND, exactly as an ID that names nothing; one it
    /// reads but may not change is FORBIDDEN.
    async fn review_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's ID.")] id: ID,
        #[graphql(desc = "The version the review is based on.")] expected_version: i32,
        #[graphql(desc = "ACCEPT or RETURN.")] decision: ReviewDecision,
        #[graphql(
            desc = "The reviewer's comment; the reason when returning. At most 5000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates."
        )]
        comment: Option<String>,
        #[graphql(desc = "Retries with the same key return the first result.")] idempotency_key: Option<String>,
    ) -> async_graphql::Result<ProgressReportPayload> {
        edit(
            ctx,
            &id,
            expected_version,
            Edit::Review { accept: decision == ReviewDecision::Accept, comment },
            idempotency_key,
        )
        .await
    }

    /// Reopens an ACCEPTED report for correction (SUPERVISOR and ADMIN): it becomes RETURNED
    /// with the reason as its review comment (history action REOPEN, change kind REOPENED); its
    /// reporter edits and resubmits it and it is reviewed again. Until the correction is
    /// accepted, `acceptedVersion` keeps the official content, and everyone who could read the
    /// accepted report still reads it (those limited to accepted reports see it as that
    /// version). A reopened report cannot be withdrawn.
    /// A report the caller cannot read is NOT_FOUND, exactly as an ID that names nothing; one it
    /// reads but may not change is FORBIDDEN.
    async fn reopen_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report and the reason.")] input: ReopenProgressReportInput,
    ) -> async_graphql::Result<ProgressReportPayload> {
        let edit_ = Edit::Reopen { reason: input.reason };
        edit(ctx, &input.id, input.expected_version, edit_, input.idempotency_key).await
    }
}
