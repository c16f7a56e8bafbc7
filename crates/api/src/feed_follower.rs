//! The feed follower: one reader of the change feed per replica, however many subscribers it
//! has, and the stream each subscriber reads from it ([`follow_feed`]).
//!
//! The follower reads the feed after its last position whenever the [`Notifier`] says reports
//! changed (on any replica), whenever announcements may have been lost (`Notice::Missed`),
//! and every [`CATCH_UP`] in case an announcement never came. It broadcasts what it read, in
//! feed order, to the subscribers of this replica. A subscriber first replays the feed from its
//! own cursor out of the store, then takes the broadcast, skipping what it already has; when
//! it fell behind the broadcast (or the follower restarted) it reads the store again from its
//! own last position. Nothing is skipped and nothing is delivered twice: the feed is read in
//! its gap-free order everywhere (see `FeedPosition`), and a change the follower has read is
//! visible to any read the subscriber makes afterwards.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::sync::broadcast::{self, error::RecvError};
use workplan_domain::Result;
use workplan_domain::access::ReportScope;
use workplan_domain::ports::{Notifier, ReportReader};
use workplan_domain::report::{Change, FeedPosition};

/// How often the follower reads the feed when it heard nothing: the bound on how late a change
/// whose announcement was lost arrives.
pub(crate) const CATCH_UP: Duration = Duration::from_secs(1);

/// How many changes one read of the feed takes.
const PAGE: u32 = 500;

/// How many batches a subscriber may fall behind before it reads the store again.
const BACKLOG: usize = 64;

/// Changes read together, in feed order.
pub(crate) type Batch = Arc<[Change]>;

/// The one reader of the change feed in this replica (see the module documentation). It starts
/// following when the first subscriber comes.
pub(crate) struct FeedFollower {
    reports: Arc<dyn ReportReader>,
    notifier: Arc<dyn Notifier>,
    running: tokio::sync::Mutex<Option<Running>>,
}

/// A following task and what it broadcasts on.
struct Running {
    sender: broadcast::Sender<Batch>,
    task: tokio::task::JoinHandle<()>,
}

impl FeedFollower {
    /// A follower reading `reports`, woken by `notifier`.
    pub(crate) fn new(reports: Arc<dyn ReportReader>, notifier: Arc<dyn Notifier>) -> Self {
        Self { reports, notifier, running: tokio::sync::Mutex::default() }
    }

    /// A receiver of every batch the follower reads from now on, starting the follower if it
    /// is not running. Every change after the batches it receives is already in the store.
    async fn attach(&self) -> Result<broadcast::Receiver<Batch>> {
        let mut running = self.running.lock().await;
        if let Some(r) = running.as_ref().filter(|r| !r.task.is_finished()) {
            return Ok(r.sender.subscribe());
        }
        // Listen first, then find where the feed ends: a change announced in between wakes it.
        let notices = self.notifier.subscribe();
        let head = self.reports.feed_head().await?;
        let (sender, receiver) = broadcast::channel(BACKLOG);
        let task = tokio::spawn(follow(self.reports.clone(), notices, sender.clone(), head));
        *running = Some(Running { sender, task });
        Ok(receiver)
    }
}

impl Drop for FeedFollower {
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut().take() {
            running.task.abort();
        }
    }
}

/// Reads the feed after `position` on every wake-up and broadcasts what it finds, until the
/// follower is dropped. With no subscriber it stays where it is and reads on when one comes.
async fn follow(
    reports: Arc<dyn ReportReader>,
    mut notices: Box<dyn workplan_domain::ports::Subscription>,
    sender: broadcast::Sender<Batch>,
    mut position: Option<FeedPosition>,
) {
    let mut tick = tokio::time::interval(CATCH_UP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        crate::report_wake::reports_may_have_changed(&mut notices, &mut tick).await;
        if sender.receiver_count() == 0 {
            continue;
        }
        loop {
            match reports.list_changes(position, PAGE, &ReportScope::All).await {
                Ok((changes, more)) => {
                    if let Some(last) = changes.last() {
                        position = Some(last.position);
                        // No receiver left is not an error: the next one reads the store first.
                        let _ = sender.send(changes.into());
                    }
                    if !more {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(error = %error, "could not read the change feed; will retry");
                    break;
                }
            }
        }
    }
}

/// Where a stream of the feed starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Since {
    /// After this position (from the feed's start when `None`): the changes already in the
    /// store come first.
    After(Option<FeedPosition>),
    /// With the changes made from now on.
    Now,
}

/// Every change `scope` sees from `since` on, in feed order: first those already in the store,
/// then each new one as the follower reads it. The stream ends only with an error (the store
/// failed).
pub(crate) fn follow_feed(
    follower: Arc<FeedFollower>,
    scope: ReportScope,
    since: Since,
) -> impl Stream<Item = Result<Change>> + Send + 'static {
    async_stream::try_stream! {
        let reports = follower.reports.clone();
        let mut receiver = follower.attach().await?;
        // Attached first: whatever follows the head read now comes through the broadcast.
        let mut position = match since {
            Since::After(position) => position,
            Since::Now => reports.feed_head().await?,
        };
        let mut reread = true;
        loop {
            if reread {
                loop {
                    let (changes, more) = reports.list_changes(position, PAGE, &scope).await?;
                    for change in changes {
                        position = Some(change.position);
                        yield change;
                    }
                    if !more {
                        break;
                    }
                }
                reread = false;
            }
            match receiver.recv().await {
                Ok(batch) => {
                    let fresh: Vec<Change> = batch.iter().filter(|c| Some(c.position) > position).cloned().collect();
                    // An entry only the store can judge: read it (and whatever follows) there.
                    if fresh.iter().any(|c| scope.sees_change(c).is_none()) {
                        reread = true;
                        continue;
                    }
                    for change in fresh {
                        if scope.sees_change(&change) == Some(true) {
                            position = Some(change.position);
                            yield change;
                        }
                    }
                }
                Err(RecvError::Lagged(_)) => reread = true,
                Err(RecvError::Closed) => {
                    receiver = follower.attach().await?;
                    reread = true;
                }
            }
        }
    }
}
