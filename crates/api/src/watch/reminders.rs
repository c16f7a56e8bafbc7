//! The watcher of due-date reminders: it reads the due-date events the cluster's timer records
//! (every replica reads the same rows, so every subscriber hears each event once, whichever
//! replica recorded it) and sends the DUE_SOON ones with their obligations, judged once per
//! period for all subscribers.
//!
//! Events are read by id. On PostgreSQL a row can commit after one with a higher id (two
//! leaders overlapping for a moment), so each read looks back [`LOOKBACK`] ids and skips the
//! ones already sent.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::broadcast;
use workplan_domain::Result;
use workplan_domain::ports::{Clock, Notice, Subscription, Topic};
use workplan_domain::report::{Period, Reporter};
use workplan_domain::supervision::{DueDateEventKind, Obligation, RecordedDueDateEvent};

use super::Sources;

/// How many ids back each read looks for events that committed late.
const LOOKBACK: i64 = 256;

/// Events per read.
const PAGE: u32 = 1000;

/// A reminder: the recorded event and the obligation as it stands.
#[derive(Debug, Clone)]
pub(crate) struct Reminder {
    /// The event.
    pub(crate) event: RecordedDueDateEvent,
    /// Its obligation, judged when the event was read.
    pub(crate) obligation: Obligation,
}

/// Reminders read at once.
pub(crate) type Batch = Arc<[Reminder]>;

/// What the watcher has sent: every id up to `last`, and those above `last - LOOKBACK`.
struct Sent {
    last: i64,
    ids: BTreeSet<i64>,
}

impl Sent {
    fn from(&self) -> i64 {
        (self.last - LOOKBACK).max(0)
    }

    /// Whether `id` is new, marking it sent.
    fn first_time(&mut self, id: i64) -> bool {
        if id <= self.from() || !self.ids.insert(id) {
            return false;
        }
        self.last = self.last.max(id);
        true
    }

    fn prune(&mut self) {
        let from = self.from();
        self.ids = self.ids.split_off(&(from + 1));
    }
}

/// Notes the events recorded so far (they are not sent) and starts the watcher.
pub(super) async fn start(
    sources: Sources,
    clock: Arc<dyn Clock>,
    sender: broadcast::Sender<Batch>,
) -> Result<tokio::task::JoinHandle<()>> {
    let notices = sources.ports.notifier.subscribe();
    let last = sources.ports.due_dates.last_due_date_event().await?;
    let mut sent = Sent { last, ids: BTreeSet::new() };
    let recent = sources.ports.due_dates.due_date_events_after(sent.from(), PAGE).await?;
    sent.ids.extend(recent.iter().map(|e| e.id).filter(|id| *id <= last));
    Ok(tokio::spawn(run(sources, clock, sender, notices, sent)))
}

async fn run(
    sources: Sources,
    clock: Arc<dyn Clock>,
    sender: broadcast::Sender<Batch>,
    mut notices: Box<dyn Subscription>,
    mut sent: Sent,
) {
    loop {
        tokio::select! {
            notice = notices.next() => {
                if matches!(notice, Notice::Changed(Topic::Plan | Topic::Tokens | Topic::Reports)) {
                    continue;
                }
            }
            () = tokio::time::sleep(sources.tick) => {}
        }
        if let Err(error) = read(&sources, clock.as_ref(), &sender, &mut sent).await {
            tracing::warn!(error = %error, "could not read due-date events; will retry");
        }
    }
}

/// Reads the events not sent yet and sends the DUE_SOON ones with their obligations.
async fn read(sources: &Sources, clock: &dyn Clock, sender: &broadcast::Sender<Batch>, sent: &mut Sent) -> Result<()> {
    let mut fresh = Vec::new();
    let mut after = sent.from();
    loop {
        let page = sources.ports.due_dates.due_date_events_after(after, PAGE).await?;
        let full = page.len() == PAGE as usize;
        after = page.last().map_or(after, |e| e.id);
        fresh.extend(page.into_iter().filter(|e| sent.first_time(e.id)));
        if !full {
            break;
        }
    }
    sent.prune();
    let reminders = reminders_of(sources, clock, fresh).await?;
    if !reminders.is_empty() {
        let _ = sender.send(reminders.into());
    }
    Ok(())
}

/// Every DUE_SOON reminder recorded after the event `after`, by id, with its obligation as it
/// stands now: what a subscriber that resumes from a reminder's cursor missed.
pub(crate) async fn recorded_after(sources: &Sources, clock: &dyn Clock, after: i64) -> Result<Vec<Reminder>> {
    let mut events = Vec::new();
    let mut from = after;
    loop {
        let page = sources.ports.due_dates.due_date_events_after(from, PAGE).await?;
        let full = page.len() == PAGE as usize;
        from = page.last().map_or(from, |e| e.id);
        events.extend(page);
        if !full {
            break;
        }
    }
    reminders_of(sources, clock, events).await
}

/// The DUE_SOON ones of `events` as reminders, in their order, each with its obligation judged
/// now (once per period); an event whose obligation is no longer in the matrix is dropped.
async fn reminders_of(
    sources: &Sources,
    clock: &dyn Clock,
    events: Vec<RecordedDueDateEvent>,
) -> Result<Vec<Reminder>> {
    let due_soon: Vec<RecordedDueDateEvent> =
        events.into_iter().filter(|e| e.event.kind == DueDateEventKind::DueSoon).collect();
    if due_soon.is_empty() {
        return Ok(Vec::new());
    }
    let now = clock.now();
    let mut by_period: HashMap<Period, HashMap<(i64, Reporter), Obligation>> = HashMap::new();
    let mut reminders = Vec::with_capacity(due_soon.len());
    for event in due_soon {
        let period = event.event.period;
        if let Entry::Vacant(slot) = by_period.entry(period) {
            let judged = sources.judge(period, now).await?.unwrap_or_default();
            slot.insert(judged.iter().map(|o| ((o.task_id.0, o.party), o.clone())).collect());
        }
        let cell = by_period.get(&period).and_then(|cells| cells.get(&(event.event.task_id.0, event.event.party)));
        if let Some(obligation) = cell {
            reminders.push(Reminder { obligation: obligation.clone(), event });
        }
    }
    Ok(reminders)
}
