//! Reporting periods with due dates. A supervisor (or an admin) schedules a period — a key in
//! the [`Period`] format — with the instant its reports are due; rescheduling changes the due
//! date. Every change is recorded with the fields it changed.
//!
//! Rules: the period's boundaries are calendar boundaries in China Standard Time
//! ([`Period::starts_at`], [`Period::ends_at`]); a due date before the period starts is
//! refused; rescheduling to the same due date changes nothing.

use chrono::{DateTime, Utc};

use crate::ids::string_enum;
use crate::report::{FieldChange, Period};
use crate::text::check_text;
use crate::{Error, Result};

/// The longest reason a schedule may carry, in characters.
pub const MAX_REASON: usize = 1000;

/// A scheduled reporting period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportingPeriod {
    /// The period.
    pub period: Period,
    /// When it starts (midnight CST of its first day).
    pub starts_at: DateTime<Utc>,
    /// When it ends, exclusive (midnight CST of the day after its last).
    pub ends_at: DateTime<Utc>,
    /// When its reports are due.
    pub due_at: DateTime<Utc>,
    /// When it was first scheduled.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// 1 when scheduled, one more for each rescheduling.
    pub version: i32,
}

string_enum!(
    /// What a write to a reporting period did.
    pub enum PeriodAction {
        /// The period was scheduled for the first time.
        Schedule = "SCHEDULE",
        /// The period's due date changed.
        Reschedule = "RESCHEDULE",
    }
);

/// One write to a reporting period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodHistoryEntry {
    /// The period.
    pub period: Period,
    /// The version the write produced.
    pub version: i32,
    /// What it did.
    pub action: PeriodAction,
    /// Who wrote (token name and role).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The fields it changed, with the reason given (as the field `reason`), if any.
    pub changes: Vec<FieldChange>,
}

/// A checked request to schedule a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodSchedule {
    /// The period.
    pub period: Period,
    /// When its reports are due: not before the period starts.
    pub due_at: DateTime<Utc>,
    /// Why (optional, trimmed, non-empty when present).
    pub reason: Option<String>,
}

impl PeriodSchedule {
    /// Checks a request: `period` must be a period key, `due_at` not before the period
    /// starts, `reason` at most [`MAX_REASON`] characters of free text ([`check_text`]). Errors name the input field.
    pub fn check(period: &str, due_at: DateTime<Utc>, reason: Option<&str>) -> Result<Self> {
        let period = Period::parse(period.trim())?;
        if due_at < period.starts_at() {
            return Err(Error::validation(
                "dueAt",
                format!(
                    "the reports of {period} cannot be due ({}) before the period starts ({})",
                    due_at.to_rfc3339(),
                    period.starts_at().with_timezone(&crate::report::period::CHINA_STANDARD_TIME).to_rfc3339()
                ),
            ));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = reason {
            check_text(r, "reason", MAX_REASON)?;
        }
        Ok(Self { period, due_at, reason: reason.map(str::to_owned) })
    }
}

/// What scheduling does to the stored period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleDecision {
    /// Write the period (insert or update) and record the history entry.
    Write(ReportingPeriod, PeriodHistoryEntry),
    /// The period is already scheduled with that due date: nothing to write.
    Unchanged(ReportingPeriod),
}

/// Decides a schedule made by `actor` at `at`, given the period as stored (if scheduled).
pub fn decide_schedule(
    existing: Option<&ReportingPeriod>,
    schedule: &PeriodSchedule,
    actor: &str,
    at: DateTime<Utc>,
) -> ScheduleDecision {
    let p = schedule.period;
    let (period, action, before) = match existing {
        Some(current) if current.due_at == schedule.due_at => return ScheduleDecision::Unchanged(current.clone()),
        Some(current) => (
            ReportingPeriod {
                due_at: schedule.due_at,
                updated_at: at,
                version: current.version + 1,
                ..current.clone()
            },
            PeriodAction::Reschedule,
            Some(current.due_at),
        ),
        None => (
            ReportingPeriod {
                period: p,
                starts_at: p.starts_at(),
                ends_at: p.ends_at(),
                due_at: schedule.due_at,
                created_at: at,
                updated_at: at,
                version: 1,
            },
            PeriodAction::Schedule,
            None,
        ),
    };
    let mut changes = vec![FieldChange {
        field: "dueAt".into(),
        before: before.map(|d| serde_json::Value::String(d.to_rfc3339())),
        after: Some(serde_json::Value::String(schedule.due_at.to_rfc3339())),
    }];
    if let Some(reason) = &schedule.reason {
        changes.push(FieldChange { field: "reason".into(), before: None, after: Some(reason.clone().into()) });
    }
    let entry = PeriodHistoryEntry { period: p, version: period.version, action, actor: actor.to_owned(), at, changes };
    ScheduleDecision::Write(period, entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect(s).with_timezone(&Utc)
    }

    #[test]
    fn a_due_date_before_the_period_starts_is_refused() {
        let start = at("2016-10-01T00:00:00+08:00");
        assert!(PeriodSchedule::check("2016-Q4", start, None).is_ok());
        let early = PeriodSchedule::check("2016-Q4", start - chrono::Duration::seconds(1), None);
        assert!(matches!(early, Err(Error::Validation { field, .. }) if field == "dueAt"));
        for bad in ["2016-Q5", "x", ""] {
            let e = PeriodSchedule::check(bad, start, None);
            assert!(matches!(e, Err(Error::Validation { field, .. }) if field == "period"), "{bad:?}");
        }
        let long = "x".repeat(MAX_REASON + 1);
        assert!(matches!(
            PeriodSchedule::check("2016-Q4", start, Some(&long)),
            Err(Error::Validation { field, .. }) if field == "reason"
        ));
        let blank = PeriodSchedule::check("2016-Q4", start, Some("  ")).expect("blank reason");
        assert_eq!(blank.reason, None);
    }

    #[test]
    fn scheduling_then_rescheduling_records_before_and_after() {
        let due = at("2017-01-15T18:00:00+08:00");
        let first = PeriodSchedule::check("2016-Q4", due, None).expect("ok");
        let ScheduleDecision::Write(period, entry) = decide_schedule(None, &first, "sup", at("2016-12-01T00:00:00Z"))
        else {
            panic!("a new period is written")
        };
        assert_eq!((period.version, period.starts_at, period.due_at), (1, at("2016-09-30T16:00:00Z"), due));
        assert_eq!(entry.action, PeriodAction::Schedule);
        assert_eq!(entry.changes[0].before, None);

        assert_eq!(
            decide_schedule(Some(&period), &first, "sup", at("2016-12-02T00:00:00Z")),
            ScheduleDecision::Unchanged(period.clone())
        );

        let later = at("2017-01-31T18:00:00+08:00");
        let again = PeriodSchedule::check("2016-Q4", later, Some("holiday")).expect("ok");
        let ScheduleDecision::Write(moved, entry) =
            decide_schedule(Some(&period), &again, "sup", at("2016-12-03T00:00:00Z"))
        else {
            panic!("a new due date is written")
        };
        assert_eq!((moved.version, moved.due_at, moved.created_at), (2, later, period.created_at));
        assert_eq!(entry.action, PeriodAction::Reschedule);
        assert_eq!(entry.changes[0].before, Some(serde_json::Value::String(due.to_rfc3339())));
        assert_eq!(entry.changes[1].after, Some("holiday".into()));
    }
}
