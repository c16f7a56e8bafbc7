//! The plan in memory: the store answers every [`PlanReader`] call from one immutable
//! [`PlanSnapshot`] (no SQL), loaded on first use and swapped whole when the plan changes.
//!
//! The plan changes only through the importer (`seed`, `import-plan`), usually in another
//! process. A store that writes the plan reloads its own snapshot at once and announces
//! [`Topic::Plan`] through the [`Notifier`](workplan_domain::ports::Notifier); every other
//! replica hears it and reloads ([`SeaStore::keep_fresh`]). A lost announcement (or a writer
//! that cannot announce, such as another process on SQLite) is caught by the fingerprint: a
//! one-statement summary (row count and largest id of each plan table) that the keeper reads
//! every few seconds and after every [`Notice::Missed`](workplan_domain::ports::Notice); a
//! different fingerprint reloads the snapshot. The importer only ever inserts plan rows, so
//! counts and largest ids change with every write it makes.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use workplan_domain::agency::Agency;
use workplan_domain::ids::{AgencyId, ProvinceId, SectionId, SubsectionId, TaskId};
use workplan_domain::listing::{AgencyFilter, AgencyQuery, Page, TaskFilter, TaskPage, TaskParent, TaskQuery};
use workplan_domain::plan::snapshot::{PlanData, PlanSnapshot};
use workplan_domain::plan::{Plan, Responsibility, Role, Section, Subsection, Task};
use workplan_domain::ports::PlanReader;
use workplan_domain::province::Province;
use workplan_domain::{Error, Result};

use crate::entities::agency;
use crate::error::DbResultExt;
use crate::store::SeaStore;

/// The tables the plan is made of; the fingerprint summarises each.
const PLAN_TABLES: [&str; 8] =
    ["plans", "sections", "subsections", "tasks", "responsibilities", "agencies", "agency_aliases", "provinces"];

/// Row count and largest id of each plan table.
type Fingerprint = Vec<i64>;

/// The snapshot a store serves, and the fingerprint of the data it was loaded from.
#[derive(Debug, Default)]
pub(crate) struct LivePlan {
    current: RwLock<Option<Arc<PlanSnapshot>>>,
    fingerprint: Mutex<Option<Fingerprint>>,
    /// Held while loading, so concurrent first uses load once.
    loading: tokio::sync::Mutex<()>,
}

impl LivePlan {
    fn loaded(&self) -> Option<Arc<PlanSnapshot>> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The snapshot, loaded now if it is not yet.
    async fn snapshot(&self, store: &SeaStore) -> Result<Arc<PlanSnapshot>> {
        if let Some(snapshot) = self.loaded() {
            return Ok(snapshot);
        }
        let _loading = self.loading.lock().await;
        match self.loaded() {
            Some(snapshot) => Ok(snapshot),
            None => self.load(store).await,
        }
    }

    /// Loads a new snapshot and swaps it in (the caller holds `loading`).
    async fn load(&self, store: &SeaStore) -> Result<Arc<PlanSnapshot>> {
        // The fingerprint first: if the plan changes while the rows are read, the next check
        // sees a different fingerprint and loads again.
        let fingerprint = fingerprint(store).await?;
        let snapshot = Arc::new(PlanSnapshot::new(plan_data(store).await?));
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(snapshot.clone());
        *self.fingerprint.lock().unwrap_or_else(PoisonError::into_inner) = Some(fingerprint);
        Ok(snapshot)
    }

    /// Loads the snapshot again if one is in use (a store that never read the plan keeps
    /// nothing to refresh).
    pub(crate) async fn reload(&self, store: &SeaStore) -> Result<()> {
        let _loading = self.loading.lock().await;
        if self.loaded().is_some() {
            self.load(store).await?;
        }
        Ok(())
    }

    /// Reloads when the plan's fingerprint differs from the snapshot's; whether it did.
    pub(crate) async fn refresh_if_changed(&self, store: &SeaStore) -> Result<bool> {
        let _loading = self.loading.lock().await;
        let Some(known) = self.fingerprint.lock().unwrap_or_else(PoisonError::into_inner).clone() else {
            return Ok(false);
        };
        if fingerprint(store).await? == known {
            return Ok(false);
        }
        self.load(store).await?;
        Ok(true)
    }
}

/// One statement: for each plan table, its row count and largest id.
async fn fingerprint(store: &SeaStore) -> Result<Fingerprint> {
    let columns: Vec<String> = PLAN_TABLES
        .iter()
        .map(|t| {
            format!(
                "(SELECT CAST(COUNT(*) AS BIGINT) FROM {t}), (SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM {t})"
            )
        })
        .collect();
    let backend = store.db.get_database_backend();
    let sql = format!("SELECT {}", columns.join(", "));
    let row = store
        .db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .db()?
        .ok_or_else(|| Error::internal(std::io::Error::other("the plan fingerprint returned no row")))?;
    (0..PLAN_TABLES.len() * 2).map(|i| row.try_get_by_index::<i64>(i).db()).collect()
}

