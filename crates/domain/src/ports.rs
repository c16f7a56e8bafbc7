//! The ports: what the domain needs from storage. Persistence implements them; the API and the
//! services use them; tests can fake them.
//!
//! Every method that resolves a relation takes a batch of keys, so that a caller resolving a
//! relation for `n` parents issues one call, not `n`.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::Result;
use crate::auth::Principal;
use crate::model::{
    AccessRole, Agency, AgencyId, ApiToken, Change, HistoryEntry, Plan, ProgressReport, Province, ProvinceId, ReportId,
    Reporter, Responsibility, Role, Section, SectionId, Subsection, SubsectionId, Task, TaskId, TokenId,
};
use crate::page::ReportScope;
use crate::page::{
    AgencyFilter, AgencyQuery, Page, ReportFilter, ReportParent, ReportQuery, TaskFilter, TaskParent, TaskQuery,
};
use crate::report::Edit;
use crate::report::NewReport;
use crate::sync::{SyncOutcome, ValidSyncItem};

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
    async fn responsibilities_by_agencies(&self, ids: &[AgencyId], role: Option<Role>) -> Result<Vec<Responsibility>>;

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
    /// Stores a checked new report with its history and change entries, in one transaction.
    async fn create_report(
        &self,
        actor: &Principal,
        report: NewReport,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport>;
    /// Applies an edit under the report's lock: the rules ([`crate::report::apply_edit`]) run
    /// against the current row, then the row, its history and the change feed are written.
    async fn edit_report(
        &self,
        actor: &Principal,
        id: ReportId,
        expected_version: i32,
        edit: Edit,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport>;
    /// Applies a batch for one reporter in one transaction (rolled back when `dry_run`).
    async fn sync_reports(
        &self,
        actor: &Principal,
        reporter: Reporter,
        items: Vec<ValidSyncItem>,
        dry_run: bool,
    ) -> Result<Vec<SyncItemResult>>;
    /// The audit history of the given reports, oldest first.
    async fn history(&self, ids: &[ReportId]) -> Result<Vec<HistoryEntry>>;
    /// Up to `size` changes after `after` (a change id) within `scope`, in commit order, and
    /// whether more follow.
    async fn list_changes(&self, after: Option<i64>, size: u32, scope: &ReportScope) -> Result<(Vec<Change>, bool)>;
}

/// A client's idempotency key for a single write, with the fingerprint of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

/// What one batch item did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncItemResult {
    pub index: usize,
    pub client_report_id: String,
    pub outcome: SyncOutcome,
    /// The report as it stands (for CREATED, UPDATED, UNCHANGED; and the locked one when REJECTED).
    pub report: Option<ProgressReport>,
    /// Why it was rejected.
    pub error: Option<(String, String)>,
}

/// A token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    pub name: String,
    pub role: AccessRole,
    pub agency: Option<AgencyId>,
    pub province: Option<ProvinceId>,
    pub secret_hash: String,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// API tokens.
#[async_trait]
pub trait TokenRepository: Send + Sync {
    async fn create_token(&self, token: NewToken) -> Result<ApiToken>;
    async fn tokens(&self) -> Result<Vec<ApiToken>>;
    async fn token_by_secret_hash(&self, hash: &str) -> Result<Option<ApiToken>>;
    async fn token_by_name(&self, name: &str) -> Result<Option<ApiToken>>;
    async fn revoke_token(&self, id: TokenId) -> Result<ApiToken>;
    /// Records a use (callers throttle this).
    async fn touch_token(&self, id: TokenId, at: chrono::DateTime<chrono::Utc>) -> Result<()>;
}

/// How the database pool is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open.
    pub size: u32,
    /// Of those, idle.
    pub idle: u32,
    /// SQL statements run since start.
    pub statements: u64,
}

/// Whether storage can be reached.
#[async_trait]
pub trait Health: Send + Sync {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<()>;
    /// The pool's state, for metrics.
    fn pool_stats(&self) -> PoolStats;
}

/// Everything the API needs from storage.
pub trait Store: PlanRepository + ReportRepository + TokenRepository + Health {}

impl<T: PlanRepository + ReportRepository + TokenRepository + Health> Store for T {}
