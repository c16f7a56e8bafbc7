//! Scheduling a reporting period (or rescheduling it to a new due date).

use crate::Result;
use crate::access::{Viewer, can_supervise};
use crate::ports::{Clock, PeriodStore};
use crate::supervision::{PeriodSchedule, ReportingPeriod};

/// Schedules `period` with reports due at `due_at`, as the viewer (a supervisor or an admin),
/// at the clock's time. The caller is checked before the input, so an unauthorised caller
/// learns nothing about it; on any error nothing is written.
pub async fn schedule_period(
    periods: &dyn PeriodStore,
    clock: &dyn Clock,
    viewer: &Viewer,
    period: &str,
    due_at: chrono::DateTime<chrono::Utc>,
    reason: Option<&str>,
) -> Result<ReportingPeriod> {
    let principal = viewer.principal()?;
    can_supervise(principal)?;
    let schedule = PeriodSchedule::check(period, due_at, reason)?;
    periods.schedule_period(principal, schedule, clock.now()).await
}
