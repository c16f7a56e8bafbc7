//! What a write changed: the audit history of a report and the change feed of all reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::submit::ValidReportFields;
use super::{ReportState, Reporter};
use crate::ids::{ChangeId, ReportId, string_enum};

string_enum!(
    /// What kind of change an entry of the change feed records.
    pub enum ChangeKind {
        /// A report was created.
        Created = "CREATED",
        /// A report's content changed.
        Updated = "UPDATED",
        /// A report moved between lifecycle states by its reporter (submitted, resubmitted).
        StatusChanged = "STATUS_CHANGED",
        /// A supervisor accepted or returned a report.
        Reviewed = "REVIEWED",
        /// The reporter withdrew the report (a tombstone).
        Withdrawn = "WITHDRAWN",
        /// A supervisor reopened an accepted report for correction (it is RETURNED; its
        /// accepted version stays official until the correction is accepted).
        Reopened = "REOPENED",
    }
);

/// Where a change stands in the feed: the feed is ordered by `(txn, id)`, a stable total
/// order in which no change ever appears before one already delivered.
///
/// `txn` is the number of the transaction that wrote the change where writers run in parallel
/// (PostgreSQL), and 0 where they take turns (SQLite, whose ids follow commit order) and for
/// changes written before positions had one. `id` is the change's own key. A change becomes
/// visible in the feed only once no transaction numbered below it can still commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeedPosition {
    /// The writing transaction's number (0 for serial writers and older changes).
    pub txn: i64,
    /// The change's key.
    pub id: ChangeId,
}

impl FeedPosition {
    /// The position of a change from before positions carried a transaction number: `txn` 0,
    /// so it sorts before every newer change, among the others by id (their commit order).
    pub fn legacy(id: i64) -> Self {
        Self { txn: 0, id: ChangeId(id) }
    }
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its key.
    pub id: ChangeId,
    /// Where it stands in the feed.
    pub position: FeedPosition,
    /// The report that changed.
    pub report_id: ReportId,
    /// What kind of change.
    pub kind: ChangeKind,
    /// The report's version after the change.
    pub version: i32,
    /// The report's state after the change.
    pub state: ReportState,
    /// The report's reporter.
    pub reporter: Reporter,
    /// Who made the change (token name).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One field's value before and after a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field, as the API names it (e.g. `percentComplete`).
    pub field: String,
    /// Its value before, absent when it had none.
    pub before: Option<serde_json::Value>,
    /// Its value after, absent when it has none.
    pub after: Option<serde_json::Value>,
}

/// One entry of a report's audit history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The report.
    pub report_id: ReportId,
    /// The version the write produced.
    pub version: i32,
    /// CREATE, UPDATE, SUBMIT, WITHDRAW, ACCEPT, RETURN, REOPEN, SYNC, BACKFILL.
    pub action: String,
    /// Who wrote (token name and role).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// What changed, field by field.
    pub changes: Vec<FieldChange>,
}

fn json<T: serde::Serialize>(v: &T) -> Option<serde_json::Value> {
    serde_json::to_value(v).ok().filter(|v| !v.is_null())
}

/// The field-by-field difference between two versions of a report: its content, state and
/// review comment (`before` is `None` for a new report).
pub fn diff(
    before: Option<(&ValidReportFields, ReportState, Option<&str>)>,
    after: (&ValidReportFields, ReportState, Option<&str>),
) -> Vec<FieldChange> {
    let row = |f: Option<&ValidReportFields>, state: Option<ReportState>, comment: Option<Option<&str>>| {
        [
            ("period", f.and_then(|f| json(&f.period.to_string()))),
            ("status", f.and_then(|f| json(&f.status))),
            ("percentComplete", f.and_then(|f| json(&f.percent_complete))),
            ("summary", f.and_then(|f| json(&f.summary))),
            ("evidenceUrls", f.and_then(|f| json(&f.evidence_urls))),
            ("health", f.and_then(|f| json(&f.health))),
            ("obstacles", f.and_then(|f| json(&f.obstacles))),
            ("state", state.and_then(|s| json(&s))),
            ("reviewComment", comment.flatten().and_then(|c| json(&c))),
        ]
    };
    let old = row(before.map(|b| b.0), before.map(|b| b.1), before.map(|b| b.2));
    let new = row(Some(after.0), Some(after.1), Some(after.2));
    old.into_iter()
        .zip(new)
        .filter(|((_, b), (_, a))| b != a)
        .map(|((field, before), (_, after))| FieldChange { field: field.to_owned(), before, after })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Period, ReportStatus};

    fn fields() -> ValidReportFields {
        ValidReportFields {
            period: Period::Quarter(2016, 3),
            status: ReportStatus::InProgress,
            percent_complete: Some(40),
            summary: "s".into(),
            evidence_urls: vec![],
            health: None,
            obstacles: None,
        }
    }

    #[test]
    fn a_new_report_lists_every_field_it_has() {
        let changes = diff(None, (&fields(), ReportState::Submitted, None));
        let names: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["period", "status", "percentComplete", "summary", "evidenceUrls", "state"]);
        assert_eq!(changes[1].after, Some("IN_PROGRESS".into()));
    }

    #[test]
    fn only_changed_fields_are_listed() {
        let f = fields();
        let g = ValidReportFields { percent_complete: None, ..fields() };
        let changes = diff(Some((&f, ReportState::Draft, None)), (&g, ReportState::Draft, None));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "percentComplete");
        assert_eq!(changes[0].after, None);
    }

    #[test]
    fn health_and_obstacles_are_recorded_when_said_and_when_cleared() {
        let said = ValidReportFields {
            health: Some(crate::report::Health::OnTrack),
            obstacles: Some("None to speak of.".into()),
            ..fields()
        };
        let names: Vec<String> = diff(None, (&said, ReportState::Draft, None)).into_iter().map(|c| c.field).collect();
        assert_eq!(
            names,
            ["period", "status", "percentComplete", "summary", "evidenceUrls", "health", "obstacles", "state"]
        );
        let cleared = diff(Some((&said, ReportState::Draft, None)), (&fields(), ReportState::Draft, None));
        assert_eq!(
            cleared,
            [
                FieldChange { field: "health".into(), before: Some("ON_TRACK".into()), after: None },
                FieldChange { field: "obstacles".into(), before: Some("None to speak of.".into()), after: None },
            ]
        );
    }
}
