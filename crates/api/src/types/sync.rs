//! The writers' side: who is calling, tokens, edits and reviews, batch sync and the change feed.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use workplan_domain::auth::Viewer as DomainViewer;
use workplan_domain::model as m;
use workplan_domain::ports::SyncItemResult;
use workplan_domain::report::{Edit, ReportPatch};
use workplan_domain::service::SyncItemInput;
use workplan_domain::sync::SyncOutcome as DomainOutcome;

use super::agency::Agency;
use super::province::Province;
use super::report::{ProgressReport, ReporterInput, visible};
use super::{ReportStatus, load, require};
use crate::error::bad_input;
use crate::ids::{self, Kind};

/// What a token may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::model::AccessRole")]
pub enum AccessRole {
    /// Everything, including token management.
    Admin,
    /// Reviews reports and reads everything.
    Supervisor,
    /// Reports for one agency, on the tasks it is responsible for.
    AgencyReporter,
    /// Reports for one province, on any task.
    ProvinceReporter,
    /// Reads.
    Reader,
}

/// The caller.
pub struct Viewer(pub DomainViewer);

/// Who is calling: anonymous, or a token with its role and scope.
#[Object]
impl Viewer {
    /// Whether the request carried a valid token.
    async fn authenticated(&self) -> bool {
        matches!(self.0, DomainViewer::Token(_))
    }

    /// The token's name.
    async fn name(&self) -> Option<&str> {
        match &self.0 {
            DomainViewer::Token(p) => Some(&p.name),
            DomainViewer::Anonymous => None,
        }
    }

    /// The token's role.
    async fn role(&self) -> Option<AccessRole> {
        match &self.0 {
            DomainViewer::Token(p) => Some(p.role.into()),
            DomainViewer::Anonymous => None,
        }
    }

    /// The agency an AGENCY_REPORTER token reports for.
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match &self.0 {
            DomainViewer::Token(p) => match p.agency {
                Some(id) => Ok(Some(Agency(require(ctx, id).await?))),
                None => Ok(None),
            },
            DomainViewer::Anonymous => Ok(None),
        }
    }

    /// The province a PROVINCE_REPORTER token reports for.
    async fn province(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Province>> {
        match &self.0 {
            DomainViewer::Token(p) => match p.province {
                Some(id) => Ok(Some(Province(require(ctx, id).await?))),
                None => Ok(None),
            },
            DomainViewer::Anonymous => Ok(None),
        }
    }
}

/// An API token (never its secret).
pub struct ApiToken(pub m::ApiToken);

/// An API token: its name, role, scope and life. The secret is shown once, at creation.
#[Object]
impl ApiToken {
    /// The token's ID (for revoking it).
    async fn id(&self) -> ID {
        ids::encode(Kind::ApiToken, self.0.id.0)
    }

    /// The token's unique name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What it may do.
    async fn role(&self) -> AccessRole {
        self.0.role.into()
    }

    /// The agency it is bound to (AGENCY_REPORTER).
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match self.0.agency {
            Some(id) => Ok(Some(Agency(require(ctx, id).await?))),
            None => Ok(None),
        }
    }

    /// The province it is bound to (PROVINCE_REPORTER).
    async fn province(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Province>> {
        match self.0.province {
            Some(id) => Ok(Some(Province(require(ctx, id).await?))),
            None => Ok(None),
        }
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }

    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }

    /// When it was last used (recorded at most once a minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
}

/// A token to create.
#[derive(InputObject, Debug)]
pub struct CreateApiTokenInput {
    /// A unique name, e.g. "guangdong-sync".
    pub name: String,
    /// What it may do.
    pub role: AccessRole,
    /// For AGENCY_REPORTER: the agency (an Agency ID).
    pub agency_id: Option<ID>,
    /// For PROVINCE_REPORTER: the province's GB/T 2260 code.
    pub province_code: Option<String>,
    /// When it stops working; never if absent.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A created token and its secret.
#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    /// The token.
    pub token: ApiToken,
    /// The secret, shown this once: send it as `Authorization: Bearer <secret>`. Only its hash
    /// is stored.
    pub secret: String,
}

/// Changes to a report; fields left out stay as they are.
#[derive(InputObject, Debug, Default)]
pub struct ProgressReportPatch {
    /// The period reported on.
    pub period: Option<String>,
    /// Where the task stands.
    pub status: Option<ReportStatus>,
    /// How far along the task is, 0–100.
    pub percent_complete: Option<i32>,
    /// What was done: 1–5000 characters.
    pub summary: Option<String>,
    /// Up to 10 http or https links (replaces the list).
    pub evidence_urls: Option<Vec<String>>,
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
            submit: p.submit,
        })
    }
}

/// A supervisor's decision.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReviewDecision {
    /// Make the report official (and lock it).
    Accept,
    /// Send it back to its reporter; needs a comment saying why.
    Return,
}

/// The result of a write to one report.
#[derive(SimpleObject)]
pub struct ProgressReportPayload {
    /// The report as it now stands.
    pub report: ProgressReport,
}

/// Decodes a report ID argument.
pub(crate) fn report_id(id: &ID) -> async_graphql::Result<m::ReportId> {
    ids::decode(Kind::ProgressReport, id, "id").map(m::ReportId)
}

