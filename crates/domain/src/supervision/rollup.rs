//! Rollups: one period's progress and reporting, grouped by section, subsection, agency (one
//! row per role) or province.
//!
//! - By SECTION and SUBSECTION, `tasksByStatus` counts the derived status of the group's tasks
//!   ([`task_progress`]) and `meanPercentComplete` is the mean of their percents; the
//!   obligations are every party's on the group's tasks.
//! - By AGENCY there are two rows per agency, LEAD and PARTICIPANT: the tasks it holds in that
//!   role, counted by the status of its own part ([`part_progress`]), and its own obligations in
//!   that role.
//! - By PROVINCE: every task, counted by the status of the province's own part (its own
//!   reports, which never change a task's status), and the province's obligations.
//!
//! `meanPercentComplete` is the mean over the row's tasks (or parts) that give a percent, a
//! part with no accepted report counting 0 (as in a task's mean).
//!
//! In every row `onTimeRate` is the scorecard's (on time / due, [`tally`]) over the row's
//! obligations, and `pendingReview` counts the row's obligations in SUBMITTED.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::ids::{AgencyId, ProvinceId, SectionId, SubsectionId, TaskId, string_enum};
use crate::plan::{Responsibility, Role, Section, Subsection, Task};
use crate::province::Province;
use crate::report::{Period, Reporter};
use crate::supervision::obligation::{Obligation, ObligationState, counts_by_state};
use crate::supervision::progress::{AcceptedParts, Progress, ProgressStatus, part_progress, task_progress};
use crate::supervision::scorecard::tally;

string_enum!(
    /// What a rollup groups by.
    pub enum RollupDimension {
        /// The plan's sections (I–VI).
        Section = "SECTION",
        /// The plan's subsections.
        Subsection = "SUBSECTION",
        /// The agencies, one row per role.
        Agency = "AGENCY",
        /// The provinces.
        Province = "PROVINCE",
    }
);

/// What a rollup row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RollupGroup {
    /// A section.
    Section(SectionId),
    /// A subsection.
    Subsection(SubsectionId),
    /// An agency (the row's role says which of its tasks).
    Agency(AgencyId),
    /// A province.
    Province(ProvinceId),
}

/// One row of a rollup.
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRow {
    /// The group.
    pub group: RollupGroup,
    /// The agency's role (AGENCY rows only).
    pub role: Option<Role>,
    /// How many of the row's tasks (or parts) are in each status, every status listed.
    pub tasks_by_status: Vec<(ProgressStatus, usize)>,
    /// How many of the row's obligations are in each state, every state listed.
    pub obligations_by_state: Vec<(ObligationState, usize)>,
    /// The mean percent complete of the row's tasks (or parts) that give one.
    pub mean_percent_complete: Option<f64>,
    /// On time / due over the row's obligations.
    pub on_time_rate: Option<f64>,
    /// The row's obligations waiting for review.
    pub pending_review: usize,
}

/// The plan a rollup groups: every list in display order.
#[derive(Debug, Clone, Copy)]
pub struct RollupPlan<'a> {
    /// Sections by position.
    pub sections: &'a [Section],
    /// Subsections by section, then position.
    pub subsections: &'a [Subsection],
    /// Tasks by number.
    pub tasks: &'a [Task],
    /// Responsibilities by task, then position.
    pub responsibilities: &'a [Responsibility],
    /// Agencies in the order their rows are listed.
    pub agencies: &'a [AgencyId],
    /// Provinces by code.
    pub provinces: &'a [Province],
}

fn by_status<'a>(progress: impl IntoIterator<Item = &'a Progress>) -> (Vec<(ProgressStatus, usize)>, Option<f64>) {
    let mut counts = [0usize; ProgressStatus::ALL.len()];
    let (mut sum, mut n) = (0.0, 0u32);
    for p in progress {
        counts[p.status.rank()] += 1;
        // A part with no accepted report counts 0, as in a task's mean.
        let value = p.percent_complete.or((p.status == ProgressStatus::NotReported).then_some(0.0));
        if let Some(percent) = value {
            sum += percent;
            n += 1;
        }
    }
    (ProgressStatus::ALL.into_iter().zip(counts).collect(), (n > 0).then(|| sum / f64::from(n)))
}

