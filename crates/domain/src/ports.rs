//! The ports: what the domain needs from storage. Persistence implements them; the API and the
//! services use them; tests can fake them.
//!
//! Every method that resolves a relation takes a batch of keys, so that a caller resolving a
//! relation for `n` parents issues one call, not `n`.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::Result;
use crate::model::{
    Agency, AgencyId, Plan, ProgressReport, Province, ProvinceId, ReportId, Responsibility, Role,
    Section, SectionId, Subsection, SubsectionId, Task, TaskId,
};
use crate::page::{
    AgencyFilter, AgencyQuery, Page, ReportFilter, ReportParent, ReportQuery, TaskFilter,
    TaskParent, TaskQuery,
};
use crate::report::NewReport;

/// Reads the plan: sections, tasks, agencies, responsibilities and provinces.
#[async_trait]
pub trait PlanRepository: Send + Sync {
    /// The plan, if one is loaded.
    async fn plan(&self) -> Result<Option<Plan>>;
    /// All sections in order.
    async fn sections(&self) -> Result<Vec<Section>>;
    async fn sections_by_ids(&self, ids: &[SectionId]) -> Result<Vec<Section>>;
    async fn subsections_by_ids(&self, ids: &[SubsectionId]) -> Result<Vec<Subsection>>;
    /// The subsections of the given sections, in order.
    async fn subsections_by_sections(&self, ids: &[SectionId]) -> Result<Vec<Subsection>>;

    async fn tasks_by_ids(&self, ids: &[TaskId]) -> Result<Vec<Task>>;
    async fn tasks_by_numbers(&self, numbers: &[i32]) -> Result<Vec<Task>>;
    async fn list_tasks(&self, query: &TaskQuery) -> Result<Page<Task>>;
    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64>;
    /// One page per parent (section or subsection), in one round trip.
    async fn list_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        query: &TaskQuery,
    ) -> Result<HashMap<i64, Page<Task>>>;
    async fn count_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        filter: &TaskFilter,
    ) -> Result<HashMap<i64, i64>>;

    async fn agencies_by_ids(&self, ids: &[AgencyId]) -> Result<Vec<Agency>>;
    /// The agency whose canonical name, alias or abbreviation is `name` (case-insensitive).
    async fn agency_by_name(&self, name: &str) -> Result<Option<Agency>>;
    async fn list_agencies(&self, query: &AgencyQuery) -> Result<Page<Agency>>;
    async fn count_agencies(&self, filter: &AgencyFilter) -> Result<i64>;

    /// Responsibilities of the given tasks, in listed order.
    async fn responsibilities_by_tasks(&self, ids: &[TaskId]) -> Result<Vec<Responsibility>>;
    /// Responsibilities of the given agencies (in a role, if given), by task number.
    async fn responsibilities_by_agencies(
        &self,
        ids: &[AgencyId],
        role: Option<Role>,
    ) -> Result<Vec<Responsibility>>;

    /// All provinces by code.
    async fn provinces(&self) -> Result<Vec<Province>>;
    async fn provinces_by_ids(&self, ids: &[ProvinceId]) -> Result<Vec<Province>>;
    async fn provinces_by_codes(&self, codes: &[String]) -> Result<Vec<Province>>;
}

/// Reads and writes progress reports.
#[async_trait]
pub trait ReportRepository: Send + Sync {
    async fn reports_by_ids(&self, ids: &[ReportId]) -> Result<Vec<ProgressReport>>;
    async fn list_reports(&self, query: &ReportQuery) -> Result<Page<ProgressReport>>;
    async fn count_reports(&self, filter: &ReportFilter) -> Result<i64>;
    /// One page per parent (task, agency or province), in one round trip.
    async fn list_reports_grouped(
        &self,
        parent: ReportParent,
        ids: &[i64],
        query: &ReportQuery,
    ) -> Result<HashMap<i64, Page<ProgressReport>>>;
    async fn count_reports_grouped(
        &self,
        parent: ReportParent,
        ids: &[i64],
        filter: &ReportFilter,
    ) -> Result<HashMap<i64, i64>>;
    /// Stores a checked report; the single place reports are written.
    async fn insert_report(&self, report: NewReport) -> Result<ProgressReport>;
}

/// Whether storage can be reached.
#[async_trait]
pub trait Health: Send + Sync {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<()>;
}

/// Everything the API needs from storage.
pub trait Store: PlanRepository + ReportRepository + Health {}

impl<T: PlanRepository + ReportRepository + Health> Store for T {}
