//! Supervision reads: the reporting matrix, derived progress, rollups, scorecards and the
//! overdue list, each computed from a constant number of set-based reads (the plan, the
//! periods, report facts, accepted parts, adjustments) — never one read per row.

use chrono::{DateTime, Utc};

use crate::access::{Viewer, can_supervise};
use crate::ids::AgencyId;
use crate::plan::{Responsibility, Section, Subsection, Task};
use crate::ports::{AdjustmentStore, Clock, PeriodStore, PlanReader, SupervisionReader};
use crate::province::Province;
use crate::report::{Period, Reporter};
use crate::supervision::adjustment::{self, check_revocation};
use crate::supervision::{
    AcceptedParts, AdjustmentId, AdjustmentRequest, Adjustments, Obligation, ObligationAdjustment, ObligationPlan,
    ReportingPeriod, RollupDimension, RollupPlan, RollupRow, obligations, rollup,
};
use crate::{Error, Result};

/// The plan as supervision reads it.
#[derive(Debug, Clone, Default)]
pub struct PlanFrame {
    /// Sections by position.
    pub sections: Vec<Section>,
    /// Subsections by section, then position.
    pub subsections: Vec<Subsection>,
    /// Tasks by number.
    pub tasks: Vec<Task>,
    /// Responsibilities by task, then position.
    pub responsibilities: Vec<Responsibility>,
    /// Provinces by code.
    pub provinces: Vec<Province>,
    /// Every responsible agency, in the order the plan first names them.
    pub agencies: Vec<AgencyId>,
}

impl PlanFrame {
    /// Loads the plan's frame: five reads, whatever its size.
    pub async fn load(plan: &dyn PlanReader) -> Result<Self> {
        let sections = plan.sections().await?;
        let section_ids: Vec<_> = sections.iter().map(|s| s.id).collect();
        let subsections = plan.subsections_by_sections(&section_ids).await?;
        let tasks = plan.tasks().await?;
        let responsibilities = plan.responsibilities().await?;
        let provinces = plan.provinces().await?;
        let mut agencies = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let number_of = |id| tasks.iter().find(|t| t.id == id).map_or(i32::MAX, |t| t.number);
        let mut in_plan_order: Vec<&Responsibility> = responsibilities.iter().collect();
        in_plan_order.sort_by_key(|r| (number_of(r.task_id), r.position));
        for r in in_plan_order {
            if seen.insert(r.agency_id) {
                agencies.push(r.agency_id);
            }
        }
        Ok(Self { sections, subsections, tasks, responsibilities, provinces, agencies })
    }

    /// The parts obligations are drawn from.
    pub fn obligation_plan(&self) -> ObligationPlan<'_> {
        ObligationPlan { tasks: &self.tasks, responsibilities: &self.responsibilities, provinces: &self.provinces }
    }

    /// The parts a rollup groups.
    pub fn rollup_plan(&self) -> RollupPlan<'_> {
        RollupPlan {
            sections: &self.sections,
            subsections: &self.subsections,
            tasks: &self.tasks,
            responsibilities: &self.responsibilities,
            agencies: &self.agencies,
            provinces: &self.provinces,
        }
    }
}

/// The scheduled period `period`, or NOT_FOUND on `field`; a malformed key is BAD_USER_INPUT.
pub async fn scheduled(periods: &dyn PeriodStore, period: &str, field: &str) -> Result<ReportingPeriod> {
    let key = Period::parse(period.trim()).map_err(|e| match e {
        Error::Validation { message, .. } => Error::validation(field, message),
        other => other,
    })?;
    periods
        .period(key)
        .await?
        .ok_or_else(|| Error::not_found(format!("reporting period {key} (schedule it first)"), Some(field)))
}

/// Every obligation of `periods` (of `parties` only, when given), judged at `now`, period by
/// period in the order given.
pub async fn obligations_of(
    facts: &dyn SupervisionReader,
    frame: &PlanFrame,
    periods: &[ReportingPeriod],
    parties: Option<&[Reporter]>,
    now: DateTime<Utc>,
) -> Result<Vec<Obligation>> {
    if periods.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<Period> = periods.iter().map(|p| p.period).collect();
    let reports = facts.report_facts(&keys, parties).await?;
    let adjustments = facts.adjustments(&keys).await?;
    let index = Adjustments::new(&adjustments);
    let mut out = Vec::new();
    for period in periods {
        let mut owed = obligations(frame.obligation_plan(), period, reports.iter().flat_map(|c| c.iter()), &index, now);
        if let Some(parties) = parties {
            owed.retain(|o| parties.contains(&o.party));
        }
        out.extend(owed);
    }
    Ok(out)
}

