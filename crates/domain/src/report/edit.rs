//! Changes to an existing report: edit its content (and maybe submit it), withdraw it, or
//! review it. [`apply_edit`] checks who may, in which state and on which version, then hands
//! each kind of edit to its own function.

use chrono::{DateTime, Utc};

use super::history::{ChangeKind, FieldChange, diff};
use super::submit::{ReportContent, ValidReportFields};
use super::{AcceptedVersion, Health, ProgressReport, ReportState, ReportStatus, can_change};
use crate::access::{Principal, can_edit, can_review};
use crate::ids::TaskId;
use crate::text::check_text;
use crate::{Error, Result};

/// Longest review comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 5000;

/// Changes to a report's content; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportPatch {
    /// A new period.
    pub period: Option<String>,
    /// A new status.
    pub status: Option<ReportStatus>,
    /// A new percentage; `Some(None)` clears it.
    pub percent_complete: Option<Option<i32>>,
    /// A new summary.
    pub summary: Option<String>,
    /// A new list of evidence links (replaces the old one).
    pub evidence_urls: Option<Vec<String>>,
    /// A new health; `Some(None)` clears it.
    pub health: Option<Option<Health>>,
    /// A new obstacles text; `Some(None)` (or a blank text) clears it.
    pub obstacles: Option<Option<String>>,
    /// Move a DRAFT or RETURNED report to SUBMITTED.
    pub submit: bool,
}

/// A change to an existing report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Edit the content (and maybe submit).
    Patch(ReportPatch),
    /// Withdraw it.
    Withdraw,
    /// Accept or return it, with a comment (required to return).
    Review {
        /// Accept (true) or return (false).
        accept: bool,
        /// The supervisor's comment.
        comment: Option<String>,
    },
    /// Reopen an accepted report for correction: it is RETURNED with the reason, and its
    /// accepted version stays official until the correction is accepted.
    Reopen {
        /// Why it needs correcting.
        reason: String,
    },
}

/// What applying an edit or a sync item produces: the new content and state, and what to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The task reported on.
    pub task_id: TaskId,
    /// The content after the write.
    pub fields: ValidReportFields,
    /// The state after the write.
    pub state: ReportState,
    /// The review comment after the write.
    pub review_comment: Option<String>,
    /// The history action: CREATE, UPDATE, SUBMIT, WITHDRAW, ACCEPT, RETURN, REOPEN, SYNC, BACKFILL.
    pub action: &'static str,
    /// The change-feed kind.
    pub kind: ChangeKind,
    /// What changed, field by field.
    pub changes: Vec<FieldChange>,
    /// When the write happens.
    pub at: DateTime<Utc>,
    /// When the report last entered SUBMITTED, after the write.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When it first entered SUBMITTED, after the write.
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// Its last accepted content, after the write.
    pub accepted: Option<AcceptedVersion>,
}

/// The submission times after a write at `at` that leaves a report (`current`, or a new one)
/// in `state`: entering SUBMITTED sets the last submission time, and the first if unset.
pub fn submission_times(
    current: Option<&ProgressReport>,
    state: ReportState,
    at: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let (last, first) = current.map_or((None, None), |c| (c.submitted_at, c.first_submitted_at));
    let entering = state == ReportState::Submitted && current.is_none_or(|c| c.state != ReportState::Submitted);
    if entering { (Some(at), first.or(Some(at))) } else { (last, first) }
}

/// The accepted content after a write that leaves `current` (at its next version) in `state`
/// with `fields` at `at`: a new snapshot on acceptance, the old one otherwise.
pub fn accepted_after(
    current: &ProgressReport,
    state: ReportState,
    fields: &ValidReportFields,
    at: DateTime<Utc>,
) -> Option<AcceptedVersion> {
    if state == ReportState::Accepted && current.state != ReportState::Accepted {
        Some(AcceptedVersion::of(current.version + 1, fields, at))
    } else {
        current.accepted.clone()
    }
}

/// The content of a stored report, as validated fields.
pub fn fields_of(report: &ProgressReport) -> Result<ValidReportFields> {
    Ok(ValidReportFields {
        period: super::Period::parse(&report.period)?,
        status: report.status,
        percent_complete: report.percent_complete,
        summary: report.summary.clone(),
        evidence_urls: report.evidence_urls.clone(),
        health: report.health,
        obstacles: report.obstacles.clone(),
    })
}

/// The new content, state, comment and what to record, before the diff is taken.
struct Outcome {
    fields: ValidReportFields,
    state: ReportState,
    comment: Option<String>,
    action: &'static str,
    kind: ChangeKind,
}

fn prefixed(err: Error, prefix: &str) -> Error {
    match err {
        Error::Validation { field, message } => Error::validation(format!("{prefix}{field}"), message),
        other => other,
    }
}

