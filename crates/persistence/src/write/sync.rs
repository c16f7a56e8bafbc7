//! A sync batch, applied item by item in one transaction, without locking what it reads.
//!
//! The batch reads once what its items name — the reporter's reports by client id, and its live
//! reports by key — and decides each item on that ([`decide`]). Another transaction may commit
//! in between (a worker re-sending the same batch, a reporter filing by hand, a supervisor
//! reviewing), so every write checks that what it was decided on still holds: a report is
//! inserted with `ON CONFLICT DO NOTHING` (its client id or key may have been taken), updated
//! `WHERE version = …` (it may have been written), adopted only while it has no client id. When
//! one does not hold, nothing was written for the item: the two rows it depends on are read
//! again and the item is decided again ([`ITEM_ATTEMPTS`] at most). A key another client id
//! took is then the item's CONFLICT naming that report, and the rest of the batch goes on.
//!
//! No savepoint per item: a subtransaction per item would overflow PostgreSQL's per-session
//! cache of 64 subtransactions on any real batch, and every other session's snapshots would
//! get slower while it ran. Only the two rare writes that can still meet a unique violation —
//! moving a report to another period, adopting a report filed by hand — run in a savepoint.
//!
//! **One narrow lock.** On PostgreSQL, batches of the same reporter take turns: a batch first
//! takes a transaction-scoped advisory lock named after its reporter ([`lock_reporter`]).
//! Without it, two batches naming the same items in different orders (workers re-sending with
//! the items shuffled) each insert some keys and then wait on the other's: a deadlock, which
//! PostgreSQL only notices after a second (`deadlock_timeout`) and breaks by rolling one back —
//! whose retry tends to meet the other again the same way. Locks per key or client id would
//! avoid that too, but a batch names up to 1,000 of them, more than PostgreSQL's shared lock
//! table gives a transaction (`max_locks_per_transaction`, 64 by default). A reporter is one
//! system pushing its own reports, whose batches seldom need to run side by side; batches of
//! different reporters, every single write (which holds at most one key, so cannot deadlock
//! with a batch on keys) and every read still run in parallel.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, QueryFilter, Statement,
    TransactionTrait,
};
use workplan_domain::access::Principal;
use workplan_domain::ports::SyncItemResult;
use workplan_domain::report::sync::{RejectReason, SyncDecision, SyncOutcome, ValidSyncItem, decide};
use workplan_domain::report::{Applied, NewReport, ProgressReport, ReportKey, ReportState, Reporter};
use workplan_domain::{Error, Result};

use super::{insert_new, live_holder, update_existing};
use crate::convert::{reporter_is, to_report};
use crate::entities::progress_report;
use crate::error::DbResultExt;

/// Most client report ids looked up in one `IN` list.
const LOOKUP_CHUNK: usize = 500;

/// How many times one item is decided, when what it was decided on keeps changing under it.
const ITEM_ATTEMPTS: usize = 4;

/// The first keys of the advisory locks that make one reporter's batches take turns ("wpsa"
/// and "wpsp" in ASCII, for agencies and provinces); the second is the reporter's id.
const AGENCY_BATCHES: i32 = 0x7770_7361;
const PROVINCE_BATCHES: i32 = 0x7770_7370;

/// On PostgreSQL, waits until no other batch of `reporter` runs, and keeps the others waiting
/// until this transaction ends (see the module's documentation).
async fn lock_reporter(txn: &DatabaseTransaction, reporter: Reporter) -> Result<()> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let (class, id) = match reporter {
        Reporter::Agency(agency) => (AGENCY_BATCHES, agency.0),
        Reporter::Province(province) => (PROVINCE_BATCHES, province.0),
    };
    let id = i32::try_from(id).map_err(Error::internal)?;
    let lock = "SELECT pg_advisory_xact_lock($1, $2)";
    txn.execute_raw(Statement::from_sql_and_values(DatabaseBackend::Postgres, lock, [class.into(), id.into()]))
        .await
        .db()?;
    Ok(())
}

