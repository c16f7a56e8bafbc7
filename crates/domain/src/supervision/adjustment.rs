//! Exemptions and extensions: a supervisor's adjustments to obligations, one at a time or in
//! bulk, each with a reason, recorded and undoable.
//!
//! An **exemption** applies to one period, or (with no period) to every period — "exempt all
//! provinces from task 1, the central joint-conference system". An **extension** moves one
//! obligation's due date within one period. Adjustments are never deleted: undoing one revokes
//! it (who, when, why), and the latest extension still in force wins, so revoking it brings back
//! the one before.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::ids::{AgencyId, ProvinceId, TaskId, string_enum};
use crate::plan::{Responsibility, Task};
use crate::province::Province;
use crate::report::{Period, Reporter};
use crate::supervision::obligation::PartyKind;
use crate::text::check_text;
use crate::{Error, Result};

/// The longest reason an adjustment may carry, in characters.
pub const MAX_ADJUSTMENT_REASON: usize = 1000;
/// The most obligations one bulk adjustment may touch (every province on every task).
pub const MAX_ADJUSTED: usize = 10_000;

string_enum!(
    /// What an adjustment does.
    pub enum AdjustmentKind {
        /// The party owes no report.
        Exempt = "EXEMPT",
        /// The report is due later than the period's due date.
        Extend = "EXTEND",
    }
);

/// Identifies an adjustment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AdjustmentId(
    /// The database key.
    pub i64,
);

/// An adjustment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObligationAdjustment {
    /// Its key.
    pub id: AdjustmentId,
    /// Exempt or extend.
    pub kind: AdjustmentKind,
    /// The period; `None` for an exemption from every period.
    pub period: Option<Period>,
    /// The task.
    pub task_id: TaskId,
    /// The party.
    pub party: Reporter,
    /// The new due date (extensions only).
    pub due_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: String,
    /// Who made it (token name and role).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether, when, by whom and why it was undone.
    pub revoked: Option<Revocation>,
}

/// The undoing of an adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Who undid it.
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

/// A checked adjustment to store: one per (task, party).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAdjustment {
    /// Exempt or extend.
    pub kind: AdjustmentKind,
    /// The period; `None` for every period (exemptions only).
    pub period: Option<Period>,
    /// The task.
    pub task_id: TaskId,
    /// The party.
    pub party: Reporter,
    /// The new due date (extensions only).
    pub due_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: String,
}

/// Which parties a bulk adjustment names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartySelection {
    /// These agencies and provinces (each where it owes a report on a selected task).
    Parties(Vec<Reporter>),
    /// Every party of this kind that owes a report on a selected task.
    Kind(PartyKind),
}

/// A bulk request, names resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdjustmentRequest {
    /// Exempt or extend.
    pub kind: AdjustmentKind,
    /// The period; `None` for every period (exemptions only).
    pub period: Option<Period>,
    /// The tasks.
    pub tasks: Vec<TaskId>,
    /// The parties.
    pub parties: PartySelection,
    /// The new due date (extensions only).
    pub due_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: String,
}

/// Checks a reason: trimmed, not empty, at most [`MAX_ADJUSTMENT_REASON`] characters, by the
/// rules of every free text ([`check_text`]).
pub fn check_reason(reason: &str) -> Result<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::validation("reason", "say why (the reason is kept in the record)"));
    }
    check_text(reason, "reason", MAX_ADJUSTMENT_REASON)?;
    Ok(reason.to_owned())
}

