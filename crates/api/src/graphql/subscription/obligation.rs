//! Subscriptions on the reporting matrix: `obligationChanged` (a cell of a period moved) and
//! `obligationDueSoon` (the reminder before a due date). Each subscriber follows a watcher its
//! replica shares among all who follow the same thing (`crate::watch`).

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::{Context, Subscription};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt as _};
use workplan_domain::ports::{Clock, SystemClock};
use workplan_domain::supervision::ReminderAudience;
use workplan_domain::usecases::supervise::{PlanFrame, scheduled};

use crate::context::{periods, plan, scope, viewer};
use crate::error::{GqlResultExt, internal};
use crate::graphql::obligation::{Obligation, ObligationFilterInput, ObligationState};
use crate::ids;
use crate::watch::Watch;
use crate::watch::matrix::Moved;
use crate::watch::reminders::Reminder;

/// A reporting-matrix cell that moved.
pub(crate) struct ObligationChange(Moved);

/// A reporting-matrix cell that moved: submitted, accepted, exempted, overdue once its due date
/// passed — or back (a report returned, an exemption revoked).
#[async_graphql::Object]
impl ObligationChange {
    /// The obligation as it stands now.
    async fn obligation(&self) -> Obligation {
        Obligation::of(self.0.obligation.clone())
    }

    /// Its new state.
    async fn state(&self) -> ObligationState {
        self.0.obligation.state().into()
    }

    /// Its state before; null for a cell new to the matrix (the plan changed).
    async fn previous_state(&self) -> Option<ObligationState> {
        self.0.before.map(Into::into)
    }
}

/// A reminder that an unreported obligation is due soon.
pub(crate) struct ObligationReminder(Reminder);

/// A reminder: an obligation with nothing counting submitted came within the reminder window
/// of its due date (the server's `--due-soon-days`).
#[async_graphql::Object]
impl ObligationReminder {
    /// The obligation, as it stood when the reminder was sent.
    async fn obligation(&self) -> Obligation {
        Obligation::of(self.0.obligation.clone())
    }

    /// The due date the reminder is about (the period's, or the obligation's extension).
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.event.event.due_at
    }

    /// When the cluster's timer recorded the reminder (by the server's clock).
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.event.recorded_at
    }

    /// Pass as `after` to `obligationDueSoon` to resume after this reminder.
    async fn cursor(&self) -> String {
        ids::cursor(REMINDER_CURSOR, &self.0.event.id.to_string())
    }
}

/// The kind of a reminder's cursor.
const REMINDER_CURSOR: &str = "reminder";

/// The replica's watchers.
fn watch<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<Watch>> {
    ctx.data::<Arc<Watch>>().map_err(|_| internal())
}

/// The clock the connection's operations tell the time by.
fn clock(ctx: &Context<'_>) -> Arc<dyn Clock> {
    ctx.data::<Arc<dyn Clock>>().map_or_else(|_| Arc::new(SystemClock) as Arc<dyn Clock>, Arc::clone)
}

/// Subscriptions on the reporting matrix.
#[derive(Default)]
pub(crate) struct ObligationSubscription;

/// Subscriptions on the reporting matrix.
#[Subscription]
impl ObligationSubscription {
    /// Every move of a cell of a scheduled period's reporting matrix from now on: submitted,
    /// accepted, exempted (or back), and OVERDUE once its due date passes — each with the
    /// obligation and its new state. Who may read the matrix may follow it (anonymous callers
    /// too while public reading is on; `obligation.report` follows the report read rules).
    /// An unscheduled period is NOT_FOUND, a malformed one BAD_USER_INPUT.
    async fn obligation_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The scheduled period's key, e.g. \"2016-Q4\".")] period: String,
        #[graphql(desc = "Only cells that match (`states`: their new state).")] filter: Option<ObligationFilterInput>,
    ) -> async_graphql::Result<impl Stream<Item = ObligationChange> + use<>> {
        scope(ctx)?;
        let period = scheduled(periods(ctx)?.as_ref(), &period, "period").await.gql()?;
        let frame = PlanFrame::load(plan(ctx)?.as_ref()).await.gql()?;
        let filter = filter.unwrap_or_default().resolve(ctx, &frame).await?;
        let following = watch(ctx)?.matrix(period.period, clock(ctx)).await.gql()?;
        let batches = futures::stream::unfold(following, |mut f| async move { f.next().await.map(|b| (b, f)) });
        Ok(batches.flat_map(move |batch| {
            let mine: Vec<ObligationChange> =
                batch.iter().filter(|m| filter.matches(&m.obligation)).cloned().map(ObligationChange).collect();
            futures::stream::iter(mine)
        }))
    }

    /// Reminders that an obligation is due soon: nothing counting was submitted and its due
    /// date is within the server's reminder window (`--due-soon-days`, 3 by default). From now
    /// on, or with `after` (a reminder's `cursor`) first every reminder recorded after that one
    /// (with its obligation as it stands now): resubscribing with the last cursor received
    /// misses none and repeats none. A reporter token hears its own party's, supervisors and
    /// admins everyone's; each reminder comes once per due date, whichever replica the
    /// subscriber is on. Anonymous callers are UNAUTHENTICATED, other tokens FORBIDDEN.
    async fn obligation_due_soon(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Replay the reminders recorded after this reminder's `cursor` before the new ones; \
                          from now on when absent.")]
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = ObligationReminder> + use<>> {
        let audience = ReminderAudience::of(viewer(ctx).principal().gql()?).gql()?;
        let after = ids::parse_cursor::<i64>(REMINDER_CURSOR, after, "after")?;
        let (watch, clock) = (watch(ctx)?.clone(), clock(ctx));
        // Following first: a reminder recorded while the missed ones are read comes through it.
        let mut following = watch.reminders(clock.clone()).await.gql()?;
        let missed = match after {
            Some(after) => watch.reminders_after(clock.as_ref(), after).await.gql()?,
            None => Vec::new(),
        };
        Ok(async_stream::stream! {
            let replayed: HashSet<i64> = missed.iter().map(|r| r.event.id).collect();
            for reminder in missed.into_iter().filter(|r| audience.hears(r.obligation.party)) {
                yield ObligationReminder(reminder);
            }
            while let Some(batch) = following.next().await {
                for reminder in batch.iter().filter(|r| audience.hears(r.obligation.party) && !replayed.contains(&r.event.id)) {
                    yield ObligationReminder(reminder.clone());
                }
            }
        })
    }
}
