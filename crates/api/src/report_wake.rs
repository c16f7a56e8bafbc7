//! When a follower of the reports (the feed follower, the webhook worker) looks again.

use tokio::time::Interval;
use workplan_domain::ports::{Notice, Subscription, Topic};

/// Waits until reports may have changed: a `reports` announcement from any replica, a lost
/// announcement (`Missed`), or the next `tick` of the follower's catch-up interval, whichever
/// comes first; announcements of other topics are passed over.
pub(crate) async fn reports_may_have_changed(notices: &mut Box<dyn Subscription>, tick: &mut Interval) {
    loop {
        tokio::select! {
            notice = notices.next() => {
                if matches!(notice, Notice::Changed(Topic::Reports) | Notice::Missed) {
                    return;
                }
            }
            _ = tick.tick() => return,
        }
    }
}
