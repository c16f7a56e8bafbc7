//! Derived progress, batched: every `Task.progress` and `Responsibility.progress` of a request
//! resolve together — the periods (once, when a default is needed), the tasks, their
//! responsibilities and the accepted parts (once per distinct period) — whatever the number of
//! tasks asked.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use workplan_domain::Error;
use workplan_domain::ids::TaskId;
use workplan_domain::report::{Period, Reporter};
use workplan_domain::supervision::{Progress, part_progress, task_progress};
use workplan_domain::usecases::supervise::{accepted_parts, default_progress_period};

use super::{LoadResult, StoreLoader, by_key, grouped};

/// The progress of a task (`party` `None`) or of one party's part of it, for a period (`None`:
/// the default period, see [`default_progress_period`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ProgressOf {
    /// The task.
    pub task: TaskId,
    /// The part, or the whole task.
    pub party: Option<Reporter>,
    /// The asked period.
    pub period: Option<Period>,
}

impl Loader<ProgressOf> for StoreLoader {
    /// The progress, with the period it was derived for (`None` when nothing is scheduled and
    /// every accepted report counts).
    type Value = (Option<Period>, Progress);
    type Error = Arc<Error>;

    async fn load(&self, keys: &[ProgressOf]) -> LoadResult<ProgressOf, (Option<Period>, Progress)> {
        let fallback = if keys.iter().any(|k| k.period.is_none()) {
            default_progress_period(&self.periods.periods().await.map_err(Arc::new)?, self.clock.now())
        } else {
            None
        };
        let mut task_ids: Vec<TaskId> = keys.iter().map(|k| k.task).collect();
        task_ids.sort_unstable();
        task_ids.dedup();
        let tasks = by_key(self.plan.tasks_by_ids(&task_ids).await.map_err(Arc::new)?, |t| t.id);
        let responsibilities =
            grouped(self.plan.responsibilities_by_tasks(&task_ids).await.map_err(Arc::new)?, |r| r.task_id);
        let agencies_only = keys.iter().all(|k| !matches!(k.party, Some(Reporter::Province(_))));
        let mut parts = HashMap::new();
        for period in keys.iter().map(|k| k.period.or(fallback)) {
            if let std::collections::hash_map::Entry::Vacant(slot) = parts.entry(period) {
                slot.insert(accepted_parts(self.supervision.as_ref(), period, agencies_only).await.map_err(Arc::new)?);
            }
        }
        let mut out = HashMap::with_capacity(keys.len());
        for key in keys {
            let period = key.period.or(fallback);
            let Some(accepted) = parts.get(&period) else { continue };
            let progress = if let Some(party) = key.party {
                part_progress(key.task, party, accepted, period)
            } else {
                let Some(task) = tasks.get(&key.task) else { continue };
                let rs = responsibilities.get(&key.task).map(Vec::as_slice).unwrap_or_default();
                task_progress(task, rs, accepted)
            };
            out.insert(*key, (period, progress));
        }
        Ok(out)
    }
}
