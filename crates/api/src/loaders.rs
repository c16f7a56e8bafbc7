//! DataLoaders: every relation resolves through these, so a query costs the same number of
//! statements whether it returns 5 rows or 500. One loader per request or WebSocket connection
//! (created by the HTTP layer); it batches but does not cache, so no read outlives its request
//! and the server stays stateless.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use workplan_domain::Error;

use crate::error::GqlResultExt;
use workplan_domain::agency::Agency;
use workplan_domain::ids::{AgencyId, ProvinceId, ReportId, SectionId, SubsectionId, TaskId};
use workplan_domain::listing::{Page, ReportFilter, ReportParent, ReportQuery, TaskFilter, TaskParent, TaskQuery};
use workplan_domain::plan::{Responsibility, Role, Section, Subsection, Task};
use workplan_domain::ports::{Clock, PeriodStore, PlanReader, Ports, ReportReader, SupervisionReader};
use workplan_domain::province::Province;
use workplan_domain::report::{HistoryEntry, Period, ProgressReport};
use workplan_domain::supervision::PeriodHistoryEntry;

mod progress;
mod scorecard;

pub(crate) use progress::{PartsUpTo, ResponsibilityRowsOf};
pub(crate) use scorecard::ScorecardOf;

/// The per-request loader over the store.
pub(crate) type Loaders = DataLoader<StoreLoader>;

/// Creates the loaders for one request; `clock` tells derived values (progress, scorecards)
/// what time it is.
pub(crate) fn for_request(ports: &Ports, clock: Arc<dyn Clock>) -> Loaders {
    let loader = StoreLoader {
        plan: ports.plan.clone(),
        reports: ports.reports.clone(),
        periods: ports.periods.clone(),
        supervision: ports.supervision.clone(),
        clock,
        prefetched: std::sync::Mutex::default(),
    };
    // The batch runs in a task of its own, inside the span that asked first (the request's
    // `graphql` span), so its database spans sit under the request's trace.
    let spawn =
        |batch: futures::future::BoxFuture<'static, ()>| tokio::spawn(tracing::Instrument::in_current_span(batch));
    DataLoader::new(loader, spawn).delay(std::time::Duration::from_millis(2))
}

/// Batches lookups of every kind into port calls.
pub(crate) struct StoreLoader {
    plan: Arc<dyn PlanReader>,
    reports: Arc<dyn ReportReader>,
    periods: Arc<dyn PeriodStore>,
    supervision: Arc<dyn SupervisionReader>,
    clock: Arc<dyn Clock>,
    /// Report pages fetched ahead for fields the query will resolve (see
    /// [`prefetch_report_pages`]), answered from here instead of another batch.
    prefetched: std::sync::Mutex<HashMap<ReportPageOf, Page<ProgressReport>>>,
}

/// Fetches the report pages of `keys` in one batch now, for the fields that will ask for them
/// one by one as the answer is built. Those loads would otherwise join the loader's batching
/// window one at a time, and on a busy machine the window can close before the last of them
/// is asked for: the batch then splits into several statements. A key found nowhere is kept
/// as an empty page (the field answers null, as a load would).
pub(crate) async fn prefetch_report_pages(
    ctx: &async_graphql::Context<'_>,
    keys: Vec<ReportPageOf>,
) -> async_graphql::Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let loaders = crate::context::loaders(ctx)?;
    let mut found = loaders.load_many(keys.iter().cloned()).await.gql()?;
    let mut prefetched = loaders.loader().prefetched.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for key in keys {
        let page = found.remove(&key).unwrap_or_default();
        prefetched.insert(key, page);
    }
    Ok(())
}

type LoadResult<K, V> = Result<HashMap<K, V>, Arc<Error>>;

