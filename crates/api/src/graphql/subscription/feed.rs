//! Subscriptions on the change feed: the feed itself as a stream, report changes under a
//! filter, and the review queue's comings and goings. Each reads the feed through the
//! replica's feed follower, with the permission rules of the `changes` query.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject, Subscription};
use futures::{Stream, StreamExt as _, stream};
use workplan_domain::access::{ReportScope, can_review};
use workplan_domain::ids::ReportId;
use workplan_domain::listing::{PageRequest, ReportOrder, ReportQuery};
use workplan_domain::ports::ReportReader;
use workplan_domain::report::{ChangeKind, ReportState};

use crate::context::{reports, scope, viewer};
use crate::error::{GqlResultExt, internal, to_graphql};
use crate::feed_follower::{FeedFollower, Since, follow_feed};
use crate::graphql::changes::{self, Change, change_cursor, position_cursor};
use crate::graphql::official::listed;
use crate::graphql::report::ProgressReport;
use crate::graphql::report_filter::ProgressReportFilter;

/// How many changes a filtered stream checks against the store at once (those that arrived
/// together).
const CHECK_AT_ONCE: usize = 100;

/// A change of the feed with its cursor.
#[derive(SimpleObject)]
pub(crate) struct ChangeEvent {
    /// Pass as `after` (to this subscription or the `changes` query) to continue after this
    /// change.
    pub cursor: String,
    /// The change.
    pub change: Change,
}

/// A report changed.
pub(crate) struct ProgressReportChange {
    change: Change,
    report: ProgressReport,
}

/// A report that matches the subscription's filter changed.
#[Object]
impl ProgressReportChange {
    /// What happened (the change feed's own kinds).
    async fn kind(&self) -> changes::ChangeKind {
        self.change.0.kind.into()
    }

    /// The report as it stands when the change is delivered, as the caller may see it (an
    /// anonymous caller sees accepted reports only).
    async fn report(&self) -> &ProgressReport {
        &self.report
    }

    /// The feed's entry for the change: version, state, who and when.
    async fn change(&self) -> &Change {
        &self.change
    }

    /// The change's cursor in the feed (the `changes` query and subscription take it as
    /// `after`).
    async fn cursor(&self) -> String {
        position_cursor(self.change.0.position)
    }
}

/// A report entered or left the review queue.
#[derive(SimpleObject)]
pub(crate) struct ReviewQueueChange {
    /// Whether the report waits for review after the change: true when it was submitted or
    /// resubmitted (or changed while waiting), false when it was accepted, returned or
    /// withdrawn.
    pub in_queue: bool,
    /// The feed's entry for the change; its `report` is the report as it stands now.
    pub change: Change,
    /// The change's cursor in the feed.
    pub cursor: String,
}

/// Subscriptions on the change feed.
#[derive(Default)]
pub(crate) struct FeedSubscription;

/// Subscriptions on the change feed.
#[Subscription]
impl FeedSubscription {
    /// The change feed as a stream: first every change after `after` that the caller may see
    /// (as the `changes` query pages them), then each new change as it commits, in the feed's
    /// order, each with its cursor. Resubscribing with the last cursor received misses nothing
    /// and repeats nothing, whichever replica serves it.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start after this cursor (from this subscription or the `changes` query); \
                          from the feed's start when absent.")]
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ChangeEvent>> + use<>> {
        let scope = scope(ctx)?;
        let position = change_cursor(after)?;
        let stream = follow_feed(follower(ctx)?, scope, Since::After(position));
        Ok(stream.map(|change| {
            let change = change.map_err(|e| to_graphql(&e))?;
            Ok(ChangeEvent { cursor: position_cursor(change.position), change: Change(change) })
        }))
    }