fn row<'a>(
    group: RollupGroup,
    role: Option<Role>,
    progress: impl IntoIterator<Item = &'a Progress>,
    obligations: &[&Obligation],
    now: DateTime<Utc>,
) -> RollupRow {
    let (tasks_by_status, mean_percent_complete) = by_status(progress);
    RollupRow {
        group,
        role,
        tasks_by_status,
        obligations_by_state: counts_by_state(obligations.iter().copied()),
        mean_percent_complete,
        on_time_rate: tally(obligations.iter().copied(), now).on_time_rate,
        pending_review: obligations.iter().filter(|o| o.state() == ObligationState::Submitted).count(),
    }
}

/// The rollup of `period` by `by`: `obligations` are the period's (unfiltered), `parts` the
/// accepted reports up to the period.
pub fn rollup(
    by: RollupDimension,
    plan: RollupPlan<'_>,
    obligations: &[Obligation],
    parts: &AcceptedParts,
    period: Period,
    now: DateTime<Utc>,
) -> Vec<RollupRow> {
    match by {
        RollupDimension::Section | RollupDimension::Subsection => {
            let progress: HashMap<TaskId, Progress> =
                plan.tasks.iter().map(|t| (t.id, task_progress(t, plan.responsibilities, parts))).collect();
            let groups: Vec<RollupGroup> = if by == RollupDimension::Section {
                plan.sections.iter().map(|s| RollupGroup::Section(s.id)).collect()
            } else {
                plan.subsections.iter().map(|s| RollupGroup::Subsection(s.id)).collect()
            };
            let task_group = |t: &Task| match by {
                RollupDimension::Section => RollupGroup::Section(t.section_id),
                _ => RollupGroup::Subsection(t.subsection_id),
            };
            let obligation_group = |o: &Obligation| match by {
                RollupDimension::Section => RollupGroup::Section(o.section_id),
                _ => RollupGroup::Subsection(o.subsection_id),
            };
            groups
                .into_iter()
                .map(|g| {
                    let tasks = plan.tasks.iter().filter(|t| task_group(t) == g).filter_map(|t| progress.get(&t.id));
                    let owed: Vec<&Obligation> = obligations.iter().filter(|o| obligation_group(o) == g).collect();
                    row(g, None, tasks, &owed, now)
                })
                .collect()
        }
        RollupDimension::Agency => plan
            .agencies
            .iter()
            .flat_map(|&agency| [(agency, Role::Lead), (agency, Role::Participant)])
            .map(|(agency, role)| {
                let party = Reporter::Agency(agency);
                let progress: Vec<Progress> = plan
                    .responsibilities
                    .iter()
                    .filter(|r| r.agency_id == agency && r.role == role)
                    .map(|r| part_progress(r.task_id, party, parts, Some(period)))
                    .collect();
                let owed: Vec<&Obligation> =
                    obligations.iter().filter(|o| o.party == party && o.role == Some(role)).collect();
                row(RollupGroup::Agency(agency), Some(role), &progress, &owed, now)
            })
            .collect(),
        RollupDimension::Province => plan
            .provinces
            .iter()
            .map(|province| {
                let party = Reporter::Province(province.id);
                let progress: Vec<Progress> =
                    plan.tasks.iter().map(|t| part_progress(t.id, party, parts, Some(period))).collect();
                let owed: Vec<&Obligation> = obligations.iter().filter(|o| o.party == party).collect();
                row(RollupGroup::Province(province.id), None, &progress, &owed, now)
            })
            .collect(),
    }
}