/// Applies the items of one reporter's batch in `txn`, in order; returns one result per item.
pub(super) async fn apply_batch(
    txn: &DatabaseTransaction,
    actor: &Principal,
    reporter: Reporter,
    items: Vec<ValidSyncItem>,
    at: DateTime<Utc>,
) -> Result<Vec<SyncItemResult>> {
    lock_reporter(txn, reporter).await?;
    let mut known = Known {
        by_client_id: existing_by_client_id(txn, reporter, &items).await?,
        live: live_by_key(txn, reporter, &items).await?,
    };
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        results.push(sync_item(txn, actor, reporter, &mut known, item, at).await?);
    }
    Ok(results)
}

/// What the batch knows of the reporter's reports: by client id, and the live ones by key. Kept
/// up to date as items apply, and read again for an item when its write finds it out of date.
struct Known {
    by_client_id: HashMap<String, ProgressReport>,
    live: HashMap<ReportKey, ProgressReport>,
}

impl Known {
    /// Takes `report` as it now stands (under its client id, and under its key while live).
    fn learn(&mut self, report: &ProgressReport) {
        self.live.retain(|_, held| held.id != report.id);
        if let Some(client_id) = &report.client_report_id {
            self.by_client_id.insert(client_id.clone(), report.clone());
        }
        if report.is_live() {
            self.live.insert(report.key(), report.clone());
        }
    }

