//! The ports: what the domain needs from storage, cut along what each caller uses. Persistence
//! implements them; the API and the use cases take the ones they need; tests can fake them
//! ([`crate::plan::snapshot::PlanSnapshot`] is an in-memory [`PlanReader`]).
//!
//! Every method that resolves a relation takes a batch of keys, so that a caller resolving a
//! relation for `n` parents issues one call, not `n`.

mod due_dates;
mod notifier;
pub use due_dates::{DueDateEventStore, Leadership, Lease};
mod webhooks;
pub use notifier::{Notice, Notifier, Subscription, Topic};
pub use webhooks::WebhookStore;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::access::{Principal, ReportScope};
use crate::agency::Agency;
use crate::ids::{AgencyId, ProvinceId, ReportId, SectionId, SubsectionId, TaskId, TokenId};
use crate::listing::{
    AgencyFilter, AgencyQuery, Page, ReportFilter, ReportParent, ReportQuery, TaskFilter, TaskPage, TaskParent,
    TaskQuery,
};
use crate::plan::{Plan, Responsibility, Role, Section, Subsection, Task};
use crate::province::Province;
use crate::report::sync::{RejectReason, SyncOutcome, ValidSyncItem};
use crate::report::{Change, Edit, FeedPosition, HistoryEntry, NewReport, Period, ProgressReport, Reporter};
use crate::supervision::{
    AcceptedPart, AdjustmentId, NewAdjustment, ObligationAdjustment, PeriodHistoryEntry, PeriodSchedule, ReportFacts,
    ReportingPeriod,
};
use crate::token::{AccessRole, ApiToken};

/// Reads the plan: sections, tasks, agencies, responsibilities and provinces.
#[async_trait]
pub trait PlanReader: Send + Sync {
    /// The plan, if one is loaded.
    async fn plan(&self) -> Result<Option<Plan>>;
    /// All sections in order.
    async fn sections(&self) -> Result<Vec<Section>>;
    /// The sections with these ids (in no particular order; unknown ids are skipped).
    async fn sections_by_ids(&self, ids: &[SectionId]) -> Result<Vec<Section>>;
    /// The subsections with these ids.
    async fn subsections_by_ids(&self, ids: &[SubsectionId]) -> Result<Vec<Subsection>>;
    /// The subsections of the given sections, in order.
    async fn subsections_by_sections(&self, ids: &[SectionId]) -> Result<Vec<Subsection>>;

    /// Every task, by number.
    async fn tasks(&self) -> Result<Vec<Task>>;
    /// The tasks with these ids.
    async fn tasks_by_ids(&self, ids: &[TaskId]) -> Result<Vec<Task>>;
    /// The tasks with these numbers.
    async fn tasks_by_numbers(&self, numbers: &[i32]) -> Result<Vec<Task>>;
    /// One page of tasks, each with its key in the query's sort (for cursors).
    async fn list_tasks(&self, query: &TaskQuery) -> Result<TaskPage>;
    /// How many tasks match.
    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64>;
    /// One page per parent (section or subsection), in one round trip.
    async fn list_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        query: &TaskQuery,
    ) -> Result<HashMap<i64, TaskPage>>;
    /// How many tasks match, per parent.
    async fn count_tasks_grouped(
        &self,
        parent: TaskParent,
        ids: &[i64],
        filter: &TaskFilter,
    ) -> Result<HashMap<i64, i64>>;

    /// The agencies with these ids.
    async fn agencies_by_ids(&self, ids: &[AgencyId]) -> Result<Vec<Agency>>;
    /// The agency whose canonical name, alias or abbreviation is `name` (case-insensitive).
    async fn agency_by_name(&self, name: &str) -> Result<Option<Agency>>;
    /// One page of agencies, by name.
    async fn list_agencies(&self, query: &AgencyQuery) -> Result<Page<Agency>>;
    /// How many agencies match.
    async fn count_agencies(&self, filter: &AgencyFilter) -> Result<i64>;

    /// Every responsibility, by task then listed position.
    async fn responsibilities(&self) -> Result<Vec<Responsibility>>;
    /// Responsibilities of the given tasks, in listed order.
    async fn responsibilities_by_tasks(&self, ids: &[TaskId]) -> Result<Vec<Responsibility>>;
    /// Responsibilities of the given agencies (in a role, if given), by task number.
    async fn responsibilities_by_agencies(&self, ids: &[AgencyId], role: Option<Role>) -> Result<Vec<Responsibility>>;

    /// All provinces by code.
    async fn provinces(&self) -> Result<Vec<Province>>;
    /// The provinces with these ids.
    async fn provinces_by_ids(&self, ids: &[ProvinceId]) -> Result<Vec<Province>>;
    /// The provinces with these GB/T 2260 codes.
    async fn provinces_by_codes(&self, codes: &[String]) -> Result<Vec<Province>>;
}

