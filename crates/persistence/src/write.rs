//! Every write to a report goes through here ([`ReportWriter`]): create, edit and
//! sync, each in one transaction that also records the audit history and the change feed, in
//! one place, [`record`]. A notification of the change (a subscription, a webhook) hooks in
//! there.
//!
//! Report writes are serialised — by an in-process lock on SQLite (which has one writer
//! anyway) and by a transaction-scoped advisory lock on PostgreSQL (which holds across
//! replicas); see [`SeaStore::begin_write`]. So change-feed ids are handed out in commit order:
//! a reader that has seen change N has seen every change before it, and `changes(after:)` never
//! skips one that commits late.
//!
//! The domain decides what a write does and what it records ([`Applied`]); this file applies
//! it. The helpers are free functions so that the `impl` block below holds exactly the port's
//! three methods.

use std::collections::HashMap;

use async_trait::async_trait;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, Set};
use workplan_domain::access::Principal;
use workplan_domain::ids::ReportId;
use workplan_domain::ports::{Idempotency, ReportWriter, SyncItemResult};
use workplan_domain::report::sync::{SyncDecision, SyncOutcome, ValidSyncItem, decide};
use workplan_domain::report::{
    Applied, ChangeKind, Edit, FieldChange, NewReport, ProgressReport, ReportKey, ReportState, Reporter, apply_edit,
    check_key_free, diff,
};
use workplan_domain::{Error, Result};

use crate::convert::{
    change_active_model, history_active_model, report_active_model, report_update_model, reporter_is, to_report,
};
use crate::entities::{idempotency_key, progress_report};
use crate::error::DbResultExt;
use crate::store::SeaStore;

/// Most client report ids looked up in one `IN` list.
const LOOKUP_CHUNK: usize = 500;

#[async_trait]
impl ReportWriter for SeaStore {
    /// Stores a checked new report with its history and change entries, in one transaction.
    async fn create_report(
        &self,
        actor: &Principal,
        report: NewReport,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        let w = self.begin_write().await?;
        if let Some(previous) = replay(&w.txn, actor, idempotency.as_ref()).await? {
            return Ok(previous);
        }
        let key = report.key();
        check_key_free(live_holder(&w.txn, &key).await?.as_ref(), None)?;
        // Edits and sync items come with their history entry decided by the domain (`Applied`);
        // a submitted report does not yet, so its CREATE entry is derived here by the rule
        // `sync::decide` uses for a created item: every field, from nothing.
        let changes = diff(None, (&report.fields, report.state, None));
        let created = match insert_new(&w.txn, actor, report, "CREATE", ChangeKind::Created, &changes).await {
            Err(Error::Conflict(_)) => {
                w.txn.rollback().await.db()?;
                return Err(self.key_taken(&key).await);
            }
            other => other?,
        };
        remember(&w.txn, actor, idempotency, created.id).await?;
        w.txn.commit().await.db()?;
        Ok(created)
    }

    /// Applies an edit under the write lock: the domain's rules ([`apply_edit`]) run against
    /// the current row, then the row, its history and the change feed are written.
    async fn edit_report(
        &self,
        actor: &Principal,
        id: ReportId,
        expected_version: i32,
        edit: Edit,
        at: DateTime<Utc>,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        let w = self.begin_write().await?;
        if let Some(previous) = replay(&w.txn, actor, idempotency.as_ref()).await? {
            return Ok(previous);
        }
        let current = progress_report::Entity::find_by_id(id.0)
            .one(&w.txn)
            .await
            .db()?
            .map(to_report)
            .transpose()?
            .ok_or_else(|| Error::not_found("report", Some("id")))?;
        let applied = apply_edit(actor, &current, expected_version, &edit, at)?;
        let key = ReportKey { period: applied.fields.period.to_string(), ..current.key() };
        if applied.state != ReportState::Withdrawn && key != current.key() {
            check_key_free(live_holder(&w.txn, &key).await?.as_ref(), Some(current.id))?;
        }
        let updated = match update_existing(&w.txn, actor, &current, &applied).await {
            Err(Error::Conflict(_)) => {
                w.txn.rollback().await.db()?;
                return Err(self.key_taken(&key).await);
            }
            other => other?,
        };
        remember(&w.txn, actor, idempotency, updated.id).await?;
        w.txn.commit().await.db()?;
        Ok(updated)
    }

