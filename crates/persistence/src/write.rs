//! Every write to a report goes through here ([`ReportWriter`]): create, edit and
//! sync, each in one transaction that also records the audit history and the change feed, in
//! one place, [`record`]. A notification of the change (a subscription, a webhook) hooks in
//! there.
//!
//! On PostgreSQL writers run in parallel (no lock makes them queue), and each guarantee is kept
//! by the statement that needs it:
//! - **Versions.** An edit reads its report `FOR NO KEY UPDATE` before the domain's rules run
//!   ([`apply_edit`]), so a second edit of the same report waits, then sees the first one's
//!   version and gets the CONFLICT with `currentVersion`. Every UPDATE of a report also says
//!   `WHERE version = <the version read>` ([`update_existing`]): a sync item, which reads without
//!   locking, finds out that way that someone wrote in between, and is decided again.
//! - **Idempotency keys** are claimed first, with `INSERT … ON CONFLICT DO NOTHING`
//!   (`idempotency.rs`): a concurrent request with the same key waits for the first to end,
//!   then replays its report — never a unique violation, never a second write.
//! - **One live report per key** is the database's partial unique index; a report is inserted
//!   with `ON CONFLICT DO NOTHING` ([`insert_new`]), and nothing inserted means another live
//!   report holds the key: the CONFLICT naming it ([`SeaStore::key_taken`]), or in a sync batch
//!   the item decided again (`sync.rs`), which never aborts the rest of the batch.
//! - **The change feed** never skips a change that commits late: each feed row records its
//!   transaction, and readers only return rows of transactions that can no longer be overtaken
//!   (`reports.rs`, `list_changes`).
//!
//! A transaction PostgreSQL ends to break a deadlock runs again ([`SeaStore::retrying`]). On
//! SQLite, which has one writer at a time, writes take turns on an in-process lock
//! ([`SeaStore::begin_write`]); the same statements run there too.
//!
//! The domain decides what a write does and what it records ([`Applied`]); this file applies
//! it. The helpers are free functions so that the `impl` block below holds exactly the port's
//! three methods.

mod idempotency;
mod sync;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{LockType, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use workplan_domain::access::Principal;
use workplan_domain::ids::ReportId;
use workplan_domain::ports::{Idempotency, ReportWriter, SyncItemResult};
use workplan_domain::report::sync::ValidSyncItem;
use workplan_domain::report::{
    Applied, ChangeKind, Edit, FieldChange, NewReport, ProgressReport, ReportKey, ReportState, Reporter, apply_edit,
    check_key_free, diff, unknown_report,
};
use workplan_domain::{Error, Result};

use self::idempotency::{Claim, claim, settle};
use crate::convert::{
    change_active_model, history_active_model, report_active_model, report_update_model, reporter_is, to_report,
};
use crate::entities::progress_report;
use crate::error::DbResultExt;
use crate::live_facts::FactsChanged;
use crate::store::{SeaStore, insert_unless_taken};

#[async_trait]
impl ReportWriter for SeaStore {
    /// Stores a checked new report with its history and change entries, in one transaction.
    async fn create_report(
        &self,
        actor: &Principal,
        report: NewReport,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        let _changed = FactsChanged(self);
        self.retrying(|| self.create_once(actor, report.clone(), idempotency.as_ref())).await
    }

    /// Applies an edit to the report as it stands, locked: the domain's rules ([`apply_edit`])
    /// run against the current row, then the row, its history and the change feed are written.
    async fn edit_report(
        &self,
        actor: &Principal,
        id: ReportId,
        expected_version: i32,
        edit: Edit,
        at: DateTime<Utc>,
        idempotency: Option<Idempotency>,
    ) -> Result<ProgressReport> {
        let _changed = FactsChanged(self);
        self.retrying(|| self.edit_once(actor, id, expected_version, &edit, at, idempotency.as_ref())).await
    }

    /// Applies a batch for one reporter in one transaction (rolled back when `dry_run`), each
    /// item as [`workplan_domain::report::sync::decide`] says (see `sync.rs`).
    async fn sync_reports(
        &self,
        actor: &Principal,
        reporter: Reporter,
        items: Vec<ValidSyncItem>,
        dry_run: bool,
        at: DateTime<Utc>,
    ) -> Result<Vec<SyncItemResult>> {
        let _changed = FactsChanged(self);
        self.retrying(|| async {
            let w = self.begin_write().await?;
            let results = sync::apply_batch(&w.txn, actor, reporter, items.clone(), at).await?;
            if dry_run {
                w.txn.rollback().await.db()?;
            } else {
                w.txn.commit().await.db()?;
            }
            Ok(results)
        })
        .await
    }
}

impl SeaStore {
    /// One attempt at [`ReportWriter::create_report`].
    async fn create_once(
        &self,
        actor: &Principal,
        report: NewReport,
        idempotency: Option<&Idempotency>,
    ) -> Result<ProgressReport> {
        let w = self.begin_write().await?;
        let claimed = match claim(&w.txn, actor, idempotency).await? {
            Claim::Replay(previous) => return Ok(*previous),
            Claim::Mine(claimed) => Some(claimed),
            Claim::NoKey => None,
        };
        let key = report.key();
        // Edits and sync items come with their history entry decided by the domain (`Applied`);
        // a submitted report does not yet, so its CREATE entry is derived here by the rule
        // `sync::decide` uses for a created item: every field, from nothing.
        let changes = diff(None, (&report.fields, report.state, None));
        let Some(created) = insert_new(&w.txn, actor, report, "CREATE", ChangeKind::Created, &changes).await? else {
            w.txn.rollback().await.db()?;
            return Err(self.key_taken(&key).await);
        };
        settle(&w.txn, claimed, created.id).await?;
        w.txn.commit().await.db()?;
        Ok(created)
    }

