//! Derived progress: a task's (or one agency's part's) status, percent and health, computed
//! from accepted reports, with the reports used and a sentence explaining it.

use async_graphql::{Context, Enum, Object, SimpleObject};
use workplan_domain::ids::TaskId;
use workplan_domain::report::{Period, Reporter as DomainReporter};
use workplan_domain::supervision::{part_progress, task_progress};

use super::report::{Health, ProgressReport, Reporter};
use crate::context::{load, loaders};
use crate::error::{GqlResultExt, internal};
use crate::loaders::{PartsUpTo, ResponsibilityRowsOf};

/// How far along a task or a part is, derived from ACCEPTED reports; listed from least to most
/// advanced.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::supervision::ProgressStatus")]
pub enum ProgressStatus {
    /// No accepted report yet (for a task: a counted part has none).
    NotReported,
    /// Reported, not started.
    NotStarted,
    /// Under way.
    InProgress,
    /// Continuous work with no end state.
    Ongoing,
    /// Done.
    Completed,
}

/// How many tasks (or parts) are in one status.
#[derive(SimpleObject, Clone, Copy)]
pub(crate) struct ProgressStatusCount {
    /// The status.
    pub status: ProgressStatus,
    /// How many are in it.
    pub count: i64,
}

/// Every status with its count, zeros included, in the enum's order.
pub(crate) fn status_counts(
    counts: &[(workplan_domain::supervision::ProgressStatus, usize)],
) -> Vec<ProgressStatusCount> {
    counts
        .iter()
        .map(|(status, n)| ProgressStatusCount {
            status: (*status).into(),
            count: i64::try_from(*n).unwrap_or(i64::MAX),
        })
        .collect()
}

/// Derived progress with its explanation.
pub(crate) struct Progress {
    period: Option<Period>,
    progress: workplan_domain::supervision::Progress,
}

impl Progress {
    fn parse_period(period: Option<String>) -> async_graphql::Result<Option<Period>> {
        period.map(|p| Period::parse(p.trim())).transpose().gql()
    }

    /// The progress of `task` for `period` (default when `None`), batched with every other
    /// progress of the request.
    pub(crate) async fn of_task(
        ctx: &Context<'_>,
        task: &workplan_domain::plan::Task,
        period: Option<String>,
    ) -> async_graphql::Result<Self> {
        let asked = Self::parse_period(period)?;
        let (parts, responsibilities) =
            futures::try_join!(load(ctx, PartsUpTo(asked)), load(ctx, ResponsibilityRowsOf(task.id)))?;
        let (period, parts) = parts.ok_or_else(internal)?;
        let progress = task_progress(task, &responsibilities.unwrap_or_default(), &parts);
        Ok(Self { period, progress })
    }

    /// The progress of `party`'s own part of `task` for `period` (default when `None`).
    pub(crate) async fn of_part(
        ctx: &Context<'_>,
        task: TaskId,
        party: DomainReporter,
        period: Option<String>,
    ) -> async_graphql::Result<Self> {
        let asked = Self::parse_period(period)?;
        let (period, parts) = load(ctx, PartsUpTo(asked)).await?.ok_or_else(internal)?;
        Ok(Self { period, progress: part_progress(task, party, &parts, period) })
    }
}

/// How far along a task (or one agency's part of it) is, derived from ACCEPTED reports by the
/// rules in docs/supervision.md ("Derived status"), with the reports used and why.
#[Object]
impl Progress {
    /// The period the progress is derived for: the one asked, else the latest scheduled period
    /// whose due date has passed, else the earliest scheduled; null when no period is
    /// scheduled (then every accepted report counts).
    async fn period(&self) -> Option<String> {
        self.period.map(|p| p.to_string())
    }

    /// NOT_REPORTED, NOT_STARTED, IN_PROGRESS, ONGOING or COMPLETED. A JOINT task is its least
    /// advanced lead; a DIVIDED task is COMPLETED only when every part is, otherwise its least
    /// advanced part, but at least IN_PROGRESS once any part has started.
    async fn status(&self) -> ProgressStatus {
        self.progress.status.into()
    }

    /// The mean percent complete over the counted parts (a JOINT task's leads, a DIVIDED task's
    /// every part): a missing part counts 0, a part with no percent counts 0 when NOT_STARTED
    /// and 100 when COMPLETED and is left out otherwise; null when no part gives a value.
    async fn percent_complete(&self) -> Option<f64> {
        self.progress.percent_complete
    }

    /// The worst health among the basis (OFF_TRACK before AT_RISK before ON_TRACK); null when
    /// no report in it gives one.
    async fn health(&self) -> Option<Health> {
        self.progress.health.map(Into::into)
    }

    /// The accepted reports used — each counted part's latest accepted report up to the period,
    /// in the order the plan lists the agencies, then the lead's CONSOLIDATED report on a
    /// DIVIDED task — each as accepted (a report reopened for correction as its accepted
    /// version).
    async fn basis(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ProgressReport>> {
        let found = loaders(ctx)?.load_many(self.progress.basis.iter().copied()).await.gql()?;
        Ok(self
            .progress
            .basis
            .iter()
            .filter_map(|id| found.get(id).cloned())
            .map(|r| ProgressReport(r.as_official()))
            .collect())
    }

    /// The task's narrative: the summary of the lead's accepted CONSOLIDATED report on a
    /// DIVIDED task (as accepted); null otherwise (read the parts' reports in `basis`).
    async fn narrative(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let Some(id) = self.progress.narrative else { return Ok(None) };
        Ok(load(ctx, id).await?.map(|r| r.as_official().summary))
    }

    /// The counted parts with no accepted report up to the period (they count 0 in the mean).
    async fn missing(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Reporter>> {
        futures::future::try_join_all(self.progress.missing.iter().map(|party| Reporter::of(ctx, *party))).await
    }

    /// One sentence naming the rule and the reports used, e.g. "DIVIDED: 2 of 5 parts reported
    /// (reports 12, 15); mean of 50, 0, 0, 0, 0 = 10 %; status IN_PROGRESS: a part has started".
    /// Report numbers are the reports' database numbers (the number in their global ID).
    async fn explanation(&self) -> &str {
        &self.progress.explanation
    }
}