/// One item of a batch: a report keyed by the caller's own id.
#[derive(InputObject, Debug)]
pub struct SyncProgressReportItem {
    /// The caller's own stable id for this report (at most 255 characters). Re-sending the
    /// same id updates the same report; it never creates a second one.
    pub client_report_id: String,
    /// The number of the task reported on.
    pub task_number: i32,
    /// The period reported on: "2016", "2016-H2", "2016-Q3" or "2016-09".
    pub period: String,
    /// Where the task stands.
    pub status: ReportStatus,
    /// How far along the task is, 0–100.
    pub percent_complete: Option<i32>,
    /// What was done: 1–5000 characters.
    pub summary: String,
    /// Up to 10 http or https links.
    #[graphql(default)]
    pub evidence_urls: Vec<String>,
}

/// A batch of reports from one reporter (the token's; an admin names one).
#[derive(InputObject, Debug)]
pub struct SyncProgressReportsInput {
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
                    content: workplan_domain::report::ReportContent {
                        period: i.period,
                        status: i.status.into(),
                        percent_complete: i.percent_complete,
                        summary: i.summary,
                        evidence_urls: i.evidence_urls,
                    },
                },
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
pub struct SyncResult {
    /// The item's position in the batch (0-based).
    pub index: i32,
    /// The item's clientReportId.
    pub client_report_id: String,
    /// What happened.
    pub outcome: SyncOutcome,
    /// The report as it stands (absent when the item was invalid).
    pub report: Option<ProgressReport>,
    /// Why it was rejected: BAD_USER_INPUT, NOT_FOUND, FORBIDDEN, CONFLICT or LOCKED.
    pub error_code: Option<String>,
    /// What was wrong, naming the field.
    pub message: Option<String>,
}

/// The import summary of a batch. Invalid items are rejected one by one; the valid items of
/// the same batch still apply, all together in one transaction (none of them if it fails).
#[derive(SimpleObject)]
pub struct SyncProgressReportsPayload {
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
                    SyncResult {
                        index: i32::try_from(r.index).unwrap_or(i32::MAX),
                        client_report_id: r.client_report_id,
                        outcome: r.outcome.into(),
                        report: r.report.map(ProgressReport),
                        error_code: error_code.map(str::to_owned),
                        message,
                    }
                })
                .collect(),
        }
    }
}

/// What kind of change a feed entry records.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::model::ChangeKind")]
pub enum ChangeKind {
    /// A report was created.
    Created,
    /// A report's content changed.
    Updated,
    /// Its reporter moved it between states (submitted or resubmitted it).
    StatusChanged,
    /// A supervisor accepted or returned it.
    Reviewed,
    /// Its reporter withdrew it: a tombstone (the report id is kept).
    Withdrawn,
}

/// One entry of the change feed.
pub struct Change(pub m::Change);

/// One change to a report, in commit order.
#[Object]
impl Change {
    /// What happened.
    async fn kind(&self) -> ChangeKind {
        self.0.kind.into()
    }

    /// The report's ID (kept for tombstones).
    async fn report_id(&self) -> ID {
        ids::encode(Kind::ProgressReport, self.0.report_id.0)
    }

    /// The report's version after the change.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// The report's state after the change.
    async fn state(&self) -> super::report::ReportState {
        self.0.state.into()
    }

    /// Who made the change (token name and role).
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The report as it stands now, if the caller may see it.
    async fn report(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProgressReport>> {
        match load(ctx, self.0.report_id).await? {
            Some(r) if visible(ctx, &r)? => Ok(Some(ProgressReport(r))),
            _ => Ok(None),
        }
    }
}

/// A change with its cursor.
#[derive(SimpleObject)]
pub struct ChangeEdge {
    /// Pass as `after` to continue from here.
    pub cursor: String,
    /// The change.
    pub node: Change,
}

/// A page of the change feed.
#[derive(SimpleObject)]
pub struct ChangeConnection {
    /// The changes with their cursors, in commit order.
    pub edges: Vec<ChangeEdge>,
    /// Where this page is. When `hasNextPage` is false, poll again later with `endCursor`.
    pub page_info: super::PageInfo,
}

/// Decodes a change-feed cursor.
pub(crate) fn change_cursor(after: Option<String>) -> async_graphql::Result<Option<i64>> {
    ids::parse_cursor("change", after, "after")
}

/// Builds a page of the feed.
pub(crate) fn change_connection(
    changes: Vec<m::Change>,
    more: bool,
    after: Option<i64>,
    after_cursor: Option<String>,
) -> ChangeConnection {
    let edges: Vec<ChangeEdge> = changes
        .into_iter()
        .map(|c| ChangeEdge { cursor: ids::cursor("change", &c.id.0.to_string()), node: Change(c) })
        .collect();
    // With no new changes, the end cursor stays where the caller was, so it can keep polling.
    let end = edges.last().map(|e| e.cursor.clone()).or(after_cursor);
    ChangeConnection {
        page_info: super::PageInfo {
            has_next_page: more,
            has_previous_page: after.is_some(),
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: end,
        },
        edges,
    }
}

/// Checks a page size.
pub(crate) fn feed_size(first: Option<i32>) -> async_graphql::Result<u32> {
    let n = first.unwrap_or(100);
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=500).contains(n))
        .ok_or_else(|| bad_input("first", format!("must be between 1 and 500, got {n}")))
}