    /// Applies a batch for one reporter in one transaction (rolled back when `dry_run`), each
    /// item as [`decide`] says.
    async fn sync_reports(
        &self,
        actor: &Principal,
        reporter: Reporter,
        items: Vec<ValidSyncItem>,
        dry_run: bool,
        at: DateTime<Utc>,
    ) -> Result<Vec<SyncItemResult>> {
        let w = self.begin_write().await?;
        let existing = existing_by_client_id(&w.txn, reporter, &items).await?;
        let mut live = live_by_key(&w.txn, reporter, &items).await?;
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let current = existing.get(&item.client_report_id).cloned();
            results.push(sync_item(&w.txn, actor, reporter, current, &mut live, item, at).await?);
        }
        if dry_run {
            w.txn.rollback().await.db()?;
        } else {
            w.txn.commit().await.db()?;
        }
        Ok(results)
    }
}

impl SeaStore {
    /// The CONFLICT for a write the database refused as a duplicate key (a race the pre-check
    /// could not see): it names the report that holds `key`, read after the failure.
    async fn key_taken(&self, key: &ReportKey) -> Error {
        match live_holder(&self.db, key).await {
            Ok(Some(holder)) => Error::duplicate_of(&holder),
            Ok(None) => Error::Conflict("another live report holds this reporter, task, period and kind".into()),
            Err(e) => e,
        }
    }
}

/// The live report holding `key`, if any.
async fn live_holder(db: &impl ConnectionTrait, key: &ReportKey) -> Result<Option<ProgressReport>> {
    use progress_report::Column as C;
    let row = progress_report::Entity::find()
        .filter(reporter_is(key.reporter, C::AgencyId, C::ProvinceId))
        .filter(C::TaskId.eq(key.task_id.0))
        .filter(C::Period.eq(key.period.as_str()))
        .filter(C::Kind.eq(key.kind.as_str()))
        .filter(C::State.ne(ReportState::Withdrawn.as_str()))
        .one(db)
        .await
        .db()?;
    row.map(to_report).transpose()
}

/// The reporter's live reports on the batch's tasks, by key.
async fn live_by_key(
    txn: &DatabaseTransaction,
    reporter: Reporter,
    items: &[ValidSyncItem],
) -> Result<HashMap<ReportKey, ProgressReport>> {
    use progress_report::Column as C;
    let tasks = crate::convert::ids(&items.iter().map(|i| i.task_id).collect::<Vec<_>>(), |t| t.0);
    let mut live = HashMap::new();
    for chunk in tasks.chunks(LOOKUP_CHUNK) {
        let rows = progress_report::Entity::find()
            .filter(reporter_is(reporter, C::AgencyId, C::ProvinceId))
            .filter(C::TaskId.is_in(chunk.to_vec()))
            .filter(C::State.ne(ReportState::Withdrawn.as_str()))
            .all(txn)
            .await
            .db()?;
        for row in rows {
            let report = to_report(row)?;
            live.insert(report.key(), report);
        }
    }
    Ok(live)
}

/// Attaches a sync item's client id to a live report filed without one (manual entry), so the
/// item applies to it as an update.
async fn adopt(txn: &DatabaseTransaction, report: &ProgressReport, client_report_id: &str) -> Result<ProgressReport> {
    use progress_report::Column as C;
    progress_report::Entity::update_many()
        .col_expr(C::ClientReportId, Expr::value(client_report_id))
        .filter(C::Id.eq(report.id.0))
        .exec(txn)
        .await
        .db()?;
    Ok(ProgressReport { client_report_id: Some(client_report_id.to_owned()), ..report.clone() })
}

