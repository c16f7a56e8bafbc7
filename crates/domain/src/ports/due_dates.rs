//! The ports of the due-date timer: [`DueDateEventStore`], the durable record of due-date
//! events, and [`Leadership`], which makes one replica of the cluster the timer's.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::supervision::{DueDateEvent, RecordedDueDateEvent};

/// Records due-date events, each at most once however many timers record it.
#[async_trait]
pub trait DueDateEventStore: Send + Sync {
    /// The instant up to which the timer has looked for events, if it ever ran.
    async fn events_recorded_until(&self) -> Result<Option<DateTime<Utc>>>;

    /// Records `events` at `at` — skipping any already recorded (same kind, period, task, party
    /// and due date) — and moves the instant up to which events were looked for to `until`
    /// (never back), in one transaction. Returns the events recorded by this call.
    async fn record_due_date_events(
        &self,
        events: &[DueDateEvent],
        until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Vec<RecordedDueDateEvent>>;

    /// Up to `limit` recorded events whose id is above `after`, by id.
    async fn due_date_events_after(&self, after: i64, limit: u32) -> Result<Vec<RecordedDueDateEvent>>;

    /// The highest id recorded so far (0 when none).
    async fn last_due_date_event(&self) -> Result<i64>;
}

/// Chooses the one replica of the cluster that runs the due-date timer.
#[async_trait]
pub trait Leadership: Send + Sync {
    /// Waits until this replica leads (retrying as long as another does), and returns the
    /// lease it leads under.
    async fn lead(&self) -> Box<dyn Lease>;
}

/// Leadership held.
#[async_trait]
pub trait Lease: Send {
    /// Completes when leadership is lost (the connection that held it dropped). A lease that
    /// cannot be lost never completes.
    async fn lost(&mut self);
}
