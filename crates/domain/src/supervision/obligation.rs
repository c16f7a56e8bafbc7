//! Obligations: who owes which report for a scheduled period, and where each stands.
//!
//! For a scheduled period every responsibility (task × responsible agency) owes one PART
//! report, and every province owes one PART report per task, unless a supervisor exempted the
//! obligation. The rules, exactly as docs/supervision.md states them:
//!
//! - The report that counts is the party's live PART report for exactly that period.
//! - `NOT_DUE`: no report, a draft, or a RETURNED report not yet resubmitted — and `dueAt` is in
//!   the future. `OVERDUE`: the same with `dueAt` passed. `SUBMITTED`: waiting for review (also
//!   after the due date). `ACCEPTED`: accepted, or reopened for correction. `EXEMPT`: exempted.
//! - `onTime` = `firstSubmittedAt ≤ dueAt`; null while nothing was ever submitted and the
//!   obligation is NOT_DUE (false once it is OVERDUE with nothing ever submitted).
//! - `daysLate` = whole days, rounded up, from `dueAt` to `firstSubmittedAt` — or to now when
//!   nothing was ever submitted and the obligation is OVERDUE; 0 when on time; null when
//!   NOT_DUE or EXEMPT.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::ids::{AgencyId, ProvinceId, ReportId, SectionId, SubsectionId, TaskId, string_enum};
use crate::plan::{Responsibility, Role, Task};
use crate::province::Province;
use crate::report::{Period, ReportState, Reporter};
use crate::supervision::adjustment::Adjustments;
use crate::supervision::period::ReportingPeriod;

string_enum!(
    /// Where an obligation stands.
    pub enum ObligationState {
        /// Not reported (no report, a draft, or a returned report not yet resubmitted), and
        /// the due date is still ahead.
        NotDue = "NOT_DUE",
        /// Not reported, and the due date has passed.
        Overdue = "OVERDUE",
        /// Submitted and waiting for review (also after the due date).
        Submitted = "SUBMITTED",
        /// Accepted, or reopened for correction (its last accepted version still counts).
        Accepted = "ACCEPTED",
        /// A supervisor exempted the obligation.
        Exempt = "EXEMPT",
    }
);

string_enum!(
    /// Which kind of party owes a report.
    pub enum PartyKind {
        /// A central agency responsible for the task.
        Agency = "AGENCY",
        /// A provincial-level government.
        Province = "PROVINCE",
    }
);

impl PartyKind {
    /// The kind of `party`.
    pub fn of(party: Reporter) -> Self {
        match party {
            Reporter::Agency(_) => Self::Agency,
            Reporter::Province(_) => Self::Province,
        }
    }
}

/// What the obligation rules need to know of a report: its state and times, never its text
/// (so the whole matrix fits in a small index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    /// The report.
    pub id: ReportId,
    /// The task it reports on.
    pub task_id: TaskId,
    /// Who filed it.
    pub reporter: Reporter,
    /// The period it reports on.
    pub period: Period,
    /// Its lifecycle state.
    pub state: ReportState,
    /// When it first entered SUBMITTED.
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// Whether it has an accepted version (an ACCEPTED report, or one reopened for correction).
    pub has_accepted: bool,
    /// Whether a supervisor ever returned it.
    pub ever_returned: bool,
}

impl ReportFacts {
    /// Whether `scope` lets its holder see this report (as [`crate::report::ProgressReport::readable_within`]
    /// decides for the whole report: a reopened report is readable as its accepted version).
    pub fn readable_within(&self, scope: &crate::access::ReportScope) -> bool {
        crate::access::in_scope(scope, self.state, self.reporter, self.first_submitted_at.is_some())
            || (self.has_accepted && self.state != ReportState::Withdrawn)
    }
}

/// How an obligation stands, by the rules of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Its state.
    pub state: ObligationState,
    /// Whether the report was first submitted by the due date (see the module rules).
    pub on_time: Option<bool>,
    /// Whole days late, rounded up (see the module rules).
    pub days_late: Option<i64>,
}

/// Whole days from `from` to `to`, rounded up; 0 when `to` is not after `from`.
pub fn days_between_rounded_up(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    let seconds = (to - from).num_seconds();
    if seconds <= 0 { 0 } else { (seconds + 86_399) / 86_400 }
}

