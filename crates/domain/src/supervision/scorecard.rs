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

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::ids::{AgencyId, ReportId, SectionId, SubsectionId, TaskId};
    use crate::report::{Period, ReportState, Reporter};
    use crate::supervision::obligation::{ReportFacts, judge};

    fn due() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2017, 1, 15, 16, 0, 0).single().expect("time")
    }

    fn obligation(
        n: i32,
        first: Option<DateTime<Utc>>,
        state: ReportState,
        exempt: bool,
        returned: bool,
    ) -> Obligation {
        let report = first.map(|at| ReportFacts {
            id: ReportId(i64::from(n)),
            task_id: TaskId(i64::from(n)),
            reporter: Reporter::Agency(AgencyId(1)),
            period: Period::Quarter(2016, 4),
            state,
            first_submitted_at: Some(at),
            has_accepted: state == ReportState::Accepted,
            ever_returned: returned,
        });
        let now = due() + Duration::days(10);
        Obligation {
            task_id: TaskId(i64::from(n)),
            task_number: n,
            section_id: SectionId(1),
            subsection_id: SubsectionId(1),
            party: Reporter::Agency(AgencyId(1)),
            role: None,
            period: Period::Quarter(2016, 4),
            due_at: due(),
            extended: false,
            standing: judge(due(), report.as_ref(), exempt, now),
            report,
        }
    }

    #[test]
    fn a_scorecard_tallies_due_obligations_by_timeliness() {
        let now = due() + Duration::days(10);
        let list = [
            obligation(1, Some(due() - Duration::days(1)), ReportState::Accepted, false, false),
            obligation(2, Some(due() + Duration::hours(30)), ReportState::Submitted, false, true),
            obligation(3, None, ReportState::Draft, false, false),
            obligation(4, None, ReportState::Draft, true, false),
        ];
        let card = tally(&list, now);
        assert_eq!((card.due, card.on_time, card.late, card.missing), (3, 1, 1, 1));
        assert_eq!((card.returned, card.exempt), (1, 1));
        assert_eq!(card.mean_days_late, Some((2.0 + 10.0) / 2.0), "2 days late and 10 days missing");
        assert_eq!(card.on_time_rate, Some(1.0 / 3.0));
        // Before the due date nothing is due.
        let early = tally(&list, due() - Duration::days(2));
        assert_eq!((early.due, early.on_time_rate, early.mean_days_late), (0, None, None));
        // Most overdue first.
        assert_eq!(overdue(&list).iter().map(|o| o.task_number).collect::<Vec<_>>(), vec![3]);
    }
}
