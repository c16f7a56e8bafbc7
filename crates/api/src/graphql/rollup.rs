//! Rollups: one period's progress and reporting by section, subsection, agency (one row per
//! role) or province.

use async_graphql::{Context, Enum, Object};
use workplan_domain::supervision::RollupGroup;
use workplan_domain::usecases::supervise::rollup_of;

use super::agency::Agency;
use super::node::Node;
use super::obligation::{ObligationStateCount, state_counts};
use super::plan::{Section, Subsection};
use super::progress::{ProgressStatusCount, status_counts};
use super::province::Province;
use super::task::ResponsibilityRole;
use crate::context::{clock, periods, plan, require, scope, supervision};
use crate::error::GqlResultExt;

/// What a rollup groups by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::supervision::RollupDimension")]
pub enum RollupDimension {
    /// The plan's sections (I–VI), in order.
    Section,
    /// The plan's subsections, in order.
    Subsection,
    /// The responsible agencies, in the order the plan first names them: two rows each, LEAD
    /// and PARTICIPANT.
    Agency,
    /// The provinces, by code.
    Province,
}

/// One row of a rollup.
pub(crate) struct RollupRow(pub workplan_domain::supervision::RollupRow);

/// One group's progress and reporting for the period. docs/supervision.md ("Rollups") has the
/// rules.
#[Object]
impl RollupRow {
    /// The group: a Section, Subsection, Agency or Province.
    async fn group(&self, ctx: &Context<'_>) -> async_graphql::Result<Node> {
        Ok(match self.0.group {
            RollupGroup::Section(id) => Node::Section(Section(require(ctx, id).await?)),
            RollupGroup::Subsection(id) => Node::Subsection(Subsection(require(ctx, id).await?)),
            RollupGroup::Agency(id) => Node::Agency(Agency(require(ctx, id).await?)),
            RollupGroup::Province(id) => Node::Province(Province(require(ctx, id).await?)),
        })
    }

    /// By AGENCY, the agency's role the row is about; null otherwise.
    async fn role(&self) -> Option<ResponsibilityRole> {
        self.0.role.map(Into::into)
    }

    /// How many of the row's tasks are in each derived status — by SECTION and SUBSECTION the
    /// tasks' own status; by AGENCY and PROVINCE the status of the party's own part of each
    /// task. Every status is listed, zeros included.
    async fn tasks_by_status(&self) -> Vec<ProgressStatusCount> {
        status_counts(&self.0.tasks_by_status)
    }

    /// How many of the row's obligations for the period are in each state, zeros included.
    async fn obligations_by_state(&self) -> Vec<ObligationStateCount> {
        state_counts(self.0.obligations_by_state.clone())
    }

    /// The mean percent complete of the row's tasks (or parts) that have one.
    async fn mean_percent_complete(&self) -> Option<f64> {
        self.0.mean_percent_complete
    }

    /// Of the row's obligations that are due (not exempt, due date passed), the share first
    /// submitted by their due date (0–1); null when none is due.
    async fn on_time_rate(&self) -> Option<f64> {
        self.0.on_time_rate
    }

    /// How many of the row's obligations are SUBMITTED, waiting for review.
    async fn pending_review(&self) -> i64 {
        i64::try_from(self.0.pending_review).unwrap_or(i64::MAX)
    }
}

/// Rollups.
#[derive(Default)]
pub(crate) struct RollupQueryRoot;

/// Rollups.
#[Object]
impl RollupQueryRoot {
    /// A scheduled period's progress and reporting grouped by section, subsection, agency (two
    /// rows per agency: LEAD and PARTICIPANT) or province. An unscheduled period is NOT_FOUND,
    /// a malformed one BAD_USER_INPUT.
    async fn rollup(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The scheduled period's key, e.g. \"2016-Q4\".")] period: String,
        #[graphql(desc = "What to group by.")] by: RollupDimension,
    ) -> async_graphql::Result<Vec<RollupRow>> {
        scope(ctx)?;
        let rows = rollup_of(
            plan(ctx)?.as_ref(),
            periods(ctx)?.as_ref(),
            supervision(ctx)?.as_ref(),
            &period,
            by.into(),
            clock(ctx).now(),
        )
        .await
        .gql()?;
        Ok(rows.into_iter().map(RollupRow).collect())
    }
}
