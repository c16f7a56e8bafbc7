//! Report rows ↔ domain values: a report (read, inserted, updated, a demo report as its
//! story left it), its history entries and its change-feed rows.

use sea_orm::Set;
use workplan_domain::demo::DemoReport;
use workplan_domain::ids::{ChangeId, ReportId, TaskId};
use workplan_domain::report::{
    AcceptedVersion, Applied, Change, ChangeKind, FeedPosition, FieldChange, Health, HistoryEntry, NewReport,
    ProgressReport, ReportKind, ReportState, ReportStatus, Reporter, ValidReportFields, fields_of,
};
use workplan_domain::{Error, Result};

use super::{corrupt, reporter_cols, reporter_from_cols};
use crate::entities::{progress_report, report_change, report_history};

pub(crate) fn to_report(m: progress_report::Model) -> Result<ProgressReport> {
    let status = ReportStatus::parse(&m.status).ok_or_else(|| corrupt("status", &m.status))?;
    let state = ReportState::parse(&m.state).ok_or_else(|| corrupt("state", &m.state))?;
    let reporter = reporter_from_cols(m.agency_id, m.province_id)
        .ok_or_else(|| corrupt("reporter of report", &m.id.to_string()))?;
    let evidence_urls: Vec<String> =
        serde_json::from_str(&m.evidence_urls).map_err(|_| corrupt("evidence URLs", &m.evidence_urls))?;
    let kind = ReportKind::parse(&m.kind).ok_or_else(|| corrupt("kind", &m.kind))?;
    let health = m.health.as_deref().map(|h| Health::parse(h).ok_or_else(|| corrupt("health", h))).transpose()?;
    let accepted = m
        .accepted_content
        .as_deref()
        .map(|json| serde_json::from_str::<AcceptedVersion>(json).map_err(|_| corrupt("accepted content", json)))
        .transpose()?;
    Ok(ProgressReport {
        id: ReportId(m.id),
        state,
        client_report_id: m.client_report_id,
        review_comment: m.review_comment,
        updated_at: m.updated_at.unwrap_or(m.created_at),
        task_id: TaskId(m.task_id),
        reporter,
        period: m.period,
        status,
        percent_complete: m.percent_complete,
        summary: m.summary,
        evidence_urls,
        health,
        obstacles: m.obstacles,
        kind,
        created_at: m.created_at,
        submitted_at: m.submitted_at,
        first_submitted_at: m.first_submitted_at,
        accepted,
        version: m.version,
        is_demo: m.is_demo,
    })
}

/// Sets a report row's content columns (evidence URLs are stored as a JSON array), with the
/// bounds of its period that supervision reads.
fn set_fields(row: &mut progress_report::ActiveModel, fields: ValidReportFields) -> Result<()> {
    row.period = Set(fields.period.to_string());
    row.period_starts_at = Set(fields.period.starts_at());
    row.period_ends_at = Set(fields.period.ends_at());
    row.status = Set(fields.status.as_str().to_owned());
    row.percent_complete = Set(fields.percent_complete);
    row.summary = Set(fields.summary);
    row.evidence_urls = Set(serde_json::to_string(&fields.evidence_urls).map_err(Error::internal)?);
    row.health = Set(fields.health.map(|h| h.as_str().to_owned()));
    row.obstacles = Set(fields.obstacles);
    Ok(())
}

/// Sets a report row's accepted version: its JSON, and the status, percent and health
/// supervision reads without parsing it (all NULL without one).
fn set_accepted(row: &mut progress_report::ActiveModel, accepted: Option<&AcceptedVersion>) -> Result<()> {
    row.accepted_content = Set(accepted.map(serde_json::to_string).transpose().map_err(Error::internal)?);
    row.accepted_status = Set(accepted.map(|a| a.status.as_str().to_owned()));
    row.accepted_percent = Set(accepted.and_then(|a| a.percent_complete));
    row.accepted_health = Set(accepted.and_then(|a| a.health).map(|h| h.as_str().to_owned()));
    Ok(())
}

/// A report row to insert, column by column: what [`report_active_model`] and
/// [`demo_report_active_model`] each decide, set in one place.
struct InsertedReport {
    task: TaskId,
    reporter: Reporter,
    kind: ReportKind,
    state: ReportState,
    version: i32,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    first_submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    ever_returned: bool,
    is_demo: bool,
    client_report_id: Option<String>,
    review_comment: Option<String>,
    accepted: Option<AcceptedVersion>,
    fields: ValidReportFields,
}

impl InsertedReport {
    fn into_row(self) -> Result<progress_report::ActiveModel> {
        let (agency_id, province_id) = reporter_cols(self.reporter);
        let mut row = progress_report::ActiveModel {
            task_id: Set(self.task.0),
            agency_id: Set(agency_id),
            province_id: Set(province_id),
            created_at: Set(self.created_at),
            submitted_at: Set(self.submitted_at),
            first_submitted_at: Set(self.first_submitted_at),
            kind: Set(self.kind.as_str().to_owned()),
            updated_at: Set(Some(self.updated_at)),
            version: Set(self.version),
            is_demo: Set(self.is_demo),
            state: Set(self.state.as_str().to_owned()),
            ever_returned: Set(self.ever_returned),
            client_report_id: Set(self.client_report_id),
            review_comment: Set(self.review_comment),
            ..Default::default()
        };
        set_accepted(&mut row, self.accepted.as_ref())?;
        set_fields(&mut row, self.fields)?;
        Ok(row)
    }
}

