//! Scorecards: how well a party keeps its reporting deadlines, tallied over obligations.
//!
//! Over the obligations of the periods asked (every scheduled period when none is named):
//! - `due`: obligations, not exempted, whose due date has passed;
//! - of those, `onTime` were first submitted by the due date, `late` after it, and `missing`
//!   were never submitted (`onTime + late + missing = due`);
//! - `returned`: obligations whose report a supervisor ever returned (due or not);
//! - `exempt`: exempted obligations;
//! - `meanDaysLate`: the mean `daysLate` of the late and missing ones (null when none);
//! - `onTimeRate` = onTime / due (null when nothing is due).

use chrono::{DateTime, Utc};

use crate::supervision::obligation::{Obligation, ObligationState};

/// The tally of a set of obligations, at a moment.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scorecard {
    /// Not exempted and past their due date.
    pub due: usize,
    /// Of the due, first submitted by the due date.
    pub on_time: usize,
    /// Of the due, first submitted after the due date.
    pub late: usize,
    /// Of the due, never submitted.
    pub missing: usize,
    /// Whose report was ever returned.
    pub returned: usize,
    /// Exempted.
    pub exempt: usize,
    /// The mean days late of the late and missing ones.
    pub mean_days_late: Option<f64>,
    /// on time / due.
    pub on_time_rate: Option<f64>,
}

/// Whether an obligation is due at `now`: not exempted and its due date passed.
pub fn is_due(o: &Obligation, now: DateTime<Utc>) -> bool {
    o.state() != ObligationState::Exempt && o.due_at <= now
}

/// Tallies `obligations` at `now`.
pub fn tally<'a>(obligations: impl IntoIterator<Item = &'a Obligation>, now: DateTime<Utc>) -> Scorecard {
    let mut card = Scorecard::default();
    let mut days_late = 0i64;
    for o in obligations {
        if o.report.as_ref().is_some_and(|r| r.ever_returned) {
            card.returned += 1;
        }
        if o.state() == ObligationState::Exempt {
            card.exempt += 1;
            continue;
        }
        if !is_due(o, now) {
            continue;
        }
        card.due += 1;
        match o.report.as_ref().and_then(|r| r.first_submitted_at) {
            Some(at) if at <= o.due_at => card.on_time += 1,
            Some(_) => card.late += 1,
            None => card.missing += 1,
        }
        days_late += o.standing.days_late.unwrap_or_default();
    }
    #[expect(clippy::cast_precision_loss, reason = "counts of obligations are far below 2^52")]
    {
        let behind = card.late + card.missing;
        card.mean_days_late = (behind > 0).then(|| days_late as f64 / behind as f64);
        card.on_time_rate = (card.due > 0).then(|| card.on_time as f64 / card.due as f64);
    }
    card
}

/// Every OVERDUE obligation, most overdue first (most days late, then earliest due, then task
/// number; ties keep the given order).
pub fn overdue<'a>(obligations: impl IntoIterator<Item = &'a Obligation>) -> Vec<&'a Obligation> {
    let mut late: Vec<&Obligation> =
        obligations.into_iter().filter(|o| o.state() == ObligationState::Overdue).collect();
    late.sort_by_key(|o| (std::cmp::Reverse(o.standing.days_late.unwrap_or_default()), o.due_at, o.task_number));
    late
}