/// Subsections of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct SubsectionsOf(pub SectionId);
/// Responsibilities of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ResponsibilitiesOfTask(pub TaskId);
/// Responsibilities of an agency, in a role or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ResponsibilitiesOfAgency(pub AgencyId, pub Option<Role>);
/// The audit history of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct HistoryOf(pub ReportId);
/// The history of a reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PeriodHistoryOf(pub Period);
/// A task by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TaskNumber(pub i32);
/// A province by code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ProvinceCode(pub String);
/// One page of a nested task list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TaskPageOf(pub TaskParent, pub i64, pub TaskQuery);
/// The size of a nested task list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TaskCountOf(pub TaskParent, pub i64, pub TaskFilter);
/// One page of a nested report list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ReportPageOf(pub ReportParent, pub i64, pub ReportQuery);
/// The size of a nested report list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ReportCountOf(pub ReportParent, pub i64, pub ReportFilter);

fn by_key<K: std::hash::Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, V> {
    rows.into_iter().map(|v| (key(&v), v)).collect()
}

fn grouped<K: std::hash::Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> K) -> HashMap<K, Vec<V>> {
    let mut out: HashMap<K, Vec<V>> = HashMap::new();
    for v in rows {
        out.entry(key(&v)).or_default().push(v);
    }
    out
}

/// Groups keys that share their query arguments, so each distinct argument set is one call.
fn by_args<K, A: Clone + std::hash::Hash + Eq>(keys: &[K], split: impl Fn(&K) -> (A, i64)) -> HashMap<A, Vec<i64>> {
    let mut out: HashMap<A, Vec<i64>> = HashMap::new();
    for k in keys {
        let (args, id) = split(k);
        out.entry(args).or_default().push(id);
    }
    out
}

macro_rules! plan_loader {
    ($key:ty, $value:ty, |$self_:ident, $keys:ident| $body:expr) => {
        simple_loader!(PlanLoader, $key, $value, |$self_, $keys| $body);
    };
}

macro_rules! simple_loader {
    ($key:ty, $value:ty, |$self_:ident, $keys:ident| $body:expr) => {
        simple_loader!(StoreLoader, $key, $value, |$self_, $keys| $body);
    };
    ($loader:ident, $key:ty, $value:ty, |$self_:ident, $keys:ident| $body:expr) => {
        impl Loader<$key> for $loader {
            type Value = $value;
            type Error = Arc<Error>;

            async fn load(&self, $keys: &[$key]) -> LoadResult<$key, $value> {
                let $self_ = self;
                $body.map_err(Arc::new)
            }
        }
    };
}

plan_loader!(SectionId, Section, |s, keys| s.plan.sections_by_ids(keys).await.map(|r| by_key(r, |v| v.id)));
plan_loader!(SubsectionId, Subsection, |s, keys| s.plan.subsections_by_ids(keys).await.map(|r| by_key(r, |v| v.id)));
plan_loader!(TaskId, Task, |s, keys| s.plan.tasks_by_ids(keys).await.map(|r| by_key(r, |v| v.id)));
plan_loader!(AgencyId, Agency, |s, keys| s.plan.agencies_by_ids(keys).await.map(|r| by_key(r, |v| v.id)));
plan_loader!(ProvinceId, Province, |s, keys| s.plan.provinces_by_ids(keys).await.map(|r| by_key(r, |v| v.id)));
simple_loader!(ReportId, ProgressReport, |s, keys| s.reports.reports_by_ids(keys).await.map(|r| by_key(r, |v| v.id)));
plan_loader!(SubsectionsOf, Vec<Subsection>, |s, keys| {
    let ids: Vec<SectionId> = keys.iter().map(|k| k.0).collect();
    s.plan.subsections_by_sections(&ids).await.map(|r| grouped(r, |v| SubsectionsOf(v.section_id)))
});
impl Loader<ResponsibilitiesOfTask> for PlanLoader {
    /// Each responsibility with its agency: fetched together, so agencies of a task list cost
    /// one batch, not one per depth at which a query asks for them.
    type Value = Vec<(Responsibility, Agency)>;
    type Error = Arc<Error>;

