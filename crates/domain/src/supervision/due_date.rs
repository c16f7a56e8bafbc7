//! Due-date events: what the passing of time does to obligations, recorded once per cluster by
//! the server's timer, and the moves of reporting-matrix cells that subscribers are told of.
//!
//! - An obligation becomes **due soon** when its due date comes within the reminder window
//!   (`--due-soon-days`) while nothing counting was submitted: a `DUE_SOON` event.
//! - It becomes **overdue** when its due date passes with nothing counting submitted: an
//!   `OVERDUE` event.
//!
//! Each event is keyed by the obligation (period, task, party), its kind and the due date it is
//! about, so it is recorded at most once whatever the number of timers; an extension makes a new
//! due date, and with it new events. [`due_date_events`] finds them between two instants;
//! [`changed_cells`] compares two judgements of a period's matrix.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::access::Principal;
use crate::ids::{TaskId, string_enum};
use crate::report::{Period, Reporter};
use crate::supervision::adjustment::{AdjustmentKind, ObligationAdjustment};
use crate::supervision::obligation::{Obligation, ObligationState};
use crate::supervision::period::ReportingPeriod;
use crate::token::AccessRole;
use crate::{Error, Result};

string_enum!(
    /// What the passing of time did to an obligation.
    pub enum DueDateEventKind {
        /// Its due date came within the reminder window, nothing counting submitted.
        DueSoon = "DUE_SOON",
        /// Its due date passed, nothing counting submitted.
        Overdue = "OVERDUE",
    }
);

/// One due-date event, before it is recorded. Its key is all of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DueDateEvent {
    /// What happened.
    pub kind: DueDateEventKind,
    /// The obligation's period.
    pub period: Period,
    /// The obligation's task.
    pub task_id: TaskId,
    /// Who owes the report.
    pub party: Reporter,
    /// The due date the event is about (the period's, or the obligation's extension).
    pub due_at: DateTime<Utc>,
}

/// A recorded due-date event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedDueDateEvent {
    /// Its place in the record (grows with each event recorded).
    pub id: i64,
    /// The event.
    pub event: DueDateEvent,
    /// When the timer recorded it (by the server's clock).
    pub recorded_at: DateTime<Utc>,
}

/// The reminder window: `days` whole days (negative values count as 0).
pub fn due_soon_window(days: u32) -> Duration {
    Duration::days(i64::from(days))
}

/// Whether `o`, judged at `now`, is due within `window`: nothing counting submitted, not
/// exempt, and its due date ahead but no further than `window`.
pub fn is_due_soon(o: &Obligation, now: DateTime<Utc>, window: Duration) -> bool {
    o.state() == ObligationState::NotDue && now < o.due_at && o.due_at - window <= now
}

/// The due-date events that happened after `t0` and up to `t1` to `obligations` (judged at
/// `t1`): an obligation OVERDUE at `t1` whose due date lies in `(t0, t1]`, and one still
/// due soon at `t1` (see [`is_due_soon`]) whose window opened in `(t0, t1]`. An obligation the
/// clock carried past both its window and its due date in one step is only OVERDUE.
pub fn due_date_events<'a>(
    obligations: impl IntoIterator<Item = &'a Obligation>,
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
    window: Duration,
) -> Vec<DueDateEvent> {
    let within = |at: DateTime<Utc>| t0 < at && at <= t1;
    obligations
        .into_iter()
        .filter_map(|o| {
            let kind = if o.state() == ObligationState::Overdue && within(o.due_at) {
                DueDateEventKind::Overdue
            } else if is_due_soon(o, t1, window) && within(o.due_at - window) {
                DueDateEventKind::DueSoon
            } else {
                return None;
            };
            Some(DueDateEvent { kind, period: o.period, task_id: o.task_id, party: o.party, due_at: o.due_at })
        })
        .collect()
}

/// Whether the clock moving from `t0` to `t1` can make a due-date event in `period`: one of
/// its due dates (the period's, or an extension's in `adjustments`, revoked ones included —
/// judging decides) or the opening of its window lies in `(t0, t1]`. The timer judges only
/// the periods for which this holds.
pub fn period_may_have_events(
    period: &ReportingPeriod,
    adjustments: &[ObligationAdjustment],
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
    window: Duration,
) -> bool {
    let within = |at: DateTime<Utc>| t0 < at && at <= t1;
    std::iter::once(period.due_at)
        .chain(
            adjustments
                .iter()
                .filter(|a| a.kind == AdjustmentKind::Extend && a.period == Some(period.period))
                .filter_map(|a| a.due_at),
        )
        .any(|due| within(due) || within(due - window))
}

/// A reporting-matrix cell that moved: the obligation as it stands now, and its state before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellChange<'a> {
    /// The obligation, judged afresh.
    pub obligation: &'a Obligation,
    /// Its state in the earlier judgement; `None` when it was not there (the plan changed).
    pub before: Option<ObligationState>,
}

/// The cells of `after` whose state differs from `before` (two judgements of one period's
/// matrix), in `after`'s order: submitted, accepted, exempted, overdue — or back, when a report
/// is returned or an exemption revoked.
pub fn changed_cells<'a>(before: &[Obligation], after: &'a [Obligation]) -> Vec<CellChange<'a>> {
    let earlier: HashMap<(TaskId, Reporter), ObligationState> =
        before.iter().map(|o| ((o.task_id, o.party), o.state())).collect();
    after
        .iter()
        .filter_map(|o| {
            let before = earlier.get(&(o.task_id, o.party)).copied();
            (before != Some(o.state())).then_some(CellChange { obligation: o, before })
        })
        .collect()
}

/// Whose due-soon reminders a caller receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderAudience {
    /// Every party's (supervisors and admins).
    Everyone,
    /// One reporter's own.
    Own(Reporter),
}

impl ReminderAudience {
    /// The audience of `principal`: supervisors and admins hear every reminder, a reporter
    /// token its own party's; a reader (or a reporter token bound to no party) is FORBIDDEN.
    ///
    /// # Errors
    /// FORBIDDEN for a token that reports for no one and supervises nothing.
    pub fn of(principal: &Principal) -> Result<Self> {
        match (principal.role, principal.own_reporter()) {
            (AccessRole::Admin | AccessRole::Supervisor, _) => Ok(Self::Everyone),
            (_, Some(own)) => Ok(Self::Own(own)),
            _ => Err(Error::Forbidden("due-date reminders are for reporter tokens and supervisors".into())),
        }
    }

    /// Whether this audience hears reminders of `party`'s obligations.
    pub fn hears(self, party: Reporter) -> bool {
        match self {
            Self::Everyone => true,
            Self::Own(own) => own == party,
        }
    }
}

#[cfg(test)]
mod tests;