    /// Reads again the two rows an item depends on: the report its client id names and the
    /// live holder of its key, as committed now.
    async fn refresh(
        &mut self,
        txn: &DatabaseTransaction,
        reporter: Reporter,
        client_id: &str,
        key: &ReportKey,
    ) -> Result<()> {
        use progress_report::Column as C;
        self.by_client_id.remove(client_id);
        self.live.remove(key);
        let named = progress_report::Entity::find()
            .filter(reporter_is(reporter, C::AgencyId, C::ProvinceId))
            .filter(C::ClientReportId.eq(client_id))
            .one(txn)
            .await
            .db()?;
        if let Some(named) = named.map(to_report).transpose()? {
            self.learn(&named);
        }
        if let Some(holder) = live_holder(txn, key).await? {
            self.learn(&holder);
        }
        Ok(())
    }
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

/// Applies one batch item, deciding it again on fresh rows while its write finds them changed.
async fn sync_item(
    txn: &DatabaseTransaction,
    actor: &Principal,
    reporter: Reporter,
    known: &mut Known,
    item: ValidSyncItem,
    at: DateTime<Utc>,
) -> Result<SyncItemResult> {
    let key = ReportKey { reporter, task_id: item.task_id, period: item.fields.period.to_string(), kind: item.kind };
    for _ in 0..ITEM_ATTEMPTS {
        if let Some(result) = try_item(txn, actor, reporter, known, &key, &item, at).await? {
            if let (Some(report), SyncOutcome::Created | SyncOutcome::Updated) = (&result.report, result.outcome) {
                known.learn(report);
            }
            return Ok(result);
        }
        known.refresh(txn, reporter, &item.client_report_id, &key).await?;
    }
    let changing = Error::Conflict("the report kept changing while this item was applied; send the item again".into());
    let current = known.by_client_id.get(&item.client_report_id).cloned();
    Ok(rejected(item, current, changing))
}

/// The item REJECTED for `error`, with the report its client id names (if any).
fn rejected(item: ValidSyncItem, report: Option<ProgressReport>, error: Error) -> SyncItemResult {
    SyncItemResult {
        index: item.index,
        client_report_id: item.client_report_id,
        outcome: SyncOutcome::Rejected,
        report,
        error: Some(RejectReason::Invalid(error)),
    }
}

/// One attempt at an item, decided on what the batch knows; `None`, with nothing written for
/// the item, when a write found that out of date. A live report of the same key is adopted when
/// it has no client id yet; held by another client id, it is a CONFLICT naming it.
async fn try_item(
    txn: &DatabaseTransaction,
    actor: &Principal,
    reporter: Reporter,
    known: &mut Known,
    key: &ReportKey,
    item: &ValidSyncItem,
    at: DateTime<Utc>,
) -> Result<Option<SyncItemResult>> {
    let mut current = known.by_client_id.get(&item.client_report_id).cloned();
    if let Some(holder) = known.live.get(key).cloned()
        && Some(holder.id) != current.as_ref().map(|c| c.id)
    {
        if current.is_some() || holder.client_report_id.is_some() {
            return Ok(Some(rejected(item.clone(), current, Error::duplicate_of(&holder))));
        }
        let Some(adopted) = adopt(txn, &holder, &item.client_report_id).await? else { return Ok(None) };
        known.learn(&adopted);
        current = Some(adopted);
    }
    apply_item(txn, actor, reporter, current.as_ref(), item, at).await
}

/// Attaches a sync item's client id to a live report filed without one (manual entry), so the
/// item applies to it as an update — unless, since it was read, the report was written or
/// given a client id, or another report took the client id (`None`).
async fn adopt(
    txn: &DatabaseTransaction,
    report: &ProgressReport,
    client_report_id: &str,
) -> Result<Option<ProgressReport>> {
    use progress_report::Column as C;
    let savepoint = txn.begin().await.db()?;
    let adopted = progress_report::Entity::update_many()
        .col_expr(C::ClientReportId, Expr::value(client_report_id))
        .filter(C::Id.eq(report.id.0))
        .filter(C::Version.eq(report.version))
        .filter(C::ClientReportId.is_null())
        .exec(&savepoint)
        .await
        .db();
    match adopted {
        Ok(done) if done.rows_affected == 1 => {
            savepoint.commit().await.db()?;
            Ok(Some(ProgressReport { client_report_id: Some(client_report_id.to_owned()), ..report.clone() }))
        }
        // Not adopted: written since, or the client id is another report's (the unique index).
        Ok(_) | Err(Error::Conflict(_)) => {
            savepoint.rollback().await.db()?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Applies one batch item as the domain decides, given the report it names (if any); `None`,
/// with nothing written, when the write found that out of date.
async fn apply_item(
    txn: &DatabaseTransaction,
    actor: &Principal,
    reporter: Reporter,
    current: Option<&ProgressReport>,
    item: &ValidSyncItem,
    at: DateTime<Utc>,
) -> Result<Option<SyncItemResult>> {
    let (outcome, report, error) = match decide(current, item, at)? {
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
            let Some(created) = insert_new(txn, actor, new, applied.action, applied.kind, &applied.changes).await?
            else {
                return Ok(None);
            };
            (SyncOutcome::Created, Some(created), None)
        }
        SyncDecision::Update(applied) => {
            let Some(current) = current else { return Err(Error::Conflict("sync state changed".into())) };
            let Some(updated) = update(txn, actor, current, &applied).await? else { return Ok(None) };
            (SyncOutcome::Updated, Some(updated), None)
        }
        SyncDecision::Unchanged => (SyncOutcome::Unchanged, current.cloned(), None),
        SyncDecision::Rejected(reason) => (SyncOutcome::Rejected, current.cloned(), Some(reason)),
    };
    let (index, client_report_id) = (item.index, item.client_report_id.clone());
    Ok(Some(SyncItemResult { index, client_report_id, outcome, report, error }))
}

/// Updates `current` as decided; `None`, with nothing written, when it was written since it was
/// read, or when it moves to a period whose key another report took meanwhile (the move runs in
/// a savepoint, since that is a unique violation).
async fn update(
    txn: &DatabaseTransaction,
    actor: &Principal,
    current: &ProgressReport,
    applied: &Applied,
) -> Result<Option<ProgressReport>> {
    if applied.fields.period.to_string() == current.period {
        return update_existing(txn, actor, current, applied).await;
    }
    let savepoint = txn.begin().await.db()?;
    match update_existing(&savepoint, actor, current, applied).await {
        Ok(Some(updated)) => {
            savepoint.commit().await.db()?;
            Ok(Some(updated))
        }
        Ok(None) | Err(Error::Conflict(_)) => {
            savepoint.rollback().await.db()?;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}