    async fn load(
        &self,
        keys: &[ResponsibilitiesOfTask],
    ) -> LoadResult<ResponsibilitiesOfTask, Vec<(Responsibility, Agency)>> {
        let ids: Vec<TaskId> = keys.iter().map(|k| k.0).collect();
        let rows = self.plan.responsibilities_by_tasks(&ids).await.map_err(Arc::new)?;
        let agency_ids: Vec<AgencyId> = rows.iter().map(|r| r.agency_id).collect();
        let agencies = by_key(self.plan.agencies_by_ids(&agency_ids).await.map_err(Arc::new)?, |a| a.id);
        let mut out: HashMap<ResponsibilitiesOfTask, Vec<(Responsibility, Agency)>> = HashMap::new();
        for r in rows {
            let agency = agencies.get(&r.agency_id).cloned().ok_or_else(|| dangling("agency", r.agency_id.0))?;
            out.entry(ResponsibilitiesOfTask(r.task_id)).or_default().push((r, agency));
        }
        Ok(out)
    }
}
simple_loader!(HistoryOf, Vec<HistoryEntry>, |s, keys| {
    let ids: Vec<ReportId> = keys.iter().map(|k| k.0).collect();
    s.reports.history(&ids).await.map(|r| grouped(r, |v| HistoryOf(v.report_id)))
});
simple_loader!(PeriodHistoryOf, Vec<PeriodHistoryEntry>, |s, keys| {
    let periods: Vec<Period> = keys.iter().map(|k| k.0).collect();
    s.periods.period_history(&periods).await.map(|r| grouped(r, |v| PeriodHistoryOf(v.period)))
});
plan_loader!(TaskNumber, Task, |s, keys| {
    let numbers: Vec<i32> = keys.iter().map(|k| k.0).collect();
    s.plan.tasks_by_numbers(&numbers).await.map(|r| by_key(r, |v| TaskNumber(v.number)))
});
plan_loader!(ProvinceCode, Province, |s, keys| {
    let codes: Vec<String> = keys.iter().map(|k| k.0.clone()).collect();
    s.plan.provinces_by_codes(&codes).await.map(|r| by_key(r, |v| ProvinceCode(v.code.clone())))
});

impl Loader<ResponsibilitiesOfAgency> for PlanLoader {
    /// Each responsibility with its task, fetched together (see [`ResponsibilitiesOfTask`]).
    type Value = Vec<(Responsibility, Task)>;
    type Error = Arc<Error>;

    async fn load(
        &self,
        keys: &[ResponsibilitiesOfAgency],
    ) -> LoadResult<ResponsibilitiesOfAgency, Vec<(Responsibility, Task)>> {
        let mut out = HashMap::new();
        for (role, ids) in by_args(keys, |k| (k.1, k.0.0)) {
            let ids: Vec<AgencyId> = ids.into_iter().map(AgencyId).collect();
            let rows = self.plan.responsibilities_by_agencies(&ids, role).await.map_err(Arc::new)?;
            let task_ids: Vec<TaskId> = rows.iter().map(|r| r.task_id).collect();
            let tasks = by_key(self.plan.tasks_by_ids(&task_ids).await.map_err(Arc::new)?, |t| t.id);
            for (agency, rs) in grouped(rows, |r| r.agency_id) {
                let mut with_tasks = Vec::with_capacity(rs.len());
                for r in rs {
                    let task = tasks.get(&r.task_id).cloned().ok_or_else(|| dangling("task", r.task_id.0))?;
                    with_tasks.push((r, task));
                }
                out.insert(ResponsibilitiesOfAgency(agency, role), with_tasks);
            }
        }
        Ok(out)
    }
}

/// A plan relation: looked up in the plan port at once, one key at a time. The service's plan
/// port is the snapshot in memory (persistence's `live_plan.rs`), so a lookup costs no
/// statement and a batching window would only make the request wait;
/// `tests/integration/statements.rs` holds the whole plan to zero statements.
pub(crate) struct PlanLoader {
    plan: Arc<dyn PlanReader>,
}

fn dangling(what: &str, id: i64) -> Arc<Error> {
    Arc::new(Error::internal(std::io::Error::other(format!("a responsibility names missing {what} {id}"))))
}