/// Judges one obligation due at `due_at`, whose counting report is `report`, at `now`.
pub fn judge(due_at: DateTime<Utc>, report: Option<&ReportFacts>, exempt: bool, now: DateTime<Utc>) -> Standing {
    if exempt {
        return Standing { state: ObligationState::Exempt, on_time: None, days_late: None };
    }
    let state = match report.map(|r| (r.state, r.has_accepted)) {
        Some((ReportState::Submitted, _)) => ObligationState::Submitted,
        Some((ReportState::Accepted, _) | (ReportState::Returned, true)) => ObligationState::Accepted,
        _ if now < due_at => ObligationState::NotDue,
        _ => ObligationState::Overdue,
    };
    let first = report.and_then(|r| r.first_submitted_at);
    let (on_time, days_late) = match (state, first) {
        (ObligationState::NotDue, None) => (None, None),
        (ObligationState::NotDue, Some(at)) => (Some(at <= due_at), None),
        (_, Some(at)) => (Some(at <= due_at), Some(days_between_rounded_up(due_at, at))),
        (ObligationState::Overdue, None) => (Some(false), Some(days_between_rounded_up(due_at, now))),
        // Accepted or submitted without a first submission time cannot be judged for timeliness.
        (_, None) => (None, None),
    };
    Standing { state, on_time, days_late }
}

/// One party's obligation to report on one task for one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Obligation {
    /// The task.
    pub task_id: TaskId,
    /// The task's number (obligations are listed by it).
    pub task_number: i32,
    /// The task's section.
    pub section_id: SectionId,
    /// The task's subsection.
    pub subsection_id: SubsectionId,
    /// Who owes the report.
    pub party: Reporter,
    /// The agency's role on the task; `None` for a province.
    pub role: Option<Role>,
    /// The period.
    pub period: Period,
    /// When the report is due: the period's due date, or the obligation's own extension.
    pub due_at: DateTime<Utc>,
    /// Whether `due_at` is an extension of the period's due date.
    pub extended: bool,
    /// The report that counts, if any.
    pub report: Option<ReportFacts>,
    /// How it stands.
    pub standing: Standing,
}

impl Obligation {
    /// Its state.
    pub fn state(&self) -> ObligationState {
        self.standing.state
    }
}

/// The parts of the plan obligations are drawn from: tasks by number, their responsibilities in
/// listed order, and the provinces by code.
#[derive(Debug, Clone, Copy)]
pub struct ObligationPlan<'a> {
    /// Every task, by number.
    pub tasks: &'a [Task],
    /// Every responsibility, by task then listed position.
    pub responsibilities: &'a [Responsibility],
    /// Every province, by code.
    pub provinces: &'a [Province],
}

impl ObligationPlan<'_> {
    /// How many obligations a period holds (before any filter).
    pub fn size(&self) -> usize {
        self.responsibilities.len() + self.tasks.len() * self.provinces.len()
    }
}

/// Every obligation of `period`, judged at `now`: by task number, and within a task its
/// agencies in listed order, then the provinces by code. `reports` are the live PART reports
/// of the period (others are ignored); `adjustments` the exemptions and extensions in force.
pub fn obligations<'a>(
    plan: ObligationPlan<'_>,
    period: &ReportingPeriod,
    reports: impl IntoIterator<Item = &'a ReportFacts>,
    adjustments: &Adjustments,
    now: DateTime<Utc>,
) -> Vec<Obligation> {
    let counting: HashMap<(TaskId, Reporter), &ReportFacts> = reports
        .into_iter()
        .filter(|r| r.period == period.period && r.state != ReportState::Withdrawn)
        .map(|r| ((r.task_id, r.reporter), r))
        .collect();
    let mut by_task: HashMap<TaskId, Vec<&Responsibility>> = HashMap::new();
    for r in plan.responsibilities {
        by_task.entry(r.task_id).or_default().push(r);
    }
    let mut out = Vec::with_capacity(plan.size());
    for task in plan.tasks {
        let agencies = by_task.get(&task.id).map(Vec::as_slice).unwrap_or_default();
        let parties = agencies
            .iter()
            .map(|r| (Reporter::Agency(r.agency_id), Some(r.role)))
            .chain(plan.provinces.iter().map(|p| (Reporter::Province(p.id), None)));
        for (party, role) in parties {
            let extension = adjustments.extension(period.period, task.id, party);
            let due_at = extension.unwrap_or(period.due_at);
            let report = counting.get(&(task.id, party)).map(|r| (*r).clone());
            let exempt = adjustments.is_exempt(period.period, task.id, party);
            out.push(Obligation {
                task_id: task.id,
                task_number: task.number,
                section_id: task.section_id,
                subsection_id: task.subsection_id,
                party,
                role,
                period: period.period,
                due_at,
                extended: extension.is_some(),
                standing: judge(due_at, report.as_ref(), exempt, now),
                report,
            });
        }
    }
    out
}

