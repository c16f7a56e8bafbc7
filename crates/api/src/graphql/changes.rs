//! The change feed: every change to the reports a caller may see, in a stable order in which no
//! change ever appears before one already delivered (see `FeedPosition` and docs/sync.md).

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::history::shown_actor;
use super::official::seen;
use super::report::{ProgressReport, ReportState};
use crate::connection::PageInfo;
use crate::context::{load, reports, scope};
use crate::error::{GqlResultExt, bad_input};
use crate::ids::{self, Kind};
use workplan_domain::ids::ChangeId;
use workplan_domain::report::FeedPosition;

/// What kind of change a feed entry records.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::report::ChangeKind")]
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
    /// A supervisor reopened it for correction (it is RETURNED; its accepted version stays
    /// official until the correction is accepted).
    Reopened,
}

/// One entry of the change feed.
#[derive(Clone)]
pub(crate) struct Change(pub workplan_domain::report::Change);

/// One change to a report.
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
    async fn state(&self) -> ReportState {
        self.0.state.into()
    }

    /// Who made the change. ADMIN and SUPERVISOR tokens read the token's name and role
    /// (`ops-bot (ADMIN)`); everyone else reads the role alone (`SUPERVISOR`), or, for a
    /// reporter's own change, the reporter and the role (`Guangdong (PROVINCE_REPORTER)`);
    /// `unknown` for a record that names no role.
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        shown_actor(ctx, &self.0.actor, self.0.reporter).await
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The report as it stands now, if the caller may see it.
    async fn report(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProgressReport>> {
        match load(ctx, self.0.report_id).await? {
            Some(r) => seen(ctx, r),
            None => Ok(None),
        }
    }
}

/// A change with its cursor.
#[derive(SimpleObject)]
pub(crate) struct ChangeEdge {
    /// Pass as `after` to continue from here.
    pub cursor: String,
    /// The change.
    pub node: Change,
}

/// A page of the change feed.
#[derive(SimpleObject)]
pub(crate) struct ChangeConnection {
    /// The changes with their cursors, in feed order.
    pub edges: Vec<ChangeEdge>,
    /// The changes without cursors, in feed order.
    pub nodes: Vec<Change>,
    /// Where this page is. When `hasNextPage` is false, poll again later with `endCursor`.
    pub page_info: PageInfo,
}

/// Decodes a change-feed cursor: `<txn>:<id>` (a [`FeedPosition`]), or a plain change id as
/// cursors were before positions had a transaction number — those are positions `(0, id)`,
/// which is where the changes they were handed out after stand.
pub(crate) fn change_cursor(after: Option<String>) -> async_graphql::Result<Option<FeedPosition>> {
    let Some(key) = ids::parse_cursor::<String>("change", after, "after")? else {
        return Ok(None);
    };
    parse_position(&key).map(Some).ok_or_else(|| bad_input("after", "not a cursor of this list"))
}

/// The cursor of the change at `position` (as `changes` hands it out).
pub(crate) fn position_cursor(position: FeedPosition) -> String {
    ids::cursor("change", &position_key(position))
}

/// The key of a cursor at `position` (see [`change_cursor`]).
fn position_key(position: FeedPosition) -> String {
    format!("{}:{}", position.txn, position.id.0)
}

/// Reads a cursor's key: `<txn>:<id>`, or a legacy `<id>`; both numbers not negative.
fn parse_position(key: &str) -> Option<FeedPosition> {
    let number = |s: &str| s.parse::<i64>().ok().filter(|n| *n >= 0);
    match key.split_once(':') {
        Some((txn, id)) => Some(FeedPosition { txn: number(txn)?, id: ChangeId(number(id)?) }),
        None => Some(FeedPosition::legacy(number(key)?)),
    }
}

/// Builds a page of the feed.
pub(crate) fn change_connection(
    changes: Vec<workplan_domain::report::Change>,
    more: bool,
    after: Option<FeedPosition>,
    after_cursor: Option<String>,
) -> ChangeConnection {
    let edges: Vec<ChangeEdge> =
        changes.into_iter().map(|c| ChangeEdge { cursor: position_cursor(c.position), node: Change(c) }).collect();
    // With no new changes, the end cursor stays where the caller was, so it can keep polling.
    let end = edges.last().map(|e| e.cursor.clone()).or(after_cursor);
    ChangeConnection {
        page_info: PageInfo {
            has_next_page: more,
            has_previous_page: after.is_some(),
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: end,
        },
        nodes: edges.iter().map(|e| e.node.clone()).collect(),
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

/// The change feed.
#[derive(Default)]
pub(crate) struct ChangesQueryRoot;

/// The change feed.
#[Object]
impl ChangesQueryRoot {
    /// Every change to the reports the caller may see, in a stable order in which no change
    /// ever appears before one already delivered. Poll with `after: <last endCursor>`: every
    /// change is seen exactly once, even while many writers commit concurrently.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Continue after this cursor (from a previous page's endCursor).")] after: Option<String>,
        #[graphql(desc = "At most this many changes (1–500, default 100).")] first: Option<i32>,
    ) -> async_graphql::Result<ChangeConnection> {
        let scope = scope(ctx)?;
        let size = feed_size(first)?;
        let position = change_cursor(after.clone())?;
        let (changes, more) = reports(ctx)?.list_changes(position, size, &scope).await.gql()?;
        Ok(change_connection(changes, more, position, after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_carry_the_position_and_old_plain_ids_still_read() {
        let at = FeedPosition { txn: 7_123_456, id: ChangeId(42) };
        let cursor = ids::cursor("change", &position_key(at));
        assert_eq!(change_cursor(Some(cursor)).expect("a cursor"), Some(at));
        // Handed out before positions had a transaction number: "change|42".
        let old = ids::cursor("change", "42");
        assert_eq!(change_cursor(Some(old)).expect("an old cursor"), Some(FeedPosition::legacy(42)));
        assert!(FeedPosition::legacy(42) < at, "an old cursor sorts before every newer change");
        assert_eq!(change_cursor(None).expect("no cursor"), None);
    }

    #[test]
    fn malformed_change_cursors_are_refused() {
        for key in ["", ":", "1:", ":1", "a:1", "1:b", "-1:3", "3:-1", "1:2:3", "x"] {
            assert!(change_cursor(Some(ids::cursor("change", key))).is_err(), "{key:?}");
        }
        assert!(change_cursor(Some(ids::cursor("task", "1:2"))).is_err(), "another list's cursor");
    }
}