/// The row to insert for a new report, at version 1 (one inserted ACCEPTED gets its accepted
/// content too).
pub(crate) fn report_active_model(report: NewReport) -> Result<progress_report::ActiveModel> {
    let accepted = (report.state == ReportState::Accepted)
        .then(|| AcceptedVersion::of(1, &report.fields, report.submitted_at.unwrap_or(report.created_at)));
    InsertedReport {
        task: report.task_id,
        reporter: report.reporter,
        kind: report.kind,
        state: report.state,
        version: 1,
        created_at: report.created_at,
        updated_at: report.created_at,
        submitted_at: report.submitted_at,
        first_submitted_at: report.first_submitted_at,
        ever_returned: report.state == ReportState::Returned,
        is_demo: report.is_demo,
        client_report_id: report.client_report_id,
        review_comment: None,
        accepted,
        fields: report.fields,
    }
    .into_row()
}

/// The row to insert for a demo report as its story left it: state, version, times, review
/// comment and accepted version as they are, and the columns supervision reads
/// (`ever_returned`, `accepted_*`, the period bounds) set as on every other write.
pub(crate) fn demo_report_active_model(demo: DemoReport) -> Result<progress_report::ActiveModel> {
    let DemoReport { report, ever_returned } = demo;
    InsertedReport {
        fields: fields_of(&report)?,
        task: report.task_id,
        reporter: report.reporter,
        kind: report.kind,
        state: report.state,
        version: report.version,
        created_at: report.created_at,
        updated_at: report.updated_at,
        submitted_at: report.submitted_at,
        first_submitted_at: report.first_submitted_at,
        ever_returned,
        is_demo: report.is_demo,
        client_report_id: report.client_report_id,
        review_comment: report.review_comment,
        accepted: report.accepted,
    }
    .into_row()
}

/// The update that applies `applied` to `current`: the next version, changed at `applied.at`.
/// A write that leaves the report RETURNED (a return, or a reopening for correction) marks it
/// as ever returned; no write unmarks it.
pub(crate) fn report_update_model(current: &ProgressReport, applied: &Applied) -> Result<progress_report::ActiveModel> {
    let mut row = progress_report::ActiveModel {
        id: Set(current.id.0),
        state: Set(applied.state.as_str().to_owned()),
        review_comment: Set(applied.review_comment.clone()),
        version: Set(current.version + 1),
        updated_at: Set(Some(applied.at)),
        submitted_at: Set(applied.submitted_at),
        first_submitted_at: Set(applied.first_submitted_at),
        ..Default::default()
    };
    if applied.state == ReportState::Returned {
        row.ever_returned = Set(true);
    }
    set_accepted(&mut row, applied.accepted.as_ref())?;
    set_fields(&mut row, applied.fields.clone())?;
    Ok(row)
}

// ---- history and the change feed -------------------------------------------------------------

/// The history row for a write that left `report` as it is, by `actor`.
pub(crate) fn history_active_model(
    report: &ProgressReport,
    actor: String,
    action: &str,
    changes: &[FieldChange],
) -> Result<report_history::ActiveModel> {
    Ok(report_history::ActiveModel {
        report_id: Set(report.id.0),
        version: Set(report.version),
        action: Set(action.to_owned()),
        actor: Set(actor),
        at: Set(report.updated_at),
        changes: Set(serde_json::to_string(changes).map_err(Error::internal)?),
        ..Default::default()
    })
}

pub(crate) fn to_history(h: report_history::Model) -> Result<HistoryEntry> {
    Ok(HistoryEntry {
        report_id: ReportId(h.report_id),
        version: h.version,
        action: h.action,
        actor: h.actor,
        at: h.at,
        changes: serde_json::from_str(&h.changes).map_err(Error::internal)?,
    })
}

/// The change-feed row for a write that left `report` as it is, by `actor`.
pub(crate) fn change_active_model(
    report: &ProgressReport,
    actor: String,
    kind: ChangeKind,
) -> report_change::ActiveModel {
    let (agency_id, province_id) = reporter_cols(report.reporter);
    report_change::ActiveModel {
        report_id: Set(report.id.0),
        kind: Set(kind.as_str().to_owned()),
        version: Set(report.version),
        state: Set(report.state.as_str().to_owned()),
        agency_id: Set(agency_id),
        province_id: Set(province_id),
        actor: Set(actor),
        at: Set(report.updated_at),
        ..Default::default()
    }
}

pub(crate) fn to_change(c: report_change::Model) -> Result<Change> {
    let bad = || Error::internal(std::io::Error::other(format!("change {} is malformed", c.id)));
    Ok(Change {
        id: ChangeId(c.id),
        position: FeedPosition { txn: c.txid, id: ChangeId(c.id) },
        report_id: ReportId(c.report_id),
        kind: ChangeKind::parse(&c.kind).ok_or_else(bad)?,
        version: c.version,
        state: ReportState::parse(&c.state).ok_or_else(bad)?,
        reporter: reporter_from_cols(c.agency_id, c.province_id).ok_or_else(bad)?,
        actor: c.actor,
        at: c.at,
    })
}
