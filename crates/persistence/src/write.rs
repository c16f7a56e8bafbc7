//! Every write to a report goes through here, in one transaction that also records the audit
//! history and the change feed.
//!
//! Report writes are serialised — by an in-process lock on SQLite (which has one writer
//! anyway) and by a transaction-scoped advisory lock on PostgreSQL (which holds across
//! replicas). So change-feed ids are handed out in commit order: a reader that has seen change
//! N has seen every change before it, and `changes(after:)` never skips one that commits late.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use workplan_domain::auth::Principal;
use workplan_domain::model::{
    AgencyId, Change, ChangeId, ChangeKind, HistoryEntry, ProgressReport, ProvinceId, ReportId, ReportState, Reporter,
};
use workplan_domain::page::ReportScope;
use workplan_domain::ports::{Idempotency, SyncItemResult};
use workplan_domain::report::{Applied, Edit, NewReport, apply_edit, diff};
use workplan_domain::sync::{SyncDecision, SyncOutcome, ValidSyncItem, decide};
use workplan_domain::{Error, Result};

use crate::entities::{idempotency_key, progress_report, report_change, report_history};
use crate::error::DbResultExt;
use crate::repo::{SeaStore, report_active_model, scope_condition, to_report};

/// The advisory lock key report writers share on PostgreSQL ("workplan" in ASCII, truncated).
const WRITE_LOCK_KEY: i64 = 0x776f_726b_706c_616e;

/// How long a write transaction's statements (including the wait for the lock) may take on
/// PostgreSQL, in milliseconds: under the 10 s request timeout.
const WRITE_TIMEOUT_MS: u32 = 9_000;

/// An open write transaction holding the write lock.
struct WriteTx {
    txn: DatabaseTransaction,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

fn reporter_cols(reporter: Reporter) -> (Option<i64>, Option<i64>) {
    match reporter {
        Reporter::Agency(AgencyId(a)) => (Some(a), None),
        Reporter::Province(ProvinceId(p)) => (None, Some(p)),
    }
}

impl SeaStore {
    /// On SQLite, the process-wide writer lock: SQLite has one writer at a time, and a
    /// transaction that read before writing fails at once (no busy wait) if another connection
    /// wrote in between, so every write in this process takes turns. `None` on PostgreSQL.
    pub(crate) async fn sqlite_writer(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => Some(self.writer.clone().lock_owned().await),
            _ => None,
        }
    }

    async fn begin_write(&self) -> Result<WriteTx> {
        let backend = self.db.get_database_backend();
        let guard = self.sqlite_writer().await;
        let txn = self.db.begin().await.db()?;
        if backend == DatabaseBackend::Postgres {
            // Waiting for the lock counts against the statement timeout; writers queue behind
            // each other, so give them longer than readers get.
            txn.execute_unprepared(&format!("SET LOCAL statement_timeout = {WRITE_TIMEOUT_MS}")).await.db()?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")).await.db()?;
        }
        Ok(WriteTx { txn, _guard: guard })
    }

    /// The report an earlier request with this key produced, or CONFLICT if the key was used
    /// for a different request.
    async fn replay(
        txn: &DatabaseTransaction,
        actor: &Principal,
        idem: &Idempotency,
    ) -> Result<Option<ProgressReport>> {
        let found = idempotency_key::Entity::find()
            .filter(idempotency_key::Column::Actor.eq(actor.token.0.to_string()))
            .filter(idempotency_key::Column::Key.eq(idem.key.as_str()))
            .one(txn)
            .await
            .db()?;
        let Some(found) = found else { return Ok(None) };
        if !idem.matches(&found.fingerprint) {
            return Err(Error::Conflict("this idempotencyKey was used for a different request".into()));
        }
        let row = progress_report::Entity::find_by_id(found.report_id).one(txn).await.db()?;
        row.map(to_report).transpose()
    }

    async fn remember(
        txn: &DatabaseTransaction,
        actor: &Principal,
        idem: Option<Idempotency>,
        report: ReportId,
    ) -> Result<()> {
        if let Some(idem) = idem {
            idempotency_key::ActiveModel {
                actor: Set(actor.token.0.to_string()),
                key: Set(idem.key),
                fingerprint: Set(idem.fingerprint),
                report_id: Set(report.0),
                created_at: Set(Utc::now()),
                ..Default::default()
            }
            .insert(txn)
            .await
            .db()?;
        }
        Ok(())
    }

