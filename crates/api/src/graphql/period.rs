//! The reporting calendar: scheduled reporting periods with their due dates, and scheduling
//! them (SUPERVISOR or ADMIN).

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use workplan_domain::access::can_supervise;
use workplan_domain::report::Period;

use super::history::FieldChange;
use crate::context::{clock, load, periods, viewer};
use crate::error::GqlResultExt;
use crate::loaders::PeriodHistoryOf;

/// A scheduled reporting period.
pub(crate) struct ReportingPeriod(pub workplan_domain::supervision::ReportingPeriod);

/// A reporting period that supervisors scheduled: its calendar boundaries in China Standard
/// Time (UTC+08:00) and the instant its reports are due.
#[Object]
impl ReportingPeriod {
    /// The period's key: a year ("2016"), a half ("2016-H2"), a quarter ("2016-Q4") or a
    /// month ("2016-09").
    async fn period(&self) -> String {
        self.0.period.to_string()
    }

    /// When the period starts: midnight at the start of its first day in China Standard Time
    /// (2016-Q4 starts at 2016-10-01T00:00:00+08:00, which is 2016-09-30T16:00:00Z).
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }

    /// When the period ends (exclusive): midnight at the start of the day after its last, in
    /// China Standard Time (2016-Q4 ends at 2017-01-01T00:00:00+08:00).
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }

    /// When the period's reports are due (never before the period starts).
    async fn due_at(&self) -> DateTime<Utc> {
        self.0.due_at
    }

    /// 1 when first scheduled, one more each time it was rescheduled.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the period was first scheduled.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the period was last rescheduled (or first scheduled).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Every write to the period, oldest first: who scheduled or rescheduled it, when, and the
    /// due date before and after (with the reason, if one was given). SUPERVISOR or ADMIN only:
    /// anyone else gets an error (UNAUTHENTICATED or FORBIDDEN).
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ReportingPeriodChange>> {
        can_supervise(viewer(ctx).principal().gql()?).gql()?;
        let rows = load(ctx, PeriodHistoryOf(self.0.period)).await?.unwrap_or_default();
        Ok(rows.into_iter().map(ReportingPeriodChange).collect())
    }
}

/// What a write to a reporting period did.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::supervision::PeriodAction")]
pub enum ReportingPeriodAction {
    /// The period was scheduled for the first time.
    Schedule,
    /// The period's due date changed.
    Reschedule,
}

/// One write to a reporting period.
pub(crate) struct ReportingPeriodChange(pub workplan_domain::supervision::PeriodHistoryEntry);

/// One write to a reporting period: who, when, what, and the fields it changed.
#[Object]
impl ReportingPeriodChange {
    /// The version the write produced.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// SCHEDULE or RESCHEDULE.
    async fn action(&self) -> ReportingPeriodAction {
        self.0.action.into()
    }

    /// Who wrote (token name and role).
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// The fields that changed: `dueAt` (before is null when first scheduled), and `reason`
    /// when one was given.
    async fn changes(&self) -> Vec<FieldChange> {
        self.0.changes.iter().cloned().map(FieldChange).collect()
    }
}

/// A period to schedule, or to reschedule to a new due date.
#[derive(InputObject, Debug)]
pub(crate) struct ScheduleReportingPeriodInput {
    /// The period's key: "2016", "2016-H2", "2016-Q4" or "2016-09".
    pub period: String,
    /// When its reports are due: an instant, not before the period starts (midnight CST of
    /// its first day).
    pub due_at: DateTime<Utc>,
    /// Why it is scheduled or moved (optional, at most 1000 characters; no control characters but line breaks and tabs, no bidi overrides or isolates);
    /// kept in its history.
    pub reason: Option<String>,
}

/// The scheduled period.
#[derive(SimpleObject)]
pub(crate) struct ScheduleReportingPeriodPayload {
    /// The period as it now stands.
    pub reporting_period: ReportingPeriod,
}

/// The reporting calendar.
#[derive(Default)]
pub(crate) struct PeriodQueryRoot;

/// The reporting calendar.
#[Object]
impl PeriodQueryRoot {
    /// Every scheduled reporting period, by start (a longer period before a shorter one that
    /// starts with it: 2016 before 2016-H1 before 2016-Q1).
    async fn reporting_periods(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ReportingPeriod>> {
        Ok(periods(ctx)?.periods().await.gql()?.into_iter().map(ReportingPeriod).collect())
    }

    /// The scheduled period with this key; null when it is not scheduled. A malformed key is
    /// BAD_USER_INPUT on `period`.
    async fn reporting_period(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period's key: \"2016\", \"2016-H2\", \"2016-Q4\" or \"2016-09\".")] period: String,
    ) -> async_graphql::Result<Option<ReportingPeriod>> {
        let period = Period::parse(period.trim()).gql()?;
        Ok(periods(ctx)?.period(period).await.gql()?.map(ReportingPeriod))
    }
}

/// Scheduling reporting periods.
#[derive(Default)]
pub(crate) struct PeriodMutationRoot;

/// Scheduling reporting periods.
#[Object]
impl PeriodMutationRoot {
    /// Schedules a reporting period with the instant its reports are due (SUPERVISOR or
    /// ADMIN). Scheduling a period again changes its due date, bumps its version and records
    /// the change in its history; the same due date again changes nothing. A malformed key
    /// (`period`) or a due date before the period starts (`dueAt`) is BAD_USER_INPUT; on any
    /// error nothing is written.
    async fn schedule_reporting_period(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period and its due date.")] input: ScheduleReportingPeriodInput,
    ) -> async_graphql::Result<ScheduleReportingPeriodPayload> {
        let period = workplan_domain::usecases::schedule_period(
            periods(ctx)?.as_ref(),
            clock(ctx),
            viewer(ctx),
            &input.period,
            input.due_at,
            input.reason.as_deref(),
        )
        .await
        .gql()?;
        Ok(ScheduleReportingPeriodPayload { reporting_period: ReportingPeriod(period) })
    }
}
