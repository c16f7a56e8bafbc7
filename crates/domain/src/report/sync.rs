//! Idempotent batch sync: the rules that decide, item by item, what a batch does.

use chrono::{DateTime, Utc};

use super::edit::{Applied, comment_after, fields_of, submission_times};
use super::evidence::evidence_url;
use super::history::{ChangeKind, FieldChange, diff};
use super::submit::ValidReportFields;
use super::{ProgressReport, ReportKind, ReportState};
use crate::ids::TaskId;
use crate::text::check_line;
use crate::{Error, Result};

/// Most items in one batch.
pub const MAX_BATCH: usize = 500;
/// Longest client report id.
pub const MAX_CLIENT_ID: usize = 255;

/// A batch item that passed every check that needs no stored report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidSyncItem {
    /// Position in the batch.
    pub index: usize,
    /// The reporter's own id for the report.
    pub client_report_id: String,
    /// The task reported on.
    pub task_id: TaskId,
    /// PART or CONSOLIDATED.
    pub kind: ReportKind,
    /// The checked content.
    pub fields: ValidReportFields,
    /// When the report was originally submitted, for an ADMIN importing historical reports.
    pub backfilled_at: Option<DateTime<Utc>>,
}

/// What a batch item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncOutcome {
    /// A new report was created.
    Created,
    /// The report existed and changed.
    Updated,
    /// The report existed and was identical.
    Unchanged,
    /// The item was not applied.
    Rejected,
}

/// Why a batch item was not applied. The API turns it into a client code, once, beside every
/// other error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RejectReason {
    /// The item broke a rule (invalid, unknown task, not the reporter's task, duplicate id...).
    #[error(transparent)]
    Invalid(Error),
    /// The report the item names is locked in this state (ACCEPTED or WITHDRAWN).
    #[error("{}", locked_message(*.0))]
    Locked(ReportState),
}

fn locked_message(state: ReportState) -> &'static str {
    match state {
        ReportState::Withdrawn => "the report was withdrawn",
        _ => "the report was accepted and is locked",
    }
}

/// What to do with one item, given the report its client id already names (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncDecision {
    /// Create a new report.
    Create(Applied),
    /// Update the existing one (and resubmit it).
    Update(Applied),
    /// Nothing changed.
    Unchanged,
    /// Leave it, and say why.
    Rejected(RejectReason),
}

impl PartialEq for RejectReason {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Locked(a), Self::Locked(b)) => a == b,
            // Errors carry no equality (an internal one wraps any cause); compare what a client sees.
            (Self::Invalid(a), Self::Invalid(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl Eq for RejectReason {}

/// Checks a client report id: not blank, one line of at most [`MAX_CLIENT_ID`] characters
/// without control or bidi characters.
pub fn check_client_id(id: &str, field: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::validation(field, "must not be empty"));
    }
    check_line(id, field, MAX_CLIENT_ID)
}

/// Decides an item. Re-sending an identical item changes nothing; a changed one updates the
/// report (and resubmits it) unless it was accepted or withdrawn.
///
/// An item carrying `backfilled_at` (an ADMIN importing history) is recorded with the action
/// BACKFILL and a `submittedAt` field change: a new report is created, and first and last
/// submitted, at that time; an existing one is last submitted then (and first, if earlier).
pub fn decide(existing: Option<&ProgressReport>, item: &ValidSyncItem, at: DateTime<Utc>) -> Result<SyncDecision> {
    let Some(current) = existing else {
        let at = item.backfilled_at.unwrap_or(at);
        let (submitted_at, first_submitted_at) = submission_times(None, ReportState::Submitted, at);
        let mut changes = diff(None, (&item.fields, ReportState::Submitted, None));
        let action = backfilled(item, None, submitted_at, &mut changes).unwrap_or("CREATE");
        return Ok(SyncDecision::Create(Applied {
            task_id: item.task_id,
            fields: item.fields.clone(),
            state: ReportState::Submitted,
            review_comment: None,
            action,
            kind: ChangeKind::Created,
            changes,
            at,
            submitted_at,
            first_submitted_at,
            accepted: None,
        }));
    };
    if current.task_id != item.task_id {
        return Ok(SyncDecision::Rejected(RejectReason::Invalid(Error::Conflict(
            "this clientReportId already names a report on another task".into(),
        ))));
    }
    if current.kind != item.kind {
        return Ok(SyncDecision::Rejected(RejectReason::Invalid(Error::Conflict(format!(
            "this clientReportId already names a {} report",
            current.kind.as_str()
        )))));
    }
    let fields = fields_of(current)?;
    if says_the_same(&fields, &item.fields) {
        return Ok(SyncDecision::Unchanged);
    }
    if current.state.is_locked() {
        return Ok(SyncDecision::Rejected(RejectReason::Locked(current.state)));
    }
    let comment = comment_after(current, ReportState::Submitted);
    let mut changes = diff(
        Some((&fields, current.state, current.review_comment.as_deref())),
        (&item.fields, ReportState::Submitted, comment.as_deref()),
    );
    let (mut submitted_at, mut first_submitted_at) = submission_times(Some(current), ReportState::Submitted, at);
    if let Some(b) = item.backfilled_at {
        submitted_at = Some(b);
        first_submitted_at = Some(first_submitted_at.map_or(b, |f| f.min(b)));
    }
    let action = backfilled(item, current.submitted_at, submitted_at, &mut changes).unwrap_or("SYNC");
    Ok(SyncDecision::Update(Applied {
        task_id: item.task_id,
        fields: item.fields.clone(),
        state: ReportState::Submitted,
        review_comment: comment,
        action,
        kind: ChangeKind::Updated,
        changes,
        at,
        submitted_at,
        first_submitted_at,
        accepted: current.accepted.clone(),
    }))
}