    /// Records a write in the history and the change feed.
    async fn record(
        txn: &DatabaseTransaction,
        actor: &Principal,
        report: &ProgressReport,
        action: &str,
        kind: ChangeKind,
        changes: &[workplan_domain::model::FieldChange],
    ) -> Result<()> {
        let at = report.updated_at;
        report_history::ActiveModel {
            report_id: Set(report.id.0),
            version: Set(report.version),
            action: Set(action.to_owned()),
            actor: Set(actor.actor()),
            at: Set(at),
            changes: Set(serde_json::to_string(changes).map_err(Error::internal)?),
            ..Default::default()
        }
        .insert(txn)
        .await
        .db()?;
        let (agency_id, province_id) = reporter_cols(report.reporter);
        report_change::ActiveModel {
            report_id: Set(report.id.0),
            kind: Set(kind.as_str().to_owned()),
            version: Set(report.version),
            state: Set(report.state.as_str().to_owned()),
            agency_id: Set(agency_id),
            province_id: Set(province_id),
            actor: Set(actor.actor()),
            at: Set(at),
            ..Default::default()
        }
        .insert(txn)
        .await
        .db()?;
        Ok(())
    }

    async fn insert_new(txn: &DatabaseTransaction, actor: &Principal, report: NewReport) -> Result<ProgressReport> {
        let changes = diff(None, (&report.fields, report.state, None));
        let row = report_active_model(report)?.insert(txn).await.db()?;
        let report = to_report(row)?;
        Self::record(txn, actor, &report, "CREATE", ChangeKind::Created, &changes).await?;
        Ok(report)
    }

    async fn update_existing(
        txn: &DatabaseTransaction,
        actor: &Principal,
        current: &ProgressReport,
        applied: Applied,
    ) -> Result<ProgressReport> {
        let now = Utc::now();
        let row = progress_report::ActiveModel {
            id: Set(current.id.0),
            period: Set(applied.fields.period.to_string()),
            status: Set(applied.fields.status.as_str().to_owned()),
            percent_complete: Set(applied.fields.percent_complete),
            summary: Set(applied.fields.summary.clone()),
            evidence_urls: Set(serde_json::to_string(&applied.fields.evidence_urls).map_err(Error::internal)?),
            state: Set(applied.state.as_str().to_owned()),
            review_comment: Set(applied.review_comment.clone()),
            version: Set(current.version + 1),
            updated_at: Set(Some(now)),
            ..Default::default()
        }
        .update(txn)
        .await
        .db()?;
        let report = to_report(row)?;
        Self::record(txn, actor, &report, applied.action, applied.kind, &applied.changes).await?;
        Ok(report)
    }

    pub(crate) async fn write_create(
        &self,
        actor: &Principal,
        report: NewReport,
        idem: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        let w = self.begin_write().await?;
        if let Some(idem) = &idem
            && let Some(previous) = Self::replay(&w.txn, actor, idem).await?
        {
            return Ok(previous);
        }
        let created = Self::insert_new(&w.txn, actor, report).await?;
        Self::remember(&w.txn, actor, idem, created.id).await?;
        w.txn.commit().await.db()?;
        Ok(created)
    }

    pub(crate) async fn write_edit(
        &self,
        actor: &Principal,
        id: ReportId,
        expected_version: i32,
        edit: Edit,
        idem: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        let w = self.begin_write().await?;
        if let Some(idem) = &idem
            && let Some(previous) = Self::replay(&w.txn, actor, idem).await?
        {
            return Ok(previous);
        }
        let current = progress_report::Entity::find_by_id(id.0)
            .one(&w.txn)
            .await
            .db()?
            .map(to_report)
            .transpose()?
            .ok_or_else(|| Error::not_found("report", Some("id")))?;
        let applied = apply_edit(actor, &current, expected_version, &edit)?;
        let updated = Self::update_existing(&w.txn, actor, &current, applied).await?;
        Self::remember(&w.txn, actor, idem, updated.id).await?;
        w.txn.commit().await.db()?;
        Ok(updated)
    }