/// The periods scheduled from `from` to `to` (by start; each bound a period key, inclusive),
/// all when neither is given.
pub async fn periods_between(
    periods: &dyn PeriodStore,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Vec<ReportingPeriod>> {
    let bound = |key: Option<&str>, field: &str| -> Result<Option<Period>> {
        key.map(|k| {
            Period::parse(k.trim()).map_err(|e| match e {
                Error::Validation { message, .. } => Error::validation(field, message),
                other => other,
            })
        })
        .transpose()
    };
    let (from, to) = (bound(from, "from")?, bound(to, "to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f.starts_at() > t.starts_at()
    {
        return Err(Error::validation("to", format!("{t} starts before {f}")));
    }
    let mut all = periods.periods().await?;
    all.retain(|p| {
        from.is_none_or(|f| p.starts_at >= f.starts_at()) && to.is_none_or(|t| p.starts_at <= t.starts_at())
    });
    Ok(all)
}

/// The period progress is derived for when none is asked: the latest scheduled period whose
/// due date has passed, else the earliest scheduled; `None` when nothing is scheduled (then
/// every accepted report counts).
pub fn default_progress_period(periods: &[ReportingPeriod], now: DateTime<Utc>) -> Option<Period> {
    periods
        .iter()
        .filter(|p| p.due_at <= now)
        .max_by_key(|p| (p.starts_at, std::cmp::Reverse(p.ends_at)))
        .or_else(|| periods.iter().min_by_key(|p| (p.starts_at, std::cmp::Reverse(p.ends_at))))
        .map(|p| p.period)
}

/// The period progress is asked for: `asked` (any well-formed key, scheduled or not), else the
/// default ([`default_progress_period`]).
pub async fn progress_period(
    periods: &dyn PeriodStore,
    asked: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<Period>> {
    match asked {
        Some(key) => Period::parse(key.trim()).map(Some).map_err(|e| match e {
            Error::Validation { message, .. } => Error::validation("period", message),
            other => other,
        }),
        None => Ok(default_progress_period(&periods.periods().await?, now)),
    }
}

/// The accepted parts progress is derived from, up to `period`.
pub async fn accepted_parts(
    facts: &dyn SupervisionReader,
    period: Option<Period>,
    agencies_only: bool,
) -> Result<AcceptedParts> {
    Ok(AcceptedParts::new(facts.accepted_parts(period, agencies_only).await?, period))
}

/// The rollup of the scheduled `period` by `by`.
pub async fn rollup_of(
    plan: &dyn PlanReader,
    periods: &dyn PeriodStore,
    facts: &dyn SupervisionReader,
    period: &str,
    by: RollupDimension,
    now: DateTime<Utc>,
) -> Result<Vec<RollupRow>> {
    let period = scheduled(periods, period, "period").await?;
    let frame = PlanFrame::load(plan).await?;
    let owed = obligations_of(facts, &frame, std::slice::from_ref(&period), None, now).await?;
    let agencies_only = matches!(by, RollupDimension::Section | RollupDimension::Subsection | RollupDimension::Agency);
    let parts = accepted_parts(facts, Some(period.period), agencies_only).await?;
    Ok(rollup(by, frame.rollup_plan(), &owed, &parts, period.period, now))
}

/// Exempts or extends obligations in bulk, as the viewer (SUPERVISOR or ADMIN), at the clock's
/// time. The caller is checked before the input; on any error nothing is written.
pub async fn adjust_obligations(
    plan: &dyn PlanReader,
    store: &dyn AdjustmentStore,
    clock: &dyn Clock,
    viewer: &Viewer,
    request: &AdjustmentRequest,
) -> Result<Vec<ObligationAdjustment>> {
    let principal = viewer.principal()?;
    can_supervise(principal)?;
    let tasks = plan.tasks_by_ids(&request.tasks).await?;
    let responsibilities = plan.responsibilities_by_tasks(&request.tasks).await?;
    let provinces = plan.provinces().await?;
    let adjustments = adjustment::expand(request, &tasks, &responsibilities, &provinces)?;
    store.adjust(principal, adjustments, clock.now()).await
}

/// Undoes adjustments, as the viewer (SUPERVISOR or ADMIN), at the clock's time.
pub async fn revoke_adjustments(
    store: &dyn AdjustmentStore,
    clock: &dyn Clock,
    viewer: &Viewer,
    ids: &[AdjustmentId],
    reason: &str,
) -> Result<Vec<ObligationAdjustment>> {
    let principal = viewer.principal()?;
    can_supervise(principal)?;
    let reason = check_revocation(ids, reason)?;
    store.revoke_adjustments(principal, ids, &reason, clock.now()).await
}