    /// One attempt at [`ReportWriter::edit_report`].
    async fn edit_once(
        &self,
        actor: &Principal,
        id: ReportId,
        expected_version: i32,
        edit: &Edit,
        at: DateTime<Utc>,
        idempotency: Option<&Idempotency>,
    ) -> Result<ProgressReport> {
        let w = self.begin_write().await?;
        let claimed = match claim(&w.txn, actor, idempotency).await? {
            Claim::Replay(previous) => return Ok(*previous),
            Claim::Mine(claimed) => Some(claimed),
            Claim::NoKey => None,
        };
        // Locked until commit: a concurrent edit waits here, then reads this one's version.
        // (`FOR NO KEY UPDATE`, the lock the UPDATE itself takes, so inserts that reference the
        // report are not held up; SQLite has no row locks and needs none.)
        let current = progress_report::Entity::find_by_id(id.0)
            .lock(LockType::NoKeyUpdate)
            .one(&w.txn)
            .await
            .db()?
            .map(to_report)
            .transpose()?
            .ok_or_else(unknown_report)?;
        let applied = apply_edit(actor, &current, expected_version, edit, at)?;
        let key = ReportKey { period: applied.fields.period.to_string(), ..current.key() };
        if applied.state != ReportState::Withdrawn && key != current.key() {
            check_key_free(live_holder(&w.txn, &key).await?.as_ref(), Some(current.id))?;
        }
        let updated = match update_existing(&w.txn, actor, &current, &applied).await {
            Ok(Some(updated)) => updated,
            // The row is locked, so its version cannot have moved; should it have, that is
            // still the CONFLICT with the version it is at.
            Ok(None) => return Err(self.stale(id, expected_version).await),
            // A report that moves onto a key another transaction took since the check above.
            Err(Error::Conflict(_)) => {
                w.txn.rollback().await.db()?;
                return Err(self.key_taken(&key).await);
            }
            Err(e) => return Err(e),
        };
        settle(&w.txn, claimed, updated.id).await?;
        w.txn.commit().await.db()?;
        Ok(updated)
    }

    /// The CONFLICT for a write the database refused as a duplicate key (a race the pre-check
    /// could not see): it names the report that holds `key`, read after the failure.
    async fn key_taken(&self, key: &ReportKey) -> Error {
        match live_holder(&self.db, key).await {
            Ok(Some(holder)) => Error::duplicate_of(&holder),
            Ok(None) => Error::Conflict("another live report holds this reporter, task, period and kind".into()),
            Err(e) => e,
        }
    }

    /// The CONFLICT for an edit based on `expected`, with the version report `id` is at now.
    async fn stale(&self, id: ReportId, expected: i32) -> Error {
        match progress_report::Entity::find_by_id(id.0).one(&self.db).await.db() {
            Ok(Some(row)) => Error::StaleVersion { expected, current: row.version },
            Ok(None) => unknown_report(),
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

/// Records a write that left `report` as it is: the history row, then the change-feed row
/// (whose transaction id the database fills in, see `reports.rs`). Every report write passes
/// through here.
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

/// Inserts a new report and records it with the entry the caller was given; `None`, with
/// nothing written, when a unique key is taken — the reporter, task, period and kind by
/// another live report, or the reporter's client report id — by a committed report, or by one
/// a concurrent transaction committed while this one waited for it (`ON CONFLICT DO NOTHING`
/// waits for it to end; a unique violation would abort the whole transaction).
async fn insert_new(
    txn: &DatabaseTransaction,
    actor: &Principal,
    report: NewReport,
    action: &str,
    kind: ChangeKind,
    changes: &[FieldChange],
) -> Result<Option<ProgressReport>> {
    let row = report_active_model(report)?;
    let Some(row) = insert_unless_taken(txn, row, OnConflict::new().do_nothing().to_owned()).await? else {
        return Ok(None);
    };
    let report = to_report(row)?;
    record(txn, actor, &report, action, kind, changes).await?;
    Ok(Some(report))
}

/// Writes what the domain decided for `current` and records it — if the report is still at
/// the version `current` was read at: `None`, with nothing written, when another transaction
/// wrote it since (the UPDATE says `WHERE version = …`).
async fn update_existing(
    txn: &DatabaseTransaction,
    actor: &Principal,
    current: &ProgressReport,
    applied: &Applied,
) -> Result<Option<ProgressReport>> {
    let update = progress_report::Entity::update(report_update_model(current, applied)?)
        .validate()
        .db()?
        .filter(progress_report::Column::Version.eq(current.version));
    let row = match update.exec(txn).await {
        Ok(row) => row,
        Err(DbErr::RecordNotUpdated) => return Ok(None),
        Err(e) => return Err(crate::error::classify(e)),
    };
    let report = to_report(row)?;
    record(txn, actor, &report, applied.action, applied.kind, &applied.changes).await?;
    Ok(Some(report))
}
