//! Derived status: how far along a task (or one agency's part of it) is, computed from
//! ACCEPTED reports only, with a sentence that explains it. The rules, exactly as
//! docs/supervision.md states them:
//!
//! - Only ACCEPTED PART reports of responsible agencies count towards a task; province
//!   reports never change a task's progress (they are a province's own part, shown in the
//!   matrix and in rollups by province).
//! - A part's status is its latest accepted report for a period up to and including the asked
//!   one (ending no later than it; the latest by period end, then by period start): progress
//!   carries forward. Parts with none are `missing` and NOT_REPORTED.
//! - JOINT task: the least advanced of its leads' parts; percent = the mean over its leads.
//! - DIVIDED task: every responsible agency's part counts; COMPLETED only when every part is;
//!   otherwise the least advanced part, except that any started part makes it at least
//!   IN_PROGRESS; percent = the mean over all parts.
//! - In a mean a missing part counts 0; a part with no percent counts 0 when NOT_STARTED and
//!   100 when COMPLETED, and is left out otherwise.
//! - The lead's accepted CONSOLIDATED report on a DIVIDED task is in the basis and gives the
//!   task its narrative and health, but never its status or percent, and never hides a
//!   missing part.
//! - Health: the worst among the basis.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::ids::{ReportId, TaskId, string_enum};
use crate::plan::{Responsibility, ResponsibilityMode, Role, Task};
use crate::report::{Health, Period, ReportKind, ReportStatus, Reporter};

string_enum!(
    /// How far along a task or a part is, derived from accepted reports; declared from least
    /// to most advanced.
    pub enum ProgressStatus {
        /// No accepted report yet.
        NotReported = "NOT_REPORTED",
        /// Reported, not started.
        NotStarted = "NOT_STARTED",
        /// Under way.
        InProgress = "IN_PROGRESS",
        /// Continuous work with no end state.
        Ongoing = "ONGOING",
        /// Done.
        Completed = "COMPLETED",
    }
);

impl ProgressStatus {
    /// Its place from least (0) to most advanced.
    pub fn rank(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or_default()
    }

    /// What an accepted report's status says.
    pub fn reported(status: ReportStatus) -> Self {
        match status {
            ReportStatus::NotStarted => Self::NotStarted,
            ReportStatus::InProgress => Self::InProgress,
            ReportStatus::Ongoing => Self::Ongoing,
            ReportStatus::Completed => Self::Completed,
        }
    }

    /// Whether work has started (IN_PROGRESS, ONGOING or COMPLETED).
    pub fn is_started(self) -> bool {
        self.rank() >= Self::InProgress.rank()
    }
}

/// A party's latest accepted report on a task, as the progress rules read it (its accepted
/// version when it is being corrected): never its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedPart {
    /// The report.
    pub report_id: ReportId,
    /// The task.
    pub task_id: TaskId,
    /// Who filed it.
    pub reporter: Reporter,
    /// PART or CONSOLIDATED.
    pub kind: ReportKind,
    /// The period it reports on.
    pub period: Period,
    /// Where the task stood.
    pub status: ReportStatus,
    /// How far along, 0–100, if said.
    pub percent_complete: Option<i32>,
    /// How it was going, if said.
    pub health: Option<Health>,
}

/// The latest accepted report per task, party and kind, up to a period.
#[derive(Debug, Clone, Default)]
pub struct AcceptedParts(HashMap<(TaskId, Reporter, ReportKind), AcceptedPart>);

impl AcceptedParts {
    /// Keeps, for each task, party and kind, the latest report (by period end, then start, then
    /// id) of those whose period ends no later than `up_to` ends (all when `None`).
    pub fn new(parts: impl IntoIterator<Item = AcceptedPart>, up_to: Option<Period>) -> Self {
        let mut latest: HashMap<(TaskId, Reporter, ReportKind), AcceptedPart> = HashMap::new();
        let order = |p: &AcceptedPart| (p.period.ends_at(), p.period.starts_at(), p.report_id);
        for part in parts.into_iter().filter(|p| up_to.is_none_or(|u| p.period.ends_at() <= u.ends_at())) {
            let key = (part.task_id, part.reporter, part.kind);
            match latest.get(&key) {
                Some(kept) if order(kept) >= order(&part) => {}
                _ => {
                    latest.insert(key, part);
                }
            }
        }
        Self(latest)
    }

    /// The party's latest accepted report of `kind` on the task.
    pub fn get(&self, task: TaskId, party: Reporter, kind: ReportKind) -> Option<&AcceptedPart> {
        self.0.get(&(task, party, kind))
    }
}

/// Derived progress with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// How far along.
    pub status: ProgressStatus,
    /// The mean percent by the rules; `None` when no part gives one.
    pub percent_complete: Option<f64>,
    /// The worst health among the basis, if any report gives one.
    pub health: Option<Health>,
    /// The accepted reports used, parts in listed order then the consolidated report.
    pub basis: Vec<ReportId>,
    /// The parts with no accepted report.
    pub missing: Vec<Reporter>,
    /// The report whose summary is the task's narrative: the lead's CONSOLIDATED report on a
    /// DIVIDED task, when there is one.
    pub narrative: Option<ReportId>,
    /// One sentence naming the rule and the reports used.
    pub explanation: String,
}

