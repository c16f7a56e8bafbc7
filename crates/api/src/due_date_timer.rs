//! The due-date timer: once per cluster, it records the due-date events the clock makes
//! (an obligation becoming due soon or overdue; the rules are in
//! `workplan_domain::supervision::due_date`).
//!
//! Every replica runs [`run`], but only the leader ticks ([`Leadership`]: a PostgreSQL
//! session advisory lock; on SQLite the one process). A tick looks at the domain clock: the
//! events between the instant the timer last looked (kept in the database, so a new leader
//! carries on where the old one stopped) and now are recorded with a unique key, so two leaders
//! overlapping for a moment record each event once between them; recording announces
//! `Topic::Obligations`, which wakes the subscriptions of every replica. The leader ticks at the
//! next due date or window opening it knows of, and at least every `due_date_tick` (a clock
//! moved by a test is seen at the next tick).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use workplan_domain::Result;
use workplan_domain::ports::{Clock, Leadership, Ports};
use workplan_domain::supervision::{
    ObligationAdjustment, ReportingPeriod, due_date_events, due_soon_window, period_may_have_events,
};
use workplan_domain::usecases::supervise::{PlanFrame, obligations_of};

use crate::config::ApiConfig;

/// How long the timer may look ahead without writing down how far it looked: a new leader
/// starts from the instant written, and judges again at most this much (recording nothing
/// twice).
const MARK_EVERY: chrono::Duration = chrono::Duration::minutes(1);

/// What the timer reads and writes, and how it is set.
struct Timer {
    ports: Ports,
    clock: Arc<dyn Clock>,
    window: chrono::Duration,
    tick: Duration,
    /// The clock when the timer started: where it looks from when it never ran before.
    started: DateTime<Utc>,
}

/// The due-date timer of this replica, to spawn: it waits for leadership, ticks while it leads,
/// and waits again when it loses it; it never ends (abort its task to stop it). It looks for
/// events from the clock's time now when the cluster's timer never ran before.
pub fn run(ports: Ports, clock: Arc<dyn Clock>, config: &ApiConfig) -> impl Future<Output = ()> + Send + 'static {
    let started = clock.now();
    let timer =
        Timer { ports, clock, window: due_soon_window(config.due_soon_days), tick: config.due_date_tick, started };
    async move {
        let leadership: Arc<dyn Leadership> = timer.ports.leadership.clone();
        loop {
            let mut lease = leadership.lead().await;
            tokio::select! {
                () = lease.lost() => tracing::warn!("the due-date timer lost leadership; trying again"),
                () = timer.lead() => {}
            }
        }
    }
}

impl Timer {
    /// Ticks for as long as this replica leads (the caller stops it when leadership is lost).
    async fn lead(&self) {
        let mut looked_until: Option<DateTime<Utc>> = None;
        loop {
            let wait = match self.tick(&mut looked_until).await {
                Ok(next) => next,
                Err(error) => {
                    tracing::warn!(error = %error, "the due-date timer could not tick; will retry");
                    // Read the mark again: the failed write may or may not have moved it.
                    looked_until = None;
                    self.tick
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One tick: records the events from where the timer last looked up to now. Returns how
    /// long to wait for the next.
    async fn tick(&self, looked_until: &mut Option<DateTime<Utc>>) -> Result<Duration> {
        let t0 = match *looked_until {
            Some(t0) => t0,
            None => self.ports.due_dates.events_recorded_until().await?.unwrap_or(self.started),
        };
        let t1 = self.clock.now();
        let periods = self.ports.periods.periods().await?;
        let keys: Vec<_> = periods.iter().map(|p| p.period).collect();
        let adjustments = self.ports.supervision.adjustments(&keys).await?;
        if t1 > t0 {
            let moving: Vec<ReportingPeriod> = periods
                .iter()
                .filter(|p| period_may_have_events(p, &adjustments, t0, t1, self.window))
                .cloned()
                .collect();
            let events = if moving.is_empty() {
                Vec::new()
            } else {
                let frame = PlanFrame::load(self.ports.plan.as_ref()).await?;
                let owed = obligations_of(self.ports.supervision.as_ref(), &frame, &moving, None, t1).await?;
                due_date_events(&owed, t0, t1, self.window)
            };
            // Write down how far it looked when there is something to record, when this lease
            // has not yet, or once a minute; otherwise look from the same instant next time.
            if !events.is_empty() || looked_until.is_none() || t1 - t0 >= MARK_EVERY {
                let recorded = self.ports.due_dates.record_due_date_events(&events, t1, t1).await?;
                if !recorded.is_empty() {
                    tracing::info!(events = recorded.len(), "recorded due-date events");
                }
                *looked_until = Some(t1);
            }
        } else if looked_until.is_none() {
            *looked_until = Some(t0);
        }
        Ok(self.next_wait(&periods, &adjustments, t1))
    }

    /// How long until the next due date or window opening after `now`, by the clock (read as
    /// real time), but no longer than the tick.
    fn next_wait(
        &self,
        periods: &[ReportingPeriod],
        adjustments: &[ObligationAdjustment],
        now: DateTime<Utc>,
    ) -> Duration {
        let due_ats = periods.iter().map(|p| p.due_at).chain(adjustments.iter().filter_map(|a| a.due_at));
        due_ats
            .flat_map(|due| [due - self.window, due])
            .filter(|at| *at > now)
            .min()
            .and_then(|next| (next - now).to_std().ok())
            .map_or(self.tick, |wait| wait.min(self.tick))
    }
}