/// Every row of the plan, read with SQL.
async fn plan_data(store: &SeaStore) -> Result<PlanData> {
    let sql = store.sql_plan();
    let sections = sql.sections().await?;
    let section_ids: Vec<SectionId> = sections.iter().map(|s| s.id).collect();
    let agencies = agency::Entity::find().all(&store.db).await.db()?;
    Ok(PlanData {
        plan: sql.plan().await?,
        subsections: sql.subsections_by_sections(&section_ids).await?,
        sections,
        tasks: sql.tasks().await?,
        responsibilities: sql.responsibilities().await?,
        agencies: store.with_aliases(agencies).await?,
        provinces: sql.provinces().await?,
    })
}

/// Every plan read comes from the snapshot.
#[async_trait]
impl PlanReader for SeaStore {
    async fn plan(&self) -> Result<Option<Plan>> {
        self.plan_snapshot().await?.plan().await
    }
    async fn sections(&self) -> Result<Vec<Section>> {
        self.plan_snapshot().await?.sections().await
    }
    async fn sections_by_ids(&self, ids: &[SectionId]) -> Result<Vec<Section>> {
        self.plan_snapshot().await?.sections_by_ids(ids).await
    }
    async fn subsections_by_ids(&self, ids: &[SubsectionId]) -> Result<Vec<Subsection>> {
        self.plan_snapshot().await?.subsections_by_ids(ids).await
    }
    async fn subsections_by_sections(&self, ids: &[SectionId]) -> Result<Vec<Subsection>> {
        self.plan_snapshot().await?.subsections_by_sections(ids).await
    }
    async fn tasks(&self) -> Result<Vec<Task>> {
        self.plan_snapshot().await?.tasks().await
    }
    async fn tasks_by_ids(&self, ids: &[TaskId]) -> Result<Vec<Task>> {
        self.plan_snapshot().await?.tasks_by_ids(ids).await
    }
    async fn tasks_by_numbers(&self, numbers: &[i32]) -> Result<Vec<Task>> {
        self.plan_snapshot().await?.tasks_by_numbers(numbers).await
    }
    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage> {
        self.plan_snapshot().await?.list_tasks(query).await
    }
    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64> {
        self.plan_snapshot().await?.count_tasks(filter).await
    }
    async fn list_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        query: &TaskQuery,
    ) -> Result<std::collections::HashMap<i64, TaskPage>> {
        self.plan_snapshot().await?.list_tasks_grouped(parent, ids, query).await
    }
    async fn count_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        filter: &TaskFilter,
    ) -> Result<std::collections::HashMap<i64, i64>> {
        self.plan_snapshot().await?.count_tasks_grouped(parent, ids, filter).await
    }
    async fn agencies_by_ids(&self, ids: &[AgencyId]) -> Result<Vec<Agency>> {
        self.plan_snapshot().await?.agencies_by_ids(ids).await
    }
    async fn agency_by_name(&self, name: &str) -> Result<Option<Agency>> {
        self.plan_snapshot().await?.agency_by_name(name).await
    }
    async fn list_agencies(&self, query: &AgencyQuery) -> Result<Page<Agency>> {
        self.plan_snapshot().await?.list_agencies(query).await
    }
    async fn count_agencies(&self, filter: &AgencyFilter) -> Result<i64> {
        self.plan_snapshot().await?.count_agencies(filter).await
    }
    async fn responsibilities(&self) -> Result<Vec<Responsibility>> {
        self.plan_snapshot().await?.responsibilities().await
    }
    async fn responsibilities_by_tasks(&self, ids: &[TaskId]) -> Result<Vec<Responsibility>> {
        self.plan_snapshot().await?.responsibilities_by_tasks(ids).await
    }
    async fn responsibilities_by_agencies(&self, ids: &[AgencyId], role: Option<Role>) -> Result<Vec<Responsibility>> {
        self.plan_snapshot().await?.responsibilities_by_agencies(ids, role).await
    }
    async fn provinces(&self) -> Result<Vec<Province>> {
        self.plan_snapshot().await?.provinces().await
    }
    async fn provinces_by_ids(&self, ids: &[ProvinceId]) -> Result<Vec<Province>> {
        self.plan_snapshot().await?.provinces_by_ids(ids).await
    }
    async fn provinces_by_codes(&self, codes: &[String]) -> Result<Vec<Province>> {
        self.plan_snapshot().await?.provinces_by_codes(codes).await
    }
}

impl SeaStore {
    /// The plan snapshot this store serves, loaded on first use.
    ///
    /// # Errors
    /// When the plan cannot be read from the database.
    pub async fn plan_snapshot(&self) -> Result<Arc<PlanSnapshot>> {
        self.plan.snapshot(self).await
    }
}