/// Until when obligations judged at `now` stay as judged, when nothing but the time changes:
/// the clock matters only through each due date (NOT_DUE becomes OVERDUE when it passes) and
/// whole days after it (an OVERDUE obligation's `daysLate` grows by one a day later). `due_ats`
/// are the due dates in play (the period's and its extensions').
pub fn judged_until(due_ats: impl IntoIterator<Item = DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    let day = chrono::Duration::days(1);
    due_ats
        .into_iter()
        .map(|due| {
            if now < due {
                due
            } else {
                // `daysLate` is the whole days from `due` to now, rounded up: it grows just
                // after each whole day since `due` (and at `due` itself it is 0, then 1).
                let days = days_between_rounded_up(due, now);
                due + day * i32::try_from(days).unwrap_or(i32::MAX) + chrono::Duration::seconds(1)
            }
        })
        .min()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Which obligations to list; every part is optional and they combine with AND. Names and
/// codes are resolved to ids before (an unknown one is an error, never an empty filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObligationFilter {
    /// Only these states (all when empty).
    pub states: Vec<ObligationState>,
    /// Only tasks of this section.
    pub section: Option<SectionId>,
    /// Only tasks of these subsections (any when empty).
    pub subsections: Vec<SubsectionId>,
    /// Only this task.
    pub task_number: Option<i32>,
    /// Only this agency's obligations.
    pub agency: Option<AgencyId>,
    /// Only this province's obligations.
    pub province: Option<ProvinceId>,
    /// Only agencies' or only provinces' obligations.
    pub party_kind: Option<PartyKind>,
    /// Matches nothing at all: the caller named something that does not exist (an unknown
    /// agency, province or numeral), and a filter that cannot be honoured fails closed.
    pub nothing: bool,
}

impl ObligationFilter {
    /// The filter that matches no obligation.
    pub fn nothing() -> Self {
        Self { nothing: true, ..Self::default() }
    }

    /// Whether `o` passes the filter.
    pub fn matches(&self, o: &Obligation) -> bool {
        !self.nothing
            && (self.states.is_empty() || self.states.contains(&o.state()))
            && self.section.is_none_or(|s| s == o.section_id)
            && (self.subsections.is_empty() || self.subsections.contains(&o.subsection_id))
            && self.task_number.is_none_or(|n| n == o.task_number)
            && self.agency.is_none_or(|a| o.party == Reporter::Agency(a))
            && self.province.is_none_or(|p| o.party == Reporter::Province(p))
            && self.party_kind.is_none_or(|k| PartyKind::of(o.party) == k)
    }

    /// The filter without its states: what `countsByState` counts over, so the counts show
    /// every state of the obligations the other criteria select.
    #[must_use]
    pub fn without_states(&self) -> Self {
        Self { states: Vec::new(), ..self.clone() }
    }
}

/// How many obligations are in each state, in [`ObligationState::ALL`] order (zeros included).
pub fn counts_by_state<'a>(obligations: impl IntoIterator<Item = &'a Obligation>) -> Vec<(ObligationState, usize)> {
    let mut counts = [0usize; ObligationState::ALL.len()];
    for o in obligations {
        if let Some(i) = ObligationState::ALL.iter().position(|s| *s == o.state()) {
            counts[i] += 1;
        }
    }
    ObligationState::ALL.into_iter().zip(counts).collect()
}

#[cfg(test)]
mod tests;
