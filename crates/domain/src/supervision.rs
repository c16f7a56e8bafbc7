//! Supervision: what the supervising office asks of the plan. Today the reporting calendar —
//! [`period`]: which periods are scheduled and when their reports are due.

pub mod period;

pub use period::{
    MAX_REASON, PeriodAction, PeriodHistoryEntry, PeriodSchedule, ReportingPeriod, ScheduleDecision, decide_schedule,
};
