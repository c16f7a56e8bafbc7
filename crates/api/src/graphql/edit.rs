//! Editing a report: patches and withdrawals, and the one path every edit (reviews too) takes.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use workplan_domain::ids::ReportId;
use workplan_domain::report::{Edit, ReportPatch};

use super::report::{Health, ProgressReport, ReportStatus};
use crate::context::{clock, viewer, writer};
use crate::error::GqlResultExt;
use crate::ids::{self, Kind};

/// Changes to a report; fields left out stay as they are.
#[derive(InputObject, Debug, Default)]
pub struct ProgressReportPatch {
    /// The period reported on.
    pub period: Option<String>,
    /// Where the task stands.
    pub status: Option<ReportStatus>,
    /// How far along the task is, 0–100.
    pub percent_complete: Option<i32>,
    /// What was done: 1–5000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates.
    pub summary: Option<String>,
    /// Up to 10 http or https links: no user name or password, no whitespace, control or invisible
    /// characters (typed or percent-encoded); stored as the URL standard spells them
    /// (`HTTPS://EXAMPLE.ORG/x` is `https://example.org/x`). Replaces the list.
    pub evidence_urls: Option<Vec<String>>,
    /// How the work is going; null clears it.
    pub health: MaybeUndefined<Health>,
    /// What stands in the way: at most 2000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates. Null or a blank text clears it.
    pub obstacles: MaybeUndefined<String>,
    /// Submit a DRAFT or RETURNED report for review.
    #[graphql(default)]
    pub submit: bool,
}

impl From<ProgressReportPatch> for Edit {
    fn from(p: ProgressReportPatch) -> Self {
        Edit::Patch(ReportPatch {
            period: p.period,
            status: p.status.map(Into::into),
            percent_complete: p.percent_complete.map(Some),
            summary: p.summary,
            evidence_urls: p.evidence_urls,
            // Left out keeps the value, null clears it.
            health: p.health.map_value(Into::into).into(),
            obstacles: p.obstacles.into(),
            submit: p.submit,
        })
    }
}

/// The result of a write to one report.
#[derive(SimpleObject)]
pub(crate) struct ProgressReportPayload {
    /// The report as it now stands.
    pub report: ProgressReport,
}

/// Decodes a report ID argument.
pub(crate) fn report_id(id: &ID) -> async_graphql::Result<ReportId> {
    ids::decode(Kind::ProgressReport, id, "id").map(ReportId)
}

/// Applies `edit` to the report `id` at `expected_version`: the one path for every edit.
pub(crate) async fn edit(
    ctx: &Context<'_>,
    id: &ID,
    expected_version: i32,
    edit: Edit,
    idempotency_key: Option<String>,
) -> async_graphql::Result<ProgressReportPayload> {
    let id = report_id(id)?;
    let report = workplan_domain::usecases::edit_report(
        writer(ctx)?.as_ref(),
        clock(ctx),
        viewer(ctx),
        id,
        expected_version,
        edit,
        idempotency_key,
    )
    .await
    .gql()?;
    Ok(ProgressReportPayload { report: ProgressReport(report) })
}

/// Edits and withdrawals.
#[derive(Default)]
pub(crate) struct EditMutationRoot;

/// Edits and withdrawals.
#[Object]
impl EditMutationRoot {
    /// Edits a DRAFT, SUBMITTED or RETURNED report (its reporter, or an admin). A stale
    /// `expectedVersion` is a CONFLICT carrying `extensions.currentVersion`.
    /// A report the caller cannot read is NOT_FOUND, exactly as an ID that names nothing; one it
    /// reads but may not change is FORBIDDEN.
    async fn update_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's ID.")] id: ID,
        #[graphql(desc = "The version the edit is based on.")] expected_version: i32,
        #[graphql(desc = "What to change.")] patch: ProgressReportPatch,
        #[graphql(desc = "Retries with the same key return the first result.")] idempotency_key: Option<String>,
    ) -> async_graphql::Result<ProgressReportPayload> {
        edit(ctx, &id, expected_version, patch.into(), idempotency_key).await
    }

    /// Withdraws a report that was not accepted (its reporter, or an admin). The change feed
    /// keeps a tombstone. A draft withdrawn without ever being submitted stays readable to its
    /// reporter, supervisors and admins only.
    /// A report the caller cannot read is NOT_FOUND, exactly as an ID that names nothing; one it
    /// reads but may not change is FORBIDDEN.
    async fn withdraw_progress_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report's ID.")] id: ID,
        #[graphql(desc = "The version the withdrawal is based on.")] expected_version: i32,
        #[graphql(desc = "Retries with the same key return the first result.")] idempotency_key: Option<String>,
    ) -> async_graphql::Result<ProgressReportPayload> {
        edit(ctx, &id, expected_version, Edit::Withdraw, idempotency_key).await
    }
}