/// Reads progress reports, their history and the change feed.
#[async_trait]
pub trait ReportReader: Send + Sync {
    /// The reports with these ids.
    async fn reports_by_ids(&self, ids: &[ReportId]) -> Result<Vec<ProgressReport>>;
    /// One page of reports.
    async fn list_reports(&self, query: &ReportQuery) -> Result<Page<ProgressReport>>;
    /// How many reports match.
    async fn count_reports(&self, filter: &ReportFilter) -> Result<i64>;
    /// One page per parent (task, agency or province), in one round trip.
    async fn list_reports_grouped(
        &self,
        parent: ReportParent,
        ids: &[i64],
        query: &ReportQuery,
    ) -> Result<HashMap<i64, Page<ProgressReport>>>;
    /// How many reports match, per parent.
    async fn count_reports_grouped(
        &self,
        parent: ReportParent,
        ids: &[i64],
        filter: &ReportFilter,
    ) -> Result<HashMap<i64, i64>>;
    /// The audit history of the given reports, oldest first.
    async fn history(&self, ids: &[ReportId]) -> Result<Vec<HistoryEntry>>;
    /// Up to `size` changes after the position `after` within `scope`, in feed order (see
    /// [`FeedPosition`]), and whether more follow.
    async fn list_changes(
        &self,
        after: Option<FeedPosition>,
        size: u32,
        scope: &ReportScope,
    ) -> Result<(Vec<Change>, bool)>;
    /// The position of the last change the feed shows now (whatever its scope), if any: a
    /// reader that starts here sees every change made from now on.
    async fn feed_head(&self) -> Result<Option<FeedPosition>>;
}

