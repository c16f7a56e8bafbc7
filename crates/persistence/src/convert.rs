//! Rows ↔ domain values: every conversion between an entity and the domain lives here, so a
//! column that changes shape is changed in one place.
//!
//! A stored value the domain cannot read (an unknown enum string, a malformed JSON column, a
//! report with both or neither reporter column) is an internal error: the database holds what
//! this crate wrote, so a bad value means corruption, not bad input.

use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ColumnTrait, Set};
use workplan_domain::agency::Agency;
use workplan_domain::demo::DemoReport;
use workplan_domain::ids::{
    AgencyId, ChangeId, PlanId, ProvinceId, ReportId, SectionId, SubsectionId, TaskId, TokenId,
};
use workplan_domain::plan::{DocumentInfo, Plan, Responsibility, ResponsibilityMode, Role, Section, Subsection, Task};
use workplan_domain::ports::NewToken;
use workplan_domain::province::{Province, ProvinceKind};
use workplan_domain::report::{
    AcceptedVersion, Applied, Change, ChangeKind, FeedPosition, FieldChange, Health, HistoryEntry, NewReport, Period,
    ProgressReport, ReportKind, ReportState, ReportStatus, Reporter, ValidReportFields, fields_of,
};
use workplan_domain::supervision::{AdjustmentId, AdjustmentKind, NewAdjustment, ObligationAdjustment, Revocation};
use workplan_domain::token::{AccessRole, ApiToken};
use workplan_domain::{Error, Result};

use crate::entities::{
    agency, api_token, obligation_adjustment, plan, progress_report, province, report_change, report_history,
    responsibility, section, subsection, task,
};

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(std::io::Error::other(format!("stored {what} {value:?} is not valid")))
}

/// Converts every row, stopping at the first that does not convert.
pub(crate) fn collect<T, U>(rows: Vec<T>, f: impl Fn(T) -> Result<U>) -> Result<Vec<U>> {
    rows.into_iter().map(f).collect()
}

/// The column values of `ids`, sorted and without repeats (a stable, short `IN` list).
pub(crate) fn ids<T: Copy>(ids: &[T], f: impl Fn(T) -> i64) -> Vec<i64> {
    let mut out: Vec<i64> = ids.iter().map(|&i| f(i)).collect();
    out.sort_unstable();
    out.dedup();
    out
}

// ---- the reporter: exactly one of (agency_id, province_id) -----------------------------------

/// The `(agency_id, province_id)` columns that store `reporter`.
pub(crate) fn reporter_cols(reporter: Reporter) -> (Option<i64>, Option<i64>) {
    match reporter {
        Reporter::Agency(AgencyId(a)) => (Some(a), None),
        Reporter::Province(ProvinceId(p)) => (None, Some(p)),
    }
}

/// The reporter stored in `(agency_id, province_id)`; `None` unless exactly one is set.
pub(crate) fn reporter_from_cols(agency_id: Option<i64>, province_id: Option<i64>) -> Option<Reporter> {
    match (agency_id, province_id) {
        (Some(a), None) => Some(Reporter::Agency(AgencyId(a))),
        (None, Some(p)) => Some(Reporter::Province(ProvinceId(p))),
        _ => None,
    }
}

/// The condition "the row's reporter is `reporter`", on a table's agency and province columns.
pub(crate) fn reporter_is(reporter: Reporter, agency: impl ColumnTrait, province: impl ColumnTrait) -> SimpleExpr {
    match reporter {
        Reporter::Agency(AgencyId(a)) => agency.eq(a),
        Reporter::Province(ProvinceId(p)) => province.eq(p),
    }
}

// ---- the plan --------------------------------------------------------------------------------

pub(crate) fn to_plan(m: plan::Model) -> Plan {
    Plan {
        id: PlanId(m.id),
        document: DocumentInfo {
            title: m.title,
            plan_title: m.plan_title,
            issuing_office: m.issuing_office,
            document_number: m.document_number,
            issue_date: m.issue_date,
            implements_title: m.implements_title,
            implements_reference: m.implements_reference,
            notice: m.notice,
        },
    }
}

pub(crate) fn to_section(m: section::Model) -> Section {
    Section {
        id: SectionId(m.id),
        plan_id: PlanId(m.plan_id),
        position: m.position,
        numeral: m.numeral,
        title: m.title,
    }
}

pub(crate) fn to_subsection(m: subsection::Model) -> Subsection {
    Subsection {
        id: SubsectionId(m.id),
        section_id: SectionId(m.section_id),
        position: m.position,
        numeral: m.numeral,
        title: m.title,
    }
}