/// The report an earlier request with this key produced, or CONFLICT if the key was used for a
/// different request. `None` without a key.
async fn replay(
    txn: &DatabaseTransaction,
    actor: &Principal,
    idem: Option<&Idempotency>,
) -> Result<Option<ProgressReport>> {
    let Some(idem) = idem else { return Ok(None) };
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

/// Stores the key, so that a retry of this request replays `report`.
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

/// Records a write that left `report` as it is: the history row, then the change-feed row.
/// Every report write passes through here.
async fn record(
    txn: &DatabaseTransaction,
    actor: &Principal,
    report: &ProgressReport,
    action: &str,
    kind: ChangeKind,
    changes: &[FieldChange],
) -> Result<()> {
    history_active_model(report, actor.actor(), action, changes)?.insert(txn).await.db()?;
    change_active_model(report, actor.actor(), kind).insert(txn).await.db()?;
    Ok(())
}

/// Inserts a new report and records it with the entry the caller was given.
async fn insert_new(
    txn: &DatabaseTransaction,
    actor: &Principal,
    report: NewReport,
    action: &str,
    kind: ChangeKind,
    changes: &[FieldChange],
) -> Result<ProgressReport> {
    let row = report_active_model(report)?.insert(txn).await.db()?;
    let report = to_report(row)?;
    record(txn, actor, &report, action, kind, changes).await?;
    Ok(report)
}

/// Writes what the domain decided for `current` and records it.
async fn update_existing(
    txn: &DatabaseTransaction,
    actor: &Principal,
    current: &ProgressReport,
    applied: &Applied,
) -> Result<ProgressReport> {
    let row = report_update_model(current, applied)?.update(txn).await.db()?;
    let report = to_report(row)?;
    record(txn, actor, &report, applied.action, applied.kind, &applied.changes).await?;
    Ok(report)
}

/// The reporter's reports that the batch's client ids already name, by client id.
async fn existing_by_client_id(
    txn: &DatabaseTransaction,
    reporter: Reporter,
    items: &[ValidSyncItem],
) -> Result<HashMap<String, ProgressReport>> {
    use progress_report::Column as C;
    let mut existing = HashMap::new();
    for chunk in items.chunks(LOOKUP_CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|i| i.client_report_id.clone()).collect();
        let rows = progress_report::Entity::find()
            .filter(C::ClientReportId.is_in(ids))
            .filter(reporter_is(reporter, C::AgencyId, C::ProvinceId))
            .all(txn)
            .await
            .db()?;
        for row in rows {
            let report = to_report(row)?;
            if let Some(id) = report.client_report_id.clone() {
                existing.insert(id, report);
            }
        }
    }
    Ok(existing)
}

/// Applies one batch item as the domain decides, given the report its client id names and the
/// reporter's live reports by key (kept up to date as items apply). A live report of the same
/// key is adopted when it has no client id yet; held by another client id, it is a CONFLICT.
async fn sync_item(
    txn: &DatabaseTransaction,
    actor: &Principal,
    reporter: Reporter,
    mut current: Option<ProgressReport>,
    live: &mut HashMap<ReportKey, ProgressReport>,
    item: ValidSyncItem,
    at: DateTime<Utc>,
) -> Result<SyncItemResult> {
    let key = ReportKey { reporter, task_id: item.task_id, period: item.fields.period.to_string(), kind: item.kind };
    if let Some(holder) = live.get(&key)
        && Some(holder.id) != current.as_ref().map(|c| c.id)
    {
        if current.is_none() && holder.client_report_id.is_none() {
            current = Some(adopt(txn, holder, &item.client_report_id).await?);
        } else {
            let reason = workplan_domain::report::sync::RejectReason::Invalid(Error::duplicate_of(holder));
            let (index, client_report_id) = (item.index, item.client_report_id);
            let outcome = SyncOutcome::Rejected;
            return Ok(SyncItemResult { index, client_report_id, outcome, report: current, error: Some(reason) });
        }
    }
    let result = apply_item(txn, actor, reporter, current.as_ref(), item, at).await?;
    if let (Some(report), SyncOutcome::Created | SyncOutcome::Updated) = (&result.report, result.outcome) {
        if let Some(old) = &current {
            live.remove(&old.key());
        }
        if report.is_live() {
            live.insert(report.key(), report.clone());
        }
    }
    Ok(result)
}

/// Applies one batch item as the domain decides, given the report it names (if any).
async fn apply_item(
    txn: &DatabaseTransaction,
    actor: &Principal,
    reporter: Reporter,
    current: Option<&ProgressReport>,
    item: ValidSyncItem,
    at: DateTime<Utc>,
) -> Result<SyncItemResult> {
    let (outcome, report, error) = match decide(current, &item, at)? {
        SyncDecision::Create(applied) => {
            let new = NewReport {
                task_id: applied.task_id,
                reporter,
                fields: applied.fields,
                state: applied.state,
                kind: item.kind,
                client_report_id: Some(item.client_report_id.clone()),
                created_at: applied.at,
                submitted_at: applied.submitted_at,
                first_submitted_at: applied.first_submitted_at,
                is_demo: false,
            };
            let created = insert_new(txn, actor, new, applied.action, applied.kind, &applied.changes).await?;
            (SyncOutcome::Created, Some(created), None)
        }
        SyncDecision::Update(applied) => {
            let Some(current) = current else { return Err(Error::Conflict("sync state changed".into())) };
            (SyncOutcome::Updated, Some(update_existing(txn, actor, current, &applied).await?), None)
        }
        SyncDecision::Unchanged => (SyncOutcome::Unchanged, current.cloned(), None),
        SyncDecision::Rejected(reason) => (SyncOutcome::Rejected, current.cloned(), Some(reason)),
    };
    Ok(SyncItemResult { index: item.index, client_report_id: item.client_report_id, outcome, report, error })
}