/// What a part adds to a mean: 0 when missing; its percent; else 0 when NOT_STARTED, 100 when
/// COMPLETED, nothing otherwise.
fn mean_value(part: Option<&AcceptedPart>) -> Option<f64> {
    let Some(part) = part else { return Some(0.0) };
    match (part.percent_complete, part.status) {
        (Some(p), _) => Some(f64::from(p)),
        (None, ReportStatus::NotStarted) => Some(0.0),
        (None, ReportStatus::Completed) => Some(100.0),
        (None, _) => None,
    }
}

/// A percent as the explanation prints it: whole when it is, else one decimal.
fn show(p: f64) -> String {
    let rounded = (p * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded:.1}") }
}

fn worst(health: impl IntoIterator<Item = Option<Health>>) -> Option<Health> {
    health.into_iter().flatten().max_by_key(|h| h.severity())
}

fn report_list(ids: &[ReportId]) -> String {
    ids.iter().map(|id| id.0.to_string()).collect::<Vec<_>>().join(", ")
}

/// One party's own progress on a task (a responsibility's part, or a province's own
/// implementation): its latest accepted PART report up to the period.
pub fn part_progress(task: TaskId, party: Reporter, parts: &AcceptedParts, up_to: Option<Period>) -> Progress {
    let within = up_to.map_or_else(String::new, |p| format!(" up to {p}"));
    match parts.get(task, party, ReportKind::Part) {
        None => Progress {
            status: ProgressStatus::NotReported,
            percent_complete: None,
            health: None,
            basis: Vec::new(),
            missing: vec![party],
            narrative: None,
            explanation: format!("PART: no accepted report{within}"),
        },
        Some(part) => {
            let percent = mean_value(Some(part));
            let status = ProgressStatus::reported(part.status);
            let mut explanation = format!(
                "PART: latest accepted report{within} is report {} for {}: {}",
                part.report_id.0,
                part.period,
                status.as_str()
            );
            if let Some(p) = percent {
                let _ = write!(explanation, ", {} %", show(p));
            }
            Progress {
                status,
                percent_complete: percent,
                health: part.health,
                basis: vec![part.report_id],
                missing: Vec::new(),
                narrative: None,
                explanation,
            }
        }
    }
}

/// A task's progress from its responsible agencies' accepted reports (`responsibilities`: the
/// task's, in listed order).
pub fn task_progress(task: &Task, responsibilities: &[Responsibility], parts: &AcceptedParts) -> Progress {
    let divided = task.mode == ResponsibilityMode::Divided;
    let counted: Vec<&Responsibility> =
        responsibilities.iter().filter(|r| r.task_id == task.id && (divided || r.role == Role::Lead)).collect();
    let found: Vec<(Reporter, Option<&AcceptedPart>)> = counted
        .iter()
        .map(|r| {
            let party = Reporter::Agency(r.agency_id);
            (party, parts.get(task.id, party, ReportKind::Part))
        })
        .collect();
    let statuses: Vec<ProgressStatus> = found
        .iter()
        .map(|(_, p)| p.map_or(ProgressStatus::NotReported, |p| ProgressStatus::reported(p.status)))
        .collect();
    let least = statuses.iter().copied().min_by_key(|s| s.rank()).unwrap_or(ProgressStatus::NotReported);
    let (status, why) = if !divided {
        (least, "status from the least advanced lead")
    } else if !statuses.is_empty() && statuses.iter().all(|s| *s == ProgressStatus::Completed) {
        (ProgressStatus::Completed, "COMPLETED: every part is")
    } else if least.rank() < ProgressStatus::InProgress.rank() && statuses.iter().any(|s| s.is_started()) {
        (ProgressStatus::InProgress, "status IN_PROGRESS: a part has started")
    } else {
        (least, "status from the least advanced part")
    };
    let values: Vec<f64> = found.iter().filter_map(|(_, p)| mean_value(*p)).collect();
    #[expect(clippy::cast_precision_loss, reason = "a task has a few dozen parts at most")]
    let percent = (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
    let consolidated = if divided {
        counted
            .iter()
            .find(|r| r.role == Role::Lead)
            .and_then(|lead| parts.get(task.id, Reporter::Agency(lead.agency_id), ReportKind::Consolidated))
    } else {
        None
    };
    let used: Vec<&AcceptedPart> = found.iter().filter_map(|(_, p)| *p).chain(consolidated).collect();
    let basis: Vec<ReportId> = used.iter().map(|p| p.report_id).collect();
    let parts_word = if divided { "parts" } else { "leads" };
    let mut explanation = format!(
        "{}: {} of {} {parts_word} reported",
        task.mode.as_str(),
        used.len() - usize::from(consolidated.is_some()),
        counted.len()
    );
    let part_ids: Vec<ReportId> = found.iter().filter_map(|(_, p)| p.map(|p| p.report_id)).collect();
    if !part_ids.is_empty() {
        let _ = write!(explanation, " (reports {})", report_list(&part_ids));
    }
    match percent {
        Some(p) => {
            let shown: Vec<String> = values.iter().map(|v| show(*v)).collect();
            let _ = write!(explanation, "; mean of {} = {} %", shown.join(", "), show(p));
        }
        None => explanation.push_str("; no percent reported"),
    }
    let _ = write!(explanation, "; {why}");
    if let Some(c) = consolidated {
        let _ = write!(explanation, "; narrative and health from the lead's consolidated report {}", c.report_id.0);
    }
    Progress {
        status,
        percent_complete: percent,
        health: worst(used.iter().map(|p| p.health)),
        basis,
        missing: found.iter().filter(|(_, p)| p.is_none()).map(|(party, _)| *party).collect(),
        narrative: consolidated.map(|c| c.report_id),
        explanation,
    }
}

#[cfg(test)]
mod tests;
