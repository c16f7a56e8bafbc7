//! Idempotent batch sync: the rules that decide, item by item, what a batch does.

use crate::model::{ChangeKind, ProgressReport, ReportState, TaskId};
use crate::report::{Applied, ValidReportFields, diff, fields_of};
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
    pub client_report_id: String,
    pub task_id: TaskId,
    pub fields: ValidReportFields,
}

/// What a batch item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncOutcome {
    Created,
    Updated,
    Unchanged,
    Rejected,
}

/// What to do with one item, given the report its client id already names (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncDecision {
    Create(Applied),
    Update(Applied),
    Unchanged,
    Rejected { code: &'static str, message: String },
}

/// Checks a client report id.
pub fn check_client_id(id: &str, field: &str) -> Result<()> {
    if id.trim().is_empty() {
        return Err(Error::validation(field, "must not be empty"));
    }
    if id.chars().count() > MAX_CLIENT_ID {
        return Err(Error::validation(field, format!("at most {MAX_CLIENT_ID} characters")));
    }
    if id.chars().any(char::is_control) {
        return Err(Error::validation(field, "must not contain control characters"));
    }
    Ok(())
}

/// Decides an item. Re-sending an identical item changes nothing; a changed one updates the
/// report (and resubmits it) unless it was accepted or withdrawn.
pub fn decide(existing: Option<&ProgressReport>, item: &ValidSyncItem) -> Result<SyncDecision> {
    let Some(current) = existing else {
        return Ok(SyncDecision::Create(Applied {
            task_id: item.task_id,
            fields: item.fields.clone(),
            state: ReportState::Submitted,
            review_comment: None,
            action: "CREATE",
            kind: ChangeKind::Created,
            changes: diff(None, (&item.fields, ReportState::Submitted, None)),
        }));
    };
    if current.task_id != item.task_id {
        return Ok(SyncDecision::Rejected {
            code: "CONFLICT",
            message: "this clientReportId already names a report on another task".into(),
        });
    }
    let fields = fields_of(current)?;
    if fields == item.fields {
        return Ok(SyncDecision::Unchanged);
    }
    match current.state {
        ReportState::Accepted => {
            Ok(SyncDecision::Rejected { code: "LOCKED", message: "the report was accepted and is locked".into() })
        }
        ReportState::Withdrawn => {
            Ok(SyncDecision::Rejected { code: "LOCKED", message: "the report was withdrawn".into() })
        }
        ReportState::Draft | ReportState::Submitted | ReportState::Returned => {
            let changes = diff(
                Some((&fields, current.state, current.review_comment.as_deref())),
                (&item.fields, ReportState::Submitted, current.review_comment.as_deref()),
            );
            Ok(SyncDecision::Update(Applied {
                task_id: item.task_id,
                fields: item.fields.clone(),
                state: ReportState::Submitted,
                review_comment: current.review_comment.clone(),
                action: "SYNC",
                kind: ChangeKind::Updated,
                changes,
            }))
        }
    }
}