/// Writes progress reports: every write also records the history and the change feed, in the
/// same transaction.
#[async_trait]
pub trait ReportWriter: Send + Sync {
    /// Stores a checked new report with its history and change entries, in one transaction.
    async fn create_report(
        &self,
        actor: &Principal,
        report: NewReport,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport>;
    /// Applies an edit made at `at` under the report's lock: the rules
    /// ([`crate::report::apply_edit`]) run against the current row, then the row, its history and the change feed are written.
    async fn edit_report(
        &self,
        actor: &Principal,
        id: ReportId,
        expected_version: i32,
        edit: Edit,
        at: DateTime<Utc>,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport>;
    /// Applies a batch for one reporter in one transaction (rolled back when `dry_run`), as
    /// of `at`.
    async fn sync_reports(
        &self,
        actor: &Principal,
        reporter: Reporter,
        items: Vec<ValidSyncItem>,
        dry_run: bool,
        at: DateTime<Utc>,
    ) -> Result<Vec<SyncItemResult>>;
}

/// Stores the reporting calendar: scheduled periods and their history.
#[async_trait]
pub trait PeriodStore: Send + Sync {
    /// Schedules a checked period as `actor` at `at`, in one transaction: reads the stored
    /// period under a lock, decides ([`crate::supervision::decide_schedule`]) and writes the
    /// period with its history entry. Returns the period as it stands.
    async fn schedule_period(
        &self,
        actor: &Principal,
        schedule: PeriodSchedule,
        at: DateTime<Utc>,
    ) -> Result<ReportingPeriod>;
    /// The scheduled period with this key, if any.
    async fn period(&self, period: Period) -> Result<Option<ReportingPeriod>>;
    /// Every scheduled period, by start (then by end: a year before its first quarter).
    async fn periods(&self) -> Result<Vec<ReportingPeriod>>;
    /// The history of these periods, oldest first.
    async fn period_history(&self, periods: &[Period]) -> Result<Vec<PeriodHistoryEntry>>;
}

/// Reads what supervision needs of the reports — their states and times, never their text —
/// and the exemptions and extensions in force. Each method is one set-based query.
#[async_trait]
pub trait SupervisionReader: Send + Sync {
    /// The live (not withdrawn) PART reports for exactly these periods, of these parties only
    /// when `parties` is given, in shared chunks in no particular order (a store that holds a
    /// period's facts in memory hands out that period's chunk without copying it).
    async fn report_facts(&self, periods: &[Period], parties: Option<&[Reporter]>) -> Result<Vec<Arc<[ReportFacts]>>>;
    /// For each task, agency or province, and kind, the latest accepted version (of an ACCEPTED
    /// report, or one reopened for correction) among reports whose period ends no later than
    /// `up_to` ends (every period when `None`); of agencies only when `agencies_only`.
    async fn accepted_parts(&self, up_to: Option<Period>, agencies_only: bool) -> Result<Vec<AcceptedPart>>;
    /// The adjustments (revoked ones included) that name one of these periods or every period.
    async fn adjustments(&self, periods: &[Period]) -> Result<Vec<ObligationAdjustment>>;
    /// The adjustments with these ids.
    async fn adjustments_by_ids(&self, ids: &[AdjustmentId]) -> Result<Vec<ObligationAdjustment>>;
}

/// Writes exemptions and extensions.
#[async_trait]
pub trait AdjustmentStore: Send + Sync {
    /// Stores checked adjustments made by `actor` at `at`, in one transaction. An exemption
    /// already in force for the same period (or every period), task and party is not stored
    /// again; it is returned as it stands.
    async fn adjust(
        &self,
        actor: &Principal,
        adjustments: Vec<NewAdjustment>,
        at: DateTime<Utc>,
    ) -> Result<Vec<ObligationAdjustment>>;
    /// Revokes (undoes) these adjustments as `actor` at `at` with `reason`, in one
    /// transaction; ones already revoked stay as they were. NOT_FOUND (and nothing changed)
    /// when an id is unknown.
    async fn revoke_adjustments(
        &self,
        actor: &Principal,
        ids: &[AdjustmentId],
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<ObligationAdjustment>>;
}

/// A client's idempotency key for a single write, with the fingerprint of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The client's key.
    pub key: String,
    /// The request's fingerprint; stored with the key.
    pub fingerprint: String,
    /// The same request's fingerprint as keys stored before the field-by-field format were
    /// made (`Debug` text); a stored key matching it replays too.
    pub legacy_fingerprint: String,
}

impl Idempotency {
    /// Whether a key stored with `stored` was made by this same request (either format).
    pub fn matches(&self, stored: &str) -> bool {
        stored == self.fingerprint || stored == self.legacy_fingerprint
    }
}

/// What one batch item did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncItemResult {
    /// Position in the batch.
    pub index: usize,
    /// The item's client report id.
    pub client_report_id: String,
    /// What happened.
    pub outcome: SyncOutcome,
    /// The report as it stands (for CREATED, UPDATED, UNCHANGED; and the locked one when REJECTED).
    pub report: Option<ProgressReport>,
    /// Why it was rejected.
    pub error: Option<RejectReason>,
}

/// A token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// Unique name.
    pub name: String,
    /// What it may do.
    pub role: AccessRole,
    /// For AGENCY_REPORTER.
    pub agency: Option<AgencyId>,
    /// For PROVINCE_REPORTER.
    pub province: Option<ProvinceId>,
    /// [`crate::token::hash_secret`] of the secret.
    pub secret_hash: String,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores API tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a new token.
    async fn create_token(&self, token: NewToken) -> Result<ApiToken>;
    /// Every token.
    async fn tokens(&self) -> Result<Vec<ApiToken>>;
    /// The token with this secret hash.
    async fn token_by_secret_hash(&self, hash: &str) -> Result<Option<ApiToken>>;
    /// The token with this name.
    async fn token_by_name(&self, name: &str) -> Result<Option<ApiToken>>;
    /// Revokes a token (idempotent).
    async fn revoke_token(&self, id: TokenId) -> Result<ApiToken>;
    /// Records a use (callers throttle this).
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> Result<()>;
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
    /// Write transactions run again since start because the database ended them to break a
    /// deadlock with another writer.
    pub write_retries: u64,
}

