//! The watcher of one period's reporting matrix: it keeps the period's last judgement, judges
//! again when woken, and sends the cells whose state moved
//! ([`changed_cells`](workplan_domain::supervision::changed_cells)).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;
use workplan_domain::ports::{Clock, Notice, Topic};
use workplan_domain::report::Period;
use workplan_domain::supervision::{Obligation, ObligationState, changed_cells};
use workplan_domain::{Error, Result};

use super::Sources;

/// How long after a notice the watcher judges once more: another replica's report facts are
/// kept up to a second (`live_facts.rs`), so the first judgement after a notice from another
/// replica may not see the change yet.
const FOLLOW_UP: Duration = Duration::from_millis(1100);

/// A cell that moved: the obligation as it stands now, and its state before.
#[derive(Debug, Clone)]
pub(crate) struct Moved {
    /// The obligation, judged afresh.
    pub(crate) obligation: Obligation,
    /// Its state before; `None` for a cell new to the matrix.
    pub(crate) before: Option<ObligationState>,
}

/// The cells that moved at once.
pub(crate) type Batch = Arc<[Moved]>;

/// Judges `period` (so that subscribers hear of moves from now on) and starts its watcher.
pub(super) async fn start(
    sources: Sources,
    period: Period,
    clock: Arc<dyn Clock>,
    sender: broadcast::Sender<Batch>,
) -> Result<tokio::task::JoinHandle<()>> {
    // Subscribed before the first judgement: nothing announced after it is missed.
    let notices = sources.ports.notifier.subscribe();
    let first = sources
        .judge(period, clock.now())
        .await?
        .ok_or_else(|| Error::not_found("reporting period", Some("period")))?;
    Ok(tokio::spawn(run(sources, period, clock, sender, notices, first)))
}

async fn run(
    sources: Sources,
    period: Period,
    clock: Arc<dyn Clock>,
    sender: broadcast::Sender<Batch>,
    mut notices: Box<dyn workplan_domain::ports::Subscription>,
    mut last: Arc<Vec<Obligation>>,
) {
    let mut follow_up: Option<Instant> = None;
    loop {
        let now = clock.now();
        // The next due date to pass, read as real time; the catch-up tick at the latest.
        let mut wait = last
            .iter()
            .map(|o| o.due_at)
            .filter(|due| *due > now)
            .min()
            .and_then(|due| (due - now).to_std().ok())
            .map_or(sources.tick, |d| d.min(sources.tick));
        if let Some(at) = follow_up {
            wait = wait.min(at.saturating_duration_since(Instant::now()));
        }
        tokio::select! {
            notice = notices.next() => {
                if notice == Notice::Changed(Topic::Tokens) {
                    continue;
                }
                follow_up = Some(Instant::now() + FOLLOW_UP);
            }
            () = tokio::time::sleep(wait) => {
                if follow_up.is_some_and(|at| at <= Instant::now()) {
                    follow_up = None;
                }
            }
        }
        match sources.judge(period, clock.now()).await {
            Ok(Some(judged)) if !Arc::ptr_eq(&judged, &last) => {
                let moved: Vec<Moved> = changed_cells(&last, &judged)
                    .into_iter()
                    .map(|c| Moved { obligation: c.obligation.clone(), before: c.before })
                    .collect();
                if !moved.is_empty() {
                    // Nobody listening is not an error: the watcher stops with its last subscriber.
                    let _ = sender.send(moved.into());
                }
                last = judged;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, %period, "could not judge a watched period; will retry"),
        }
    }
}