    pub(crate) async fn write_sync(
        &self,
        actor: &Principal,
        reporter: Reporter,
        items: Vec<ValidSyncItem>,
        dry_run: bool,
    ) -> Result<Vec<SyncItemResult>> {
        let w = self.begin_write().await?;
        let (agency_id, province_id) = reporter_cols(reporter);
        let mut existing: HashMap<String, ProgressReport> = HashMap::new();
        for chunk in items.chunks(500) {
            let ids: Vec<String> = chunk.iter().map(|i| i.client_report_id.clone()).collect();
            let mut q = progress_report::Entity::find().filter(progress_report::Column::ClientReportId.is_in(ids));
            q = match (agency_id, province_id) {
                (Some(a), _) => q.filter(progress_report::Column::AgencyId.eq(a)),
                (_, Some(p)) => q.filter(progress_report::Column::ProvinceId.eq(p)),
                _ => q,
            };
            for row in q.all(&w.txn).await.db()? {
                let report = to_report(row)?;
                if let Some(id) = report.client_report_id.clone() {
                    existing.insert(id, report);
                }
            }
        }
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let current = existing.get(&item.client_report_id);
            let (outcome, report, error) = match decide(current, &item)? {
                SyncDecision::Create(applied) => {
                    let new = NewReport {
                        task_id: applied.task_id,
                        reporter,
                        fields: applied.fields,
                        state: ReportState::Submitted,
                        client_report_id: Some(item.client_report_id.clone()),
                        submitted_at: Utc::now(),
                        is_demo: false,
                    };
                    let created = Self::insert_new(&w.txn, actor, new).await?;
                    (SyncOutcome::Created, Some(created), None)
                }
                SyncDecision::Update(applied) => {
                    let Some(current) = current else { return Err(Error::Conflict("sync state changed".into())) };
                    (SyncOutcome::Updated, Some(Self::update_existing(&w.txn, actor, current, applied).await?), None)
                }
                SyncDecision::Unchanged => (SyncOutcome::Unchanged, current.cloned(), None),
                SyncDecision::Rejected(reason) => (SyncOutcome::Rejected, current.cloned(), Some(reason)),
            };
            results.push(SyncItemResult {
                index: item.index,
                client_report_id: item.client_report_id,
                outcome,
                report,
                error,
            });
        }
        if dry_run {
            w.txn.rollback().await.db()?;
        } else {
            w.txn.commit().await.db()?;
        }
        Ok(results)
    }

    pub(crate) async fn read_history(&self, ids: &[i64]) -> Result<Vec<HistoryEntry>> {
        let rows = report_history::Entity::find()
            .filter(report_history::Column::ReportId.is_in(ids.to_vec()))
            .order_by_asc(report_history::Column::Id)
            .all(&self.db)
            .await
            .db()?;
        rows.into_iter()
            .map(|h| {
                Ok(HistoryEntry {
                    report_id: ReportId(h.report_id),
                    version: h.version,
                    action: h.action,
                    actor: h.actor,
                    at: h.at,
                    changes: serde_json::from_str(&h.changes).map_err(Error::internal)?,
                })
            })
            .collect()
    }

    pub(crate) async fn read_changes(
        &self,
        after: Option<i64>,
        size: u32,
        scope: &ReportScope,
    ) -> Result<(Vec<Change>, bool)> {
        use report_change::Column as C;
        let mut q = report_change::Entity::find();
        if let Some(after) = after {
            q = q.filter(C::Id.gt(after));
        }
        if let Some(cond) = scope_condition(scope, C::State, C::AgencyId, C::ProvinceId) {
            q = q.filter(cond);
        }
        let mut rows = q.order_by_asc(C::Id).limit(u64::from(size) + 1).all(&self.db).await.db()?;
        let more = rows.len() > size as usize;
        rows.truncate(size as usize);
        let changes = rows
            .into_iter()
            .map(|c| {
                let bad = || Error::internal(std::io::Error::other(format!("change {} is malformed", c.id)));
                let reporter = match (c.agency_id, c.province_id) {
                    (Some(a), None) => Reporter::Agency(AgencyId(a)),
                    (None, Some(p)) => Reporter::Province(ProvinceId(p)),
                    _ => return Err(bad()),
                };
                Ok(Change {
                    id: ChangeId(c.id),
                    report_id: ReportId(c.report_id),
                    kind: ChangeKind::parse(&c.kind).ok_or_else(bad)?,
                    version: c.version,
                    state: ReportState::parse(&c.state).ok_or_else(bad)?,
                    reporter,
                    actor: c.actor.clone(),
                    at: c.at,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((changes, more))
    }
}