/// Whether storage can be reached.
#[async_trait]
pub trait Health: Send + Sync {
    /// Succeeds when the database answers.
    async fn ping(&self) -> Result<()>;
    /// The pool's state, for metrics.
    fn pool_stats(&self) -> PoolStats;
}

/// The ports the API serves, each held as the narrow trait it is used through: resolvers of
/// the plan see a [`PlanReader`], report lists a [`ReportReader`], the use cases a
/// [`ReportWriter`], authentication a [`TokenStore`], the reporting calendar a
/// [`PeriodStore`], health checks [`Health`], subscriptions a [`Notifier`], the due-date
/// timer a [`DueDateEventStore`] and [`Leadership`]. One store
/// usually implements them all ([`Ports::of`]); tests may put a fake behind any of them.
#[derive(Clone)]
pub struct Ports {
    /// The plan: sections, tasks, agencies, responsibilities, provinces.
    pub plan: Arc<dyn PlanReader>,
    /// Report reads, history and the change feed.
    pub reports: Arc<dyn ReportReader>,
    /// Report writes.
    pub writer: Arc<dyn ReportWriter>,
    /// API tokens.
    pub tokens: Arc<dyn TokenStore>,
    /// The reporting calendar.
    pub periods: Arc<dyn PeriodStore>,
    /// What supervision reads of the reports, and the adjustments in force.
    pub supervision: Arc<dyn SupervisionReader>,
    /// Exemptions and extensions.
    pub adjustments: Arc<dyn AdjustmentStore>,
    /// Whether storage answers.
    pub health: Arc<dyn Health>,
    /// Tells every replica what changed (subscriptions wake on it).
    pub notifier: Arc<dyn Notifier>,
    /// The record of due-date events.
    pub due_dates: Arc<dyn DueDateEventStore>,
    /// Which replica runs the due-date timer.
    pub leadership: Arc<dyn Leadership>,
    /// Webhook endpoints and deliveries.
    pub webhooks: Arc<dyn WebhookStore>,
}

/// What time it is. The use cases take the time of a write from here (never from the system
/// clock directly), so tests can move time without sleeping ([`ManualClock`]).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved: a test double (share it through an `Arc`).
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(std::sync::Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Ports {
    /// Every port served by one store.
    pub fn of<S>(store: Arc<S>) -> Self
    where
        S: PlanReader
            + ReportReader
            + ReportWriter
            + TokenStore
            + PeriodStore
            + SupervisionReader
            + AdjustmentStore
            + Health
            + Notifier
            + DueDateEventStore
            + Leadership
            + WebhookStore
            + 'static,
    {
        Self {
            plan: store.clone(),
            reports: store.clone(),
            writer: store.clone(),
            tokens: store.clone(),
            periods: store.clone(),
            supervision: store.clone(),
            adjustments: store.clone(),
            health: store.clone(),
            notifier: store.clone(),
            due_dates: store.clone(),
            webhooks: store.clone(),
            leadership: store,
        }
    }
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ports { .. }")
    }
}