pub(crate) fn to_task(m: task::Model) -> Result<Task> {
    let mode =
        ResponsibilityMode::parse(&m.responsibility_mode).ok_or_else(|| corrupt("mode", &m.responsibility_mode))?;
    Ok(Task {
        id: TaskId(m.id),
        plan_id: PlanId(m.plan_id),
        section_id: SectionId(m.section_id),
        subsection_id: SubsectionId(m.subsection_id),
        number: m.number,
        text: m.text,
        mode,
    })
}

pub(crate) fn to_responsibility(m: responsibility::Model) -> Result<Responsibility> {
    let role = Role::parse(&m.role).ok_or_else(|| corrupt("role", &m.role))?;
    Ok(Responsibility { task_id: TaskId(m.task_id), agency_id: AgencyId(m.agency_id), role, position: m.position })
}

/// An agency from its row, its aliases and its `(task_count, lead_task_count)`, which other
/// tables hold.
pub(crate) fn to_agency(m: agency::Model, aliases: Vec<String>, (task_count, lead_task_count): (i64, i64)) -> Agency {
    Agency {
        id: AgencyId(m.id),
        aliases,
        task_count,
        lead_task_count,
        name: m.name,
        name_zh: m.name_zh,
        abbreviation: m.abbreviation,
    }
}

pub(crate) fn to_province(m: province::Model) -> Result<Province> {
    let kind = ProvinceKind::parse(&m.kind).ok_or_else(|| corrupt("province kind", &m.kind))?;
    Ok(Province { id: ProvinceId(m.id), code: m.code, name: m.name, name_zh: m.name_zh, kind })
}

// ---- reports ---------------------------------------------------------------------------------

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

// ---- exemptions and extensions ---------------------------------------------------------------

/// The row for a new adjustment made by `actor` at `at`.
pub(crate) fn adjustment_active_model(
    adjustment: &NewAdjustment,
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> obligation_adjustment::ActiveModel {
    let (agency_id, province_id) = reporter_cols(adjustment.party);
    obligation_adjustment::ActiveModel {
        kind: Set(adjustment.kind.as_str().to_owned()),
        period: Set(adjustment.period.map(|p| p.to_string())),
        task_id: Set(adjustment.task_id.0),
        agency_id: Set(agency_id),
        province_id: Set(province_id),
        due_at: Set(adjustment.due_at),
        reason: Set(adjustment.reason.clone()),
        actor: Set(actor.to_owned()),
        at: Set(at),
        revoked_at: Set(None),
        revoked_by: Set(None),
        revoke_reason: Set(None),
        ..Default::default()
    }
}

pub(crate) fn to_adjustment(m: obligation_adjustment::Model) -> Result<ObligationAdjustment> {
    let id = m.id.to_string();
    let kind = AdjustmentKind::parse(&m.kind).ok_or_else(|| corrupt("adjustment kind", &m.kind))?;
    let period =
        m.period.as_deref().map(|p| Period::parse(p).map_err(|_| corrupt("adjustment period", p))).transpose()?;
    let party = reporter_from_cols(m.agency_id, m.province_id).ok_or_else(|| corrupt("party of adjustment", &id))?;
    let revoked = match (m.revoked_at, m.revoked_by, m.revoke_reason) {
        (None, None, None) => None,
        (Some(at), Some(actor), Some(reason)) => Some(Revocation { actor, at, reason }),
        _ => return Err(corrupt("revocation of adjustment", &id)),
    };
    Ok(ObligationAdjustment {
        id: AdjustmentId(m.id),
        kind,
        period,
        task_id: TaskId(m.task_id),
        party,
        due_at: m.due_at,
        reason: m.reason,
        actor: m.actor,
        at: m.at,
        revoked,
    })
}

// ---- tokens ----------------------------------------------------------------------------------

/// The row for a new token, created at `at`.
pub(crate) fn token_active_model(token: NewToken, at: chrono::DateTime<chrono::Utc>) -> api_token::ActiveModel {
    api_token::ActiveModel {
        name: Set(token.name),
        role: Set(token.role.as_str().to_owned()),
        agency_id: Set(token.agency.map(|a| a.0)),
        province_id: Set(token.province.map(|p| p.0)),
        secret_hash: Set(token.secret_hash),
        created_at: Set(at),
        expires_at: Set(token.expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
}

pub(crate) fn to_token(m: api_token::Model) -> Result<ApiToken> {
    let role = AccessRole::parse(&m.role)
        .ok_or_else(|| Error::internal(std::io::Error::other(format!("token {} has role {:?}", m.id, m.role))))?;
    Ok(ApiToken {
        id: TokenId(m.id),
        name: m.name,
        role,
        agency: m.agency_id.map(AgencyId),
        province: m.province_id.map(ProvinceId),
        created_at: m.created_at,
        expires_at: m.expires_at,
        revoked_at: m.revoked_at,
        last_used_at: m.last_used_at,
    })
}
