//! What this replica watches for its subscribers: one [`matrix`] watcher per period that
//! someone follows with `obligationChanged`, and one [`reminders`] watcher for
//! `obligationDueSoon` — each shared by all its subscribers, so a notice costs one read per
//! watcher, not one per subscriber.
//!
//! Watchers wake on the notifier's notices (`Topic::Reports`, `Topic::Obligations`, and
//! `Notice::Missed` after lost announcements), at the next due date they know of by the domain
//! clock, and at least every `due_date_tick` (a catch-up that also sees a clock moved by a
//! test). A watcher lives while it has subscribers: the last one to leave stops it.

pub(crate) mod matrix;
pub(crate) mod reminders;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;
use workplan_domain::Result;
use workplan_domain::ports::{Clock, Ports};
use workplan_domain::report::Period;
use workplan_domain::supervision::Obligation;
use workplan_domain::usecases::supervise::PlanFrame;

use crate::config::ApiConfig;
use crate::judged::Judged;

/// How many batches a subscriber may fall behind before it misses some.
const BACKLOG: usize = 64;

/// A watcher's task, stopped when the last subscriber lets go of it.
pub(crate) struct Watcher<T> {
    sender: broadcast::Sender<T>,
    task: tokio::task::JoinHandle<()>,
}

impl<T> Drop for Watcher<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One subscriber's end of a watcher: what it sends, and the watcher kept alive.
pub(crate) struct Following<T> {
    receiver: broadcast::Receiver<T>,
    _watcher: Arc<Watcher<T>>,
}

impl<T: Clone> Following<T> {
    /// The next batch the watcher sends; `None` once it stopped. A subscriber that fell behind
    /// skips what it missed (logged).
    pub(crate) async fn next(&mut self) -> Option<T> {
        loop {
            match self.receiver.recv().await {
                Ok(batch) => return Some(batch),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "a subscriber fell behind its watcher and missed batches");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// What the watchers read and how often they catch up.
#[derive(Clone)]
pub(crate) struct Sources {
    pub(crate) ports: Ports,
    pub(crate) judged: Arc<Judged>,
    pub(crate) tick: Duration,
}

impl Sources {
    /// Every obligation of the scheduled `period` judged at `now` (the replica's kept
    /// judgement when nothing it depends on changed); `None` when it is not scheduled.
    pub(crate) async fn judge(&self, period: Period, now: DateTime<Utc>) -> Result<Option<Arc<Vec<Obligation>>>> {
        let Some(scheduled) = self.ports.periods.period(period).await? else { return Ok(None) };
        let frame = PlanFrame::load(self.ports.plan.as_ref()).await?;
        let keys = [period];
        let facts = self.ports.supervision.report_facts(&keys, None).await?;
        let adjustments = self.ports.supervision.adjustments(&keys).await?;
        Ok(Some(self.judged.obligations(&scheduled, &frame, facts, adjustments, now)))
    }
}

/// The watchers of this replica (one per schema).
pub(crate) struct Watch {
    sources: Sources,
    matrices: tokio::sync::Mutex<HashMap<Period, Weak<Watcher<matrix::Batch>>>>,
    reminders: tokio::sync::Mutex<Weak<Watcher<reminders::Batch>>>,
}

impl Watch {
    /// Watchers reading `ports`, sharing the replica's judgements.
    pub(crate) fn new(ports: Ports, judged: Arc<Judged>, config: &ApiConfig) -> Self {
        Self {
            sources: Sources { ports, judged, tick: config.due_date_tick },
            matrices: tokio::sync::Mutex::default(),
            reminders: tokio::sync::Mutex::default(),
        }
    }

    /// Follows the moves of `period`'s matrix cells from now on (starting its watcher, which
    /// judges the period first, if nobody follows it yet).
    pub(crate) async fn matrix(&self, period: Period, clock: Arc<dyn Clock>) -> Result<Following<matrix::Batch>> {
        let mut watchers = self.matrices.lock().await;
        watchers.retain(|_, w| w.strong_count() > 0);
        if let Some(watcher) = watchers.get(&period).and_then(Weak::upgrade) {
            return Ok(Following { receiver: watcher.sender.subscribe(), _watcher: watcher });
        }
        let (sender, receiver) = broadcast::channel(BACKLOG);
        let task = matrix::start(self.sources.clone(), period, clock, sender.clone()).await?;
        let watcher = Arc::new(Watcher { sender, task });
        watchers.insert(period, Arc::downgrade(&watcher));
        Ok(Following { receiver, _watcher: watcher })
    }

    /// The due-date reminders recorded after the event `after` (see
    /// [`reminders::recorded_after`]).
    pub(crate) async fn reminders_after(&self, clock: &dyn Clock, after: i64) -> Result<Vec<reminders::Reminder>> {
        reminders::recorded_after(&self.sources, clock, after).await
    }

    /// Follows the due-date reminders recorded from now on (starting the watcher if nobody
    /// follows them yet).
    pub(crate) async fn reminders(&self, clock: Arc<dyn Clock>) -> Result<Following<reminders::Batch>> {
        let mut slot = self.reminders.lock().await;
        if let Some(watcher) = slot.upgrade() {
            return Ok(Following { receiver: watcher.sender.subscribe(), _watcher: watcher });
        }
        let (sender, receiver) = broadcast::channel(BACKLOG);
        let task = reminders::start(self.sources.clone(), clock, sender.clone()).await?;
        let watcher = Arc::new(Watcher { sender, task });
        *slot = Arc::downgrade(&watcher);
        Ok(Following { receiver, _watcher: watcher })
    }
}