/// A loader for lists and counts under many parents: keys that share their query arguments
/// become one grouped port call.
macro_rules! grouped_loader {
    ($loader:ident, $key:ident, $value:ty, $port:ident . $method:ident) => {
        impl Loader<$key> for $loader {
            type Value = $value;
            type Error = Arc<Error>;

            async fn load(&self, keys: &[$key]) -> LoadResult<$key, $value> {
                let mut out = HashMap::new();
                for ((parent, args), ids) in by_args(keys, |k| ((k.0, k.2.clone()), k.1)) {
                    let found = self.$port.$method(parent, &ids, &args).await.map_err(Arc::new)?;
                    for (id, value) in found {
                        out.insert($key(parent, id, args.clone()), value);
                    }
                }
                Ok(out)
            }
        }
    };
}

grouped_loader!(PlanLoader, TaskPageOf, workplan_domain::listing::TaskPage, plan.list_tasks_grouped);
grouped_loader!(PlanLoader, TaskCountOf, i64, plan.count_tasks_grouped);
grouped_loader!(StoreLoader, ReportPageOf, Page<ProgressReport>, reports.list_reports_grouped);
grouped_loader!(StoreLoader, ReportCountOf, i64, reports.count_reports_grouped);

/// A key [`crate::context::load`] resolves: report-side keys through the request's batching
/// [`Loaders`], plan keys through [`PlanLoader`] at once.
pub(crate) trait Key: Send + Sync + std::hash::Hash + Eq + Clone + std::fmt::Debug + 'static {
    /// What the key finds.
    type Value: Send + Sync + Clone + 'static;
    /// Finds it.
    fn load<'c>(
        ctx: &'c async_graphql::Context<'_>,
        key: Self,
    ) -> impl Future<Output = async_graphql::Result<Option<Self::Value>>> + Send + 'c;
}

macro_rules! batched_keys {
    ($($key:ty),* $(,)?) => {$(
        impl Key for $key {
            type Value = <StoreLoader as Loader<$key>>::Value;
            fn load<'c>(
                ctx: &'c async_graphql::Context<'_>,
                key: Self,
            ) -> impl Future<Output = async_graphql::Result<Option<Self::Value>>> + Send + 'c {
                async move { crate::context::loaders(ctx)?.load_one(key).await.gql() }
            }
        }
    )*};
}

macro_rules! plan_keys {
    ($($key:ty),* $(,)?) => {$(
        impl Key for $key {
            type Value = <PlanLoader as Loader<$key>>::Value;
            fn load<'c>(
                ctx: &'c async_graphql::Context<'_>,
                key: Self,
            ) -> impl Future<Output = async_graphql::Result<Option<Self::Value>>> + Send + 'c {
                async move {
                    let loader = PlanLoader { plan: crate::context::plan(ctx)?.clone() };
                    let mut found = loader.load(std::slice::from_ref(&key)).await.gql()?;
                    Ok(found.remove(&key))
                }
            }
        }
    )*};
}

/// A report page: taken from the pages fetched ahead when it is there, else batched.
impl Key for ReportPageOf {
    type Value = <StoreLoader as Loader<ReportPageOf>>::Value;
    async fn load(ctx: &async_graphql::Context<'_>, key: Self) -> async_graphql::Result<Option<Self::Value>> {
        let loaders = crate::context::loaders(ctx)?;
        let ahead =
            loaders.loader().prefetched.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key).cloned();
        match ahead {
            Some(page) => Ok(Some(page)),
            None => loaders.load_one(key).await.gql(),
        }
    }
}

batched_keys!(ReportId, HistoryOf, PeriodHistoryOf, ReportCountOf, PartsUpTo, ResponsibilityRowsOf, ScorecardOf);
plan_keys!(
    SectionId,
    SubsectionId,
    TaskId,
    AgencyId,
    ProvinceId,
    SubsectionsOf,
    ResponsibilitiesOfTask,
    TaskNumber,
    ProvinceCode,
    ResponsibilitiesOfAgency,
    TaskPageOf,
    TaskCountOf,
);
