//! What derived progress is computed from, batched: every `Task.progress` and
//! `Responsibility.progress` of a request share one read of the accepted parts per distinct
//! period (and one read of the calendar when a default period is needed), and the tasks'
//! responsibilities come in one batch — whatever the number of tasks asked. The rules then run
//! in the resolver ([`crate::graphql::progress`]).

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use workplan_domain::Error;
use workplan_domain::ids::TaskId;
use workplan_domain::plan::Responsibility;
use workplan_domain::report::Period;
use workplan_domain::supervision::AcceptedParts;
use workplan_domain::usecases::supervise::{accepted_parts, default_progress_period};

use super::{LoadResult, StoreLoader, grouped};

/// The agencies' accepted parts up to a period (`None`: the default period, see
/// [`default_progress_period`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PartsUpTo(pub Option<Period>);

impl Loader<PartsUpTo> for StoreLoader {
    /// The period the parts are for (`None` when nothing is scheduled: every accepted report
    /// counts), and the parts.
    type Value = (Option<Period>, Arc<AcceptedParts>);
    type Error = Arc<Error>;

    async fn load(&self, keys: &[PartsUpTo]) -> LoadResult<PartsUpTo, (Option<Period>, Arc<AcceptedParts>)> {
        let fallback = if keys.iter().any(|k| k.0.is_none()) {
            default_progress_period(&self.periods.periods().await.map_err(Arc::new)?, self.clock.now())
        } else {
            None
        };
        let mut by_period: HashMap<Option<Period>, Arc<AcceptedParts>> = HashMap::new();
        let mut out = HashMap::with_capacity(keys.len());
        for key in keys {
            let period = key.0.or(fallback);
            let parts = if let Some(parts) = by_period.get(&period) {
                parts.clone()
            } else {
                let parts = Arc::new(accepted_parts(self.supervision.as_ref(), period, true).await.map_err(Arc::new)?);
                by_period.insert(period, parts.clone());
                parts
            };
            out.insert(*key, (period, parts));
        }
        Ok(out)
    }
}

/// A task's responsibilities, without their agencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ResponsibilityRowsOf(pub TaskId);

impl Loader<ResponsibilityRowsOf> for StoreLoader {
    type Value = Vec<Responsibility>;
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ResponsibilityRowsOf]) -> LoadResult<ResponsibilityRowsOf, Vec<Responsibility>> {
        let ids: Vec<TaskId> = keys.iter().map(|k| k.0).collect();
        let rows = self.plan.responsibilities_by_tasks(&ids).await.map_err(Arc::new)?;
        Ok(grouped(rows, |r| ResponsibilityRowsOf(r.task_id)))
    }
}