/// Expands a request into one adjustment per obligation it selects, checking it against the
/// plan: an extension needs a period and a due date not before the period starts; an
/// exemption takes no due date; every named task must exist; a request that selects no
/// obligation (an agency with no part in the named tasks) is refused, as is one over
/// [`MAX_ADJUSTED`]. Pairs that owe nothing (an agency not responsible for one of several
/// tasks) are skipped.
pub fn expand(
    request: &AdjustmentRequest,
    tasks: &[Task],
    responsibilities: &[Responsibility],
    provinces: &[Province],
) -> Result<Vec<NewAdjustment>> {
    match (request.kind, request.period, request.due_at) {
        (AdjustmentKind::Extend, None, _) => {
            return Err(Error::validation("period", "an extension is for one period: name it"));
        }
        (AdjustmentKind::Extend, _, None) => {
            return Err(Error::validation("dueAt", "an extension needs the new due date"));
        }
        (AdjustmentKind::Extend, Some(p), Some(due)) if due < p.starts_at() => {
            return Err(Error::validation(
                "dueAt",
                format!("the reports of {p} cannot be due ({}) before the period starts", due.to_rfc3339()),
            ));
        }
        (AdjustmentKind::Exempt, _, Some(_)) => {
            return Err(Error::validation("dueAt", "an exemption has no due date"));
        }
        _ => {}
    }
    if request.tasks.is_empty() {
        return Err(Error::validation("taskNumbers", "name at least one task"));
    }
    let known: HashSet<TaskId> = tasks.iter().map(|t| t.id).collect();
    if request.tasks.iter().any(|t| !known.contains(t)) {
        return Err(Error::not_found("task", Some("taskNumbers")));
    }
    let reason = check_reason(&request.reason)?;
    let mut agencies_of: HashMap<TaskId, Vec<AgencyId>> = HashMap::new();
    for r in responsibilities {
        agencies_of.entry(r.task_id).or_default().push(r.agency_id);
    }
    let provinces: Vec<ProvinceId> = provinces.iter().map(|p| p.id).collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for &task_id in &request.tasks {
        let owing: Vec<Reporter> = agencies_of
            .get(&task_id)
            .into_iter()
            .flatten()
            .map(|a| Reporter::Agency(*a))
            .chain(provinces.iter().map(|p| Reporter::Province(*p)))
            .collect();
        for party in owing {
            let selected = match &request.parties {
                PartySelection::Parties(named) => named.contains(&party),
                PartySelection::Kind(kind) => PartyKind::of(party) == *kind,
            };
            if selected && seen.insert((task_id, party)) {
                out.push(NewAdjustment {
                    kind: request.kind,
                    period: request.period,
                    task_id,
                    party,
                    due_at: request.due_at,
                    reason: reason.clone(),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(Error::validation("parties", "no party named owes a report on the tasks named"));
    }
    if out.len() > MAX_ADJUSTED {
        return Err(Error::validation("parties", format!("at most {MAX_ADJUSTED} obligations at once")));
    }
    Ok(out)
}

/// The adjustments in force, indexed for the obligation rules.
#[derive(Debug, Clone, Default)]
pub struct Adjustments {
    /// (period or every period, task, party) exempted.
    exempt: HashSet<(Option<Period>, TaskId, Reporter)>,
    /// (period, task, party) → the latest extension in force.
    extended: HashMap<(Period, TaskId, Reporter), (AdjustmentId, DateTime<Utc>)>,
}

impl Adjustments {
    /// Indexes the adjustments that are not revoked.
    pub fn new<'a>(adjustments: impl IntoIterator<Item = &'a ObligationAdjustment>) -> Self {
        let mut index = Self::default();
        for a in adjustments.into_iter().filter(|a| a.revoked.is_none()) {
            match (a.kind, a.period, a.due_at) {
                (AdjustmentKind::Exempt, period, _) => {
                    index.exempt.insert((period, a.task_id, a.party));
                }
                (AdjustmentKind::Extend, Some(period), Some(due)) => {
                    let slot = index.extended.entry((period, a.task_id, a.party)).or_insert((a.id, due));
                    if a.id > slot.0 {
                        *slot = (a.id, due);
                    }
                }
                (AdjustmentKind::Extend, _, _) => {}
            }
        }
        index
    }

    /// Whether the obligation is exempted, for that period or for every period.
    pub fn is_exempt(&self, period: Period, task: TaskId, party: Reporter) -> bool {
        self.exempt.contains(&(Some(period), task, party)) || self.exempt.contains(&(None, task, party))
    }

    /// The obligation's extended due date, if one is in force.
    pub fn extension(&self, period: Period, task: TaskId, party: Reporter) -> Option<DateTime<Utc>> {
        self.extended.get(&(period, task, party)).map(|(_, due)| *due)
    }
}

/// Checks the undoing of adjustments: at least one id, a reason.
pub fn check_revocation(ids: &[AdjustmentId], reason: &str) -> Result<String> {
    if ids.is_empty() {
        return Err(Error::validation("ids", "name at least one adjustment"));
    }
    if ids.len() > MAX_ADJUSTED {
        return Err(Error::validation("ids", format!("at most {MAX_ADJUSTED} at once")));
    }
    check_reason(reason)
}

#[cfg(test)]
mod tests;