    /// A report matching `filter` changed: the report and what happened. From now on, or,
    /// with `after`, first every such change after that cursor (a client that resubscribes
    /// with the last `cursor` it received misses nothing and sees nothing twice). The caller
    /// sees the reports the `progressReports` query would show it (an anonymous caller
    /// accepted ones only).
    async fn progress_report_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only reports matching this filter (as the `progressReports` query takes it).")]
        filter: Option<ProgressReportFilter>,
        #[graphql(desc = "Replay the matching changes after this cursor (an event's `cursor`, or one from the \
                          `changes` query or subscription) before the new ones; from now on when absent.")]
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ProgressReportChange>> + use<>> {
        let scope = scope(ctx)?;
        let filter = filter.unwrap_or_default().into_domain(scope)?;
        let since = since(after)?;
        let reports = reports(ctx)?.clone();
        let stream = follow_feed(follower(ctx)?, scope, since).ready_chunks(CHECK_AT_ONCE);
        Ok(stream
            .then(move |chunk| {
                let (reports, filter) = (reports.clone(), filter.clone());
                async move { matching(reports.as_ref(), filter, chunk).await }
            })
            .flat_map(stream::iter)
            .scan(false, |failed, item| {
                // A failure is the stream's last item: what came after it was not checked.
                let next = (!*failed).then_some(item);
                *failed = next.as_ref().is_some_and(Result::is_err);
                futures::future::ready(next)
            }))
    }

    /// A report entered the review queue (submitted or resubmitted) or left it (accepted,
    /// returned or withdrawn): from now on, or, with `after`, first every such move after that
    /// cursor. SUPERVISOR and ADMIN only.
    async fn review_queue_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Replay the queue's moves after this cursor (an event's `cursor`, or one from the \
                          `changes` query or subscription) before the new ones; from now on when absent.")]
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<ReviewQueueChange>> + use<>> {
        can_review(viewer(ctx).principal().gql()?).gql()?;
        let since = since(after)?;
        let stream = follow_feed(follower(ctx)?, ReportScope::All, since);
        Ok(stream.filter_map(|change| async move {
            match change {
                Err(e) => Some(Err(to_graphql(&e))),
                Ok(change) => queue_move(&change).map(|in_queue| {
                    Ok(ReviewQueueChange { in_queue, cursor: position_cursor(change.position), change: Change(change) })
                }),
            }
        }))
    }
}

/// Where a stream that may resume starts: after the cursor `after`, or now without one.
fn since(after: Option<String>) -> async_graphql::Result<Since> {
    Ok(match after {
        Some(cursor) => Since::After(change_cursor(Some(cursor))?),
        None => Since::Now,
    })
}

/// The replica's feed follower.
fn follower(ctx: &Context<'_>) -> async_graphql::Result<Arc<FeedFollower>> {
    ctx.data::<Arc<FeedFollower>>().cloned().map_err(|_| internal())
}

/// Whether `change` moves its report into the review queue (`true`: it waits for review
/// after it) or out of it (`false`), if it does either.
fn queue_move(change: &workplan_domain::report::Change) -> Option<bool> {
    match change.kind {
        ChangeKind::Created | ChangeKind::StatusChanged | ChangeKind::Updated
            if change.state == ReportState::Submitted =>
        {
            Some(true)
        }
        ChangeKind::Reviewed | ChangeKind::Withdrawn => Some(false),
        _ => None,
    }
}

/// The changes of `chunk` whose reports match `filter` now, in feed order, with the reports
/// (one read for the whole chunk). An error ends the chunk.
async fn matching(
    reports: &dyn ReportReader,
    mut filter: workplan_domain::listing::ReportFilter,
    chunk: Vec<workplan_domain::Result<workplan_domain::report::Change>>,
) -> Vec<async_graphql::Result<ProgressReportChange>> {
    let mut changes = Vec::with_capacity(chunk.len());
    let mut failure = None;
    for change in chunk {
        match change {
            Ok(change) => changes.push(change),
            Err(e) => {
                failure = Some(to_graphql(&e));
                break;
            }
        }
    }
    let ids: Vec<ReportId> = changes.iter().map(|c| c.report_id).collect::<HashSet<_>>().into_iter().collect();
    let mut out = Vec::new();
    if !ids.is_empty() {
        let size = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        filter.ids = Some(ids);
        let query = ReportQuery {
            page: PageRequest { size, ..PageRequest::default() },
            filter,
            oldest_first: false,
            order: ReportOrder::default(),
        };
        match reports.list_reports(&query).await {
            Ok(page) => {
                for change in changes {
                    if let Some(report) = page.items.iter().find(|r| r.id == change.report_id) {
                        let report = listed(report.clone(), &query.filter);
                        out.push(Ok(ProgressReportChange { change: Change(change), report }));
                    }
                }
            }
            Err(e) => failure = failure.or(Some(to_graphql(&e))),
        }
    }
    out.extend(failure.map(Err));
    out
}