/// Applies `edit` to `current` on behalf of `principal` at `at`, checking every rule: who may,
/// in which state, and on which version. Nothing is decided elsewhere.
///
/// A report the principal may not read is NOT_FOUND, exactly as one that does not exist, so a
/// guessed id tells nothing; FORBIDDEN is only for a report it reads but may not change.
pub fn apply_edit(
    principal: &Principal,
    current: &ProgressReport,
    expected_version: i32,
    edit: &Edit,
    at: DateTime<Utc>,
) -> Result<Applied> {
    if !current.readable_within(&principal.report_scope()) {
        return Err(unknown_report());
    }
    match edit {
        Edit::Review { .. } | Edit::Reopen { .. } => can_review(principal)?,
        Edit::Patch(_) | Edit::Withdraw => can_edit(principal, current)?,
    }
    if current.version != expected_version {
        return Err(Error::StaleVersion { expected: expected_version, current: current.version });
    }
    let fields = fields_of(current)?;
    let outcome = match edit {
        Edit::Patch(patch) => apply_patch(current, patch)?,
        Edit::Withdraw => apply_withdraw(current, &fields)?,
        Edit::Review { accept, comment } => apply_review(current, &fields, *accept, comment.as_deref())?,
        Edit::Reopen { reason } => apply_reopen(current, &fields, reason)?,
    };
    let before = Some((&fields, current.state, current.review_comment.as_deref()));
    let changes = diff(before, (&outcome.fields, outcome.state, outcome.comment.as_deref()));
    if changes.is_empty() {
        return Err(Error::validation("patch", "the patch changes nothing"));
    }
    let (submitted_at, first_submitted_at) = submission_times(Some(current), outcome.state, at);
    let accepted = accepted_after(current, outcome.state, &outcome.fields, at);
    Ok(Applied {
        task_id: current.task_id,
        fields: outcome.fields,
        state: outcome.state,
        review_comment: outcome.comment,
        action: outcome.action,
        kind: outcome.kind,
        changes,
        at,
        submitted_at,
        first_submitted_at,
        accepted,
    })
}

/// The error for a report that does not exist, or that the caller may not read: the two are
/// indistinguishable by design. The store answers a missing id with this same error.
pub fn unknown_report() -> Error {
    Error::not_found("report", Some("id"))
}

/// Merges `patch` into the current content and checks the result as a whole.
fn apply_patch(current: &ProgressReport, patch: &ReportPatch) -> Result<Outcome> {
    if !can_change(current) {
        return Err(Error::Conflict(format!("a {} report cannot be changed", current.state.as_str())));
    }
    let merged = ReportContent {
        period: patch.period.clone().unwrap_or_else(|| current.period.clone()),
        status: patch.status.unwrap_or(current.status),
        percent_complete: patch.percent_complete.unwrap_or(current.percent_complete),
        summary: patch.summary.clone().unwrap_or_else(|| current.summary.clone()),
        evidence_urls: patch.evidence_urls.clone().unwrap_or_else(|| current.evidence_urls.clone()),
        health: patch.health.unwrap_or(current.health),
        obstacles: patch.obstacles.clone().unwrap_or_else(|| current.obstacles.clone()),
    }
    .validate()
    .map_err(|e| prefixed(e, "patch."))?;
    let state = if patch.submit { ReportState::Submitted } else { current.state };
    let (action, kind) =
        if state == current.state { ("UPDATE", ChangeKind::Updated) } else { ("SUBMIT", ChangeKind::StatusChanged) };
    let comment = comment_after(current, state);
    Ok(Outcome { fields: merged, state, comment, action, kind })
}

/// The review comment after a write leaving `current` in `state`: a resubmission clears the
/// last return's reason (it stays in the history).
pub fn comment_after(current: &ProgressReport, state: ReportState) -> Option<String> {
    if state == ReportState::Submitted && current.state != ReportState::Submitted {
        None
    } else {
        current.review_comment.clone()
    }
}

/// Withdraws a report that is not locked, nor reopened (its accepted version is official).
fn apply_withdraw(current: &ProgressReport, fields: &ValidReportFields) -> Result<Outcome> {
    if !can_change(current) {
        return Err(Error::Conflict(format!("a {} report cannot be withdrawn", current.state.as_str())));
    }
    if current.is_reopened() {
        return Err(Error::Conflict(
            "a reopened report cannot be withdrawn: its accepted version stays official; correct and resubmit it"
                .into(),
        ));
    }
    Ok(Outcome {
        fields: fields.clone(),
        state: ReportState::Withdrawn,
        comment: current.review_comment.clone(),
        action: "WITHDRAW",
        kind: ChangeKind::Withdrawn,
    })
}

/// Accepts or returns a submitted report; returning needs a reason.
fn apply_review(
    current: &ProgressReport,
    fields: &ValidReportFields,
    accept: bool,
    comment: Option<&str>,
) -> Result<Outcome> {
    if !super::awaits_review(current) {
        return Err(Error::Conflict(format!(
            "only SUBMITTED reports are reviewed; this one is {}",
            current.state.as_str()
        )));
    }
    let comment = checked_comment(comment, "comment")?;
    if !accept && comment.is_none() {
        return Err(Error::validation("comment", "returning a report needs a reason"));
    }
    let (state, action) = if accept { (ReportState::Accepted, "ACCEPT") } else { (ReportState::Returned, "RETURN") };
    Ok(Outcome { fields: fields.clone(), state, comment, action, kind: ChangeKind::Reviewed })
}

/// A trimmed comment (`None` when blank): at most [`MAX_COMMENT_CHARS`], by the rules of every
/// free text ([`check_text`]).
fn checked_comment(comment: Option<&str>, field: &str) -> Result<Option<String>> {
    let comment = comment.map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    if let Some(c) = &comment {
        check_text(c, field, MAX_COMMENT_CHARS)?;
    }
    Ok(comment)
}

/// Reopens an ACCEPTED report for correction: RETURNED, with the reason as review comment.
fn apply_reopen(current: &ProgressReport, fields: &ValidReportFields, reason: &str) -> Result<Outcome> {
    if current.state != ReportState::Accepted {
        return Err(Error::Conflict(format!(
            "only ACCEPTED reports are reopened; this one is {}",
            current.state.as_str()
        )));
    }
    let reason = checked_comment(Some(reason), "reason")?
        .ok_or_else(|| Error::validation("reason", "reopening a report needs a reason"))?;
    Ok(Outcome {
        fields: fields.clone(),
        state: ReportState::Returned,
        comment: Some(reason),
        action: "REOPEN",
        kind: ChangeKind::Reopened,
    })
}

#[cfg(test)]
mod tests;
