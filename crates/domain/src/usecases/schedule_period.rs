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

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::sync::Mutex;
    use std::task::{Context, Poll, Waker};

    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};

    use super::*;
    use crate::Error;
    use crate::access::Principal;
    use crate::ids::TokenId;
    use crate::ports::ManualClock;
    use crate::report::Period;
    use crate::supervision::{PeriodHistoryEntry, ScheduleDecision, decide_schedule};
    use crate::token::AccessRole;

    /// Records what it is asked to schedule, and when.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(PeriodSchedule, DateTime<Utc>)>>);

    #[async_trait]
    impl PeriodStore for Recorder {
        async fn schedule_period(
            &self,
            actor: &Principal,
            s: PeriodSchedule,
            at: DateTime<Utc>,
        ) -> Result<ReportingPeriod> {
            self.0.lock().expect("lock").push((s.clone(), at));
            match decide_schedule(None, &s, &actor.actor(), at) {
                ScheduleDecision::Write(p, _) | ScheduleDecision::Unchanged(p) => Ok(p),
            }
        }
        async fn period(&self, _: Period) -> Result<Option<ReportingPeriod>> {
            Ok(None)
        }
        async fn periods(&self) -> Result<Vec<ReportingPeriod>> {
            Ok(Vec::new())
        }
        async fn period_history(&self, _: &[Period]) -> Result<Vec<PeriodHistoryEntry>> {
            Ok(Vec::new())
        }
    }

    fn now<T>(future: impl Future<Output = T>) -> T {
        match pin!(future).as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("nothing here waits"),
        }
    }

    fn viewer(role: AccessRole) -> Viewer {
        Viewer::Token(Principal { token: TokenId(1), name: "t".into(), role, agency: None, province: None })
    }

    #[test]
    fn supervisors_and_admins_schedule_at_the_clocks_time_and_nobody_else_writes() {
        let at = Utc.with_ymd_and_hms(2016, 12, 1, 0, 0, 0).single().expect("time");
        let clock = ManualClock::new(at);
        let due = Utc.with_ymd_and_hms(2017, 1, 15, 16, 0, 0).single().expect("time");
        let store = Recorder::default();
        for role in [AccessRole::Supervisor, AccessRole::Admin] {
            let p = now(schedule_period(&store, &clock, &viewer(role), "2016-Q4", due, None)).expect("scheduled");
            assert_eq!((p.due_at, p.created_at), (due, at));
        }
        for role in [AccessRole::Reader, AccessRole::AgencyReporter, AccessRole::ProvinceReporter] {
            let e = now(schedule_period(&store, &clock, &viewer(role), "x", due, None));
            assert!(matches!(e, Err(Error::Forbidden(_))), "{role:?} is refused before its input is read");
        }
        let e = now(schedule_period(&store, &clock, &Viewer::Anonymous, "2016-Q4", due, None));
        assert!(matches!(e, Err(Error::Unauthenticated(_))));
        let e = now(schedule_period(&store, &clock, &viewer(AccessRole::Admin), "2017-Q2", due, None));
        assert!(matches!(e, Err(Error::Validation { field, .. }) if field == "dueAt"));
        assert_eq!(store.0.lock().expect("lock").len(), 2, "only the two allowed schedules reached the store");
    }
}