/// Whether an item (its links normalised by validation) says what the stored report says. A
/// link stored before links were normalised (`http://a.org`) compares by its normalised
/// spelling (`http://a.org/`), so re-sending an identical batch still changes nothing — and
/// is not refused as LOCKED for an accepted report.
fn says_the_same(stored: &ValidReportFields, item: &ValidReportFields) -> bool {
    if stored == item {
        return true;
    }
    let links = stored.evidence_urls.iter().map(|u| evidence_url(u, "evidenceUrls").unwrap_or_else(|_| u.clone()));
    ValidReportFields { evidence_urls: links.collect(), ..stored.clone() } == *item
}

/// For a backfilled item: records the `submittedAt` change and returns the BACKFILL action.
fn backfilled(
    item: &ValidSyncItem,
    before: Option<DateTime<Utc>>,
    after: Option<DateTime<Utc>>,
    changes: &mut Vec<FieldChange>,
) -> Option<&'static str> {
    item.backfilled_at?;
    let json = |t: Option<DateTime<Utc>>| t.and_then(|t| serde_json::to_value(t).ok());
    changes.push(FieldChange { field: "submittedAt".into(), before: json(before), after: json(after) });
    Some("BACKFILL")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::report;

    fn item(task: i64, summary: &str) -> ValidSyncItem {
        let current = report(ReportState::Draft);
        let fields = ValidReportFields { summary: summary.into(), ..fields_of(&current).expect("fields") };
        ValidSyncItem {
            index: 0,
            client_report_id: "c1".into(),
            task_id: TaskId(task),
            kind: ReportKind::Part,
            fields,
            backfilled_at: None,
        }
    }

    #[test]
    fn new_identical_changed() {
        assert!(
            matches!(decide(None, &item(1, "x"), DateTime::<Utc>::default()), Ok(SyncDecision::Create(a)) if a.action == "CREATE")
        );
        let current = report(ReportState::Returned);
        assert_eq!(
            decide(Some(&current), &item(1, "Done a lot."), DateTime::<Utc>::default()).ok(),
            Some(SyncDecision::Unchanged)
        );
        let Ok(SyncDecision::Update(applied)) = decide(Some(&current), &item(1, "More."), DateTime::<Utc>::default())
        else {
            panic!("update")
        };
        assert_eq!((applied.action, applied.state), ("SYNC", ReportState::Submitted));
    }

    #[test]
    fn links_stored_before_normalisation_compare_by_their_normalised_spelling() {
        let normalised = ValidSyncItem {
            fields: ValidReportFields { evidence_urls: vec!["http://a.org/".into()], ..item(1, "Done a lot.").fields },
            ..item(1, "Done a lot.")
        };
        for state in [ReportState::Submitted, ReportState::Accepted] {
            let stored = ProgressReport { evidence_urls: vec!["HTTP://A.ORG".into()], ..report(state) };
            assert_eq!(
                decide(Some(&stored), &normalised, DateTime::<Utc>::default()).ok(),
                Some(SyncDecision::Unchanged)
            );
            let other = ProgressReport { evidence_urls: vec!["http://b.org".into()], ..report(state) };
            assert_ne!(
                decide(Some(&other), &normalised, DateTime::<Utc>::default()).ok(),
                Some(SyncDecision::Unchanged)
            );
        }
    }

    #[test]
    fn health_and_obstacles_are_synced_content() {
        let said = ValidSyncItem {
            fields: ValidReportFields {
                health: Some(crate::report::Health::AtRisk),
                obstacles: Some("Late funds.".into()),
                ..item(1, "Done a lot.").fields
            },
            ..item(1, "Done a lot.")
        };
        let current = report(ReportState::Returned);
        let Ok(SyncDecision::Update(applied)) = decide(Some(&current), &said, DateTime::<Utc>::default()) else {
            panic!("a new health is an update")
        };
        let names: Vec<&str> = applied.changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["health", "obstacles", "state"]);
        let stored =
            ProgressReport { health: applied.fields.health, obstacles: applied.fields.obstacles.clone(), ..current };
        assert_eq!(decide(Some(&stored), &said, DateTime::<Utc>::default()).ok(), Some(SyncDecision::Unchanged));
        let Ok(SyncDecision::Update(cleared)) =
            decide(Some(&stored), &item(1, "Done a lot."), DateTime::<Utc>::default())
        else {
            panic!("an item without them clears them")
        };
        assert_eq!((cleared.fields.health, cleared.fields.obstacles), (None, None));
    }

    #[test]
    fn rejections_carry_a_reason_not_a_code() {
        for state in [ReportState::Accepted, ReportState::Withdrawn] {
            let decision = decide(Some(&report(state)), &item(1, "More."), DateTime::<Utc>::default()).expect("decide");
            assert_eq!(decision, SyncDecision::Rejected(RejectReason::Locked(state)));
        }
        let Ok(SyncDecision::Rejected(RejectReason::Invalid(Error::Conflict(_)))) =
            decide(Some(&report(ReportState::Draft)), &item(2, "x"), DateTime::<Utc>::default())
        else {
            panic!("another task is a conflict")
        };
        assert_eq!(RejectReason::Locked(ReportState::Withdrawn).to_string(), "the report was withdrawn");
        assert_eq!(RejectReason::Locked(ReportState::Accepted).to_string(), "the report was accepted and is locked");
    }

    #[test]
    fn client_ids() {
        assert!(check_client_id("a-1", "f").is_ok());
        assert!(check_client_id(" ", "f").is_err());
        assert!(check_client_id("a\nb", "f").is_err());
        assert!(check_client_id("a\u{202E}b", "f").is_err());
        assert!(check_client_id(&"x".repeat(256), "f").is_err());
    }
}
