//! Supervision: what the supervising office asks of the plan — [`period`]: the reporting
//! calendar; [`obligation`]: who owes which report and where each stands (the reporting
//! matrix); [`adjustment`]: exemptions and extensions; [`due_date`]: due-date events; [`progress`]: derived status with its
//! explanation; [`rollup`](mod@rollup): progress and reporting by group; [`scorecard`]: how well a party
//! keeps its deadlines. docs/supervision.md states every rule.

pub mod adjustment;
pub mod due_date;
#[cfg(test)]
mod fixtures;
pub mod obligation;
pub mod period;
pub mod progress;
pub mod rollup;
pub mod scorecard;

pub use adjustment::{
    AdjustmentId, AdjustmentKind, AdjustmentRequest, Adjustments, NewAdjustment, ObligationAdjustment, PartySelection,
    Revocation,
};
pub use due_date::{
    CellChange, DueDateEvent, DueDateEventKind, RecordedDueDateEvent, ReminderAudience, changed_cells, due_date_events,
    due_soon_window, is_due_soon, period_may_have_events,
};
pub use obligation::{
    Obligation, ObligationFilter, ObligationPlan, ObligationState, PartyKind, ReportFacts, Standing, counts_by_state,
    judge, judged_until, obligations,
};
pub use period::{
    MAX_REASON, PeriodAction, PeriodHistoryEntry, PeriodSchedule, ReportingPeriod, ScheduleDecision, decide_schedule,
};
pub use progress::{AcceptedPart, AcceptedParts, Progress, ProgressStatus, part_progress, task_progress};
pub use rollup::{RollupDimension, RollupGroup, RollupPlan, RollupRow, rollup};
pub use scorecard::{Scorecard, overdue, tally};
