//! Rows ↔ domain values: every conversion between an entity and the domain lives here, so a
//! column that changes shape is changed in one place.
//!
//! A stored value the domain cannot read (an unknown enum string, a malformed JSON column, a
//! report with both or neither reporter column) is an internal error: the database holds what
//! this crate wrote, so a bad value means corruption, not bad input.
//!
//! Reports, their history and the change feed are in [`report`]; the plan, tokens and
//! adjustments here.

mod report;

pub(crate) use report::{
    change_active_model, demo_report_active_model, history_active_model, report_active_model, report_update_model,
    to_change, to_history, to_report,
};

use sea_orm::sea_query::SimpleExpr;
use sea_orm::{ColumnTrait, Set};
use workplan_domain::agency::Agency;
use workplan_domain::ids::{AgencyId, PlanId, ProvinceId, SectionId, SubsectionId, TaskId, TokenId};
use workplan_domain::plan::{DocumentInfo, Plan, Responsibility, ResponsibilityMode, Role, Section, Subsection, Task};
use workplan_domain::ports::NewToken;
use workplan_domain::province::{Province, ProvinceKind};
use workplan_domain::report::{Period, Reporter};
use workplan_domain::supervision::{AdjustmentId, AdjustmentKind, NewAdjustment, ObligationAdjustment, Revocation};
use workplan_domain::token::{AccessRole, ApiToken};
use workplan_domain::{Error, Result};

use crate::entities::{
    agency, api_token, obligation_adjustment, plan, province, responsibility, section, subsection, task,
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
