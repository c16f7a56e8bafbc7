//! Exemptions and extensions ([`AdjustmentStore`]): a whole request in one transaction
//! ([`SeaStore::begin_write`]), with a constant number of reads whatever its size. Adjustments
//! are never deleted: undoing one revokes it. Every change announces [`Topic::Obligations`].
//!
//! Requests run in parallel, except that exemptions of the same task take turns: "an exemption
//! in force is not stored again" is a rule no unique index can hold here (an exemption for every
//! period has no period, and NULLs never collide), so on PostgreSQL a request that exempts
//! takes a transaction-scoped advisory lock per task it exempts on, in task order (two requests
//! never wait on each other in a circle), before it reads the exemptions in force. Extensions
//! and revocations need no lock: extensions may stack, and a revocation is one
//! `UPDATE … WHERE revoked_at IS NULL`, which a concurrent one finds done.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, QueryFilter, Statement,
};
use workplan_domain::access::Principal;
use workplan_domain::ids::TaskId;
use workplan_domain::ports::{AdjustmentStore, Topic};
use workplan_domain::report::{Period, Reporter};
use workplan_domain::supervision::{AdjustmentId, AdjustmentKind, NewAdjustment, ObligationAdjustment};
use workplan_domain::{Error, Result};

use crate::convert::{adjustment_active_model, ids, to_adjustment};
use crate::entities::obligation_adjustment;
use crate::error::DbResultExt;
use crate::store::SeaStore;
use crate::supervision::adjustments_by_ids;

/// Rows per INSERT (thirteen values each) and ids per `IN` list.
const CHUNK: usize = 500;

/// The first key of the advisory locks on a task's exemptions ("wpex" in ASCII); the second is
/// the task's id.
const EXEMPTION_LOCK_CLASS: i32 = 0x7770_6578;

/// On PostgreSQL, makes the exemptions of the tasks `adjustments` exempt on take turns until this
/// transaction ends (see the module's documentation); in task order.
async fn lock_exempted_tasks(txn: &DatabaseTransaction, adjustments: &[NewAdjustment]) -> Result<()> {
    if txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let tasks: BTreeSet<i64> =
        adjustments.iter().filter(|a| a.kind == AdjustmentKind::Exempt).map(|a| a.task_id.0).collect();
    for task in tasks {
        let task = i32::try_from(task).map_err(Error::internal)?;
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1, $2)",
            [EXEMPTION_LOCK_CLASS.into(), task.into()],
        ))
        .await
        .db()?;
    }
    Ok(())
}

/// What makes two adjustments the same: kind, period (or every period), task and party.
type Key = (AdjustmentKind, Option<Period>, TaskId, Reporter);

fn key_of(a: &ObligationAdjustment) -> Key {
    (a.kind, a.period, a.task_id, a.party)
}

fn new_key(a: &NewAdjustment) -> Key {
    (a.kind, a.period, a.task_id, a.party)
}

/// The exemptions in force (not revoked) on the tasks the request exempts, by key.
async fn exemptions_in_force(
    txn: &DatabaseTransaction,
    adjustments: &[NewAdjustment],
) -> Result<HashMap<Key, ObligationAdjustment>> {
    use obligation_adjustment::Column as C;
    let tasks: Vec<TaskId> =
        adjustments.iter().filter(|a| a.kind == AdjustmentKind::Exempt).map(|a| a.task_id).collect();
    let mut in_force = HashMap::new();
    for chunk in ids(&tasks, |t| t.0).chunks(CHUNK) {
        let rows = obligation_adjustment::Entity::find()
            .filter(C::Kind.eq(AdjustmentKind::Exempt.as_str()))
            .filter(C::RevokedAt.is_null())
            .filter(C::TaskId.is_in(chunk.to_vec()))
            .all(txn)
            .await
            .db()?;
        for row in rows {
            let adjustment = to_adjustment(row)?;
            in_force.entry(key_of(&adjustment)).or_insert(adjustment);
        }
    }
    Ok(in_force)
}

/// Inserts `adjustments` by `actor` at `at`, a chunk per statement; returns the stored rows by
/// key, each key's rows in the order they were given.
async fn insert_all(
    txn: &DatabaseTransaction,
    adjustments: &[&NewAdjustment],
    actor: &str,
    at: DateTime<Utc>,
) -> Result<HashMap<Key, VecDeque<ObligationAdjustment>>> {
    let mut stored: Vec<ObligationAdjustment> = Vec::with_capacity(adjustments.len());
    for chunk in adjustments.chunks(CHUNK) {
        let rows = chunk.iter().map(|a| adjustment_active_model(a, actor, at));
        for row in obligation_adjustment::Entity::insert_many(rows).exec_with_returning(txn).await.db()? {
            stored.push(to_adjustment(row)?);
        }
    }
    // Ids follow the order rows were inserted in, whatever order RETURNING gives them back.
    stored.sort_by_key(|a| a.id);
    let mut by_key: HashMap<Key, VecDeque<ObligationAdjustment>> = HashMap::new();
    for a in stored {
        by_key.entry(key_of(&a)).or_default().push_back(a);
    }
    Ok(by_key)
}

#[async_trait]
impl AdjustmentStore for SeaStore {
    /// Stores the adjustments in one transaction, in the order given; an exemption already in
    /// force for the same period (or every period), task and party — stored before, or earlier
    /// in the same request — is not stored again, and is returned as it stands.
    async fn adjust(
        &self,
        actor: &Principal,
        adjustments: Vec<NewAdjustment>,
        at: DateTime<Utc>,
    ) -> Result<Vec<ObligationAdjustment>> {
        if adjustments.is_empty() {
            return Ok(Vec::new());
        }
        let stored = self.retrying(|| self.adjust_once(actor, &adjustments, at)).await?;
        self.announce(Topic::Obligations).await;
        Ok(stored)
    }

    /// Revokes the adjustments in one transaction; ones already revoked stay as they were.
    /// NOT_FOUND, and nothing written, when an id is unknown. Returns them by id.
    async fn revoke_adjustments(
        &self,
        actor: &Principal,
        wanted: &[AdjustmentId],
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<ObligationAdjustment>> {
        use obligation_adjustment::Column as C;
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let w = self.begin_write().await?;
        let found = adjustments_by_ids(&w.txn, wanted).await?;
        if found.len() != ids(wanted, |a| a.0).len() {
            w.txn.rollback().await.db()?;
            return Err(Error::not_found("adjustment", Some("ids")));
        }
        let open: Vec<i64> = found.iter().filter(|a| a.revoked.is_none()).map(|a| a.id.0).collect();
        if open.is_empty() {
            w.txn.rollback().await.db()?;
            return Ok(found);
        }
        for chunk in open.chunks(CHUNK) {
            obligation_adjustment::Entity::update_many()
                .col_expr(C::RevokedAt, Expr::value(at))
                .col_expr(C::RevokedBy, Expr::value(actor.actor()))
                .col_expr(C::RevokeReason, Expr::value(reason))
                .filter(C::Id.is_in(chunk.to_vec()))
                .filter(C::RevokedAt.is_null())
                .exec(&w.txn)
                .await
                .db()?;
        }
        let revoked = adjustments_by_ids(&w.txn, wanted).await?;
        w.txn.commit().await.db()?;
        self.announce(Topic::Obligations).await;
        Ok(revoked)
    }
}

impl SeaStore {
    /// One attempt at [`AdjustmentStore::adjust`].
    async fn adjust_once(
        &self,
        actor: &Principal,
        adjustments: &[NewAdjustment],
        at: DateTime<Utc>,
    ) -> Result<Vec<ObligationAdjustment>> {
        let w = self.begin_write().await?;
        lock_exempted_tasks(&w.txn, adjustments).await?;
        let mut exemptions = exemptions_in_force(&w.txn, adjustments).await?;
        let mut exempting: HashSet<Key> = HashSet::new();
        let to_insert: Vec<&NewAdjustment> = adjustments
            .iter()
            .filter(|a| {
                let key = new_key(a);
                a.kind != AdjustmentKind::Exempt || (!exemptions.contains_key(&key) && exempting.insert(key))
            })
            .collect();
        let mut inserted = insert_all(&w.txn, &to_insert, &actor.actor(), at).await?;
        let mut out = Vec::with_capacity(adjustments.len());
        for a in adjustments {
            let key = new_key(a);
            let exempt = a.kind == AdjustmentKind::Exempt;
            if let Some(existing) = exemptions.get(&key).filter(|_| exempt) {
                out.push(existing.clone());
                continue;
            }
            let stored = inserted
                .get_mut(&key)
                .and_then(VecDeque::pop_front)
                .ok_or_else(|| Error::internal(std::io::Error::other("an inserted adjustment was not returned")))?;
            if exempt {
                exemptions.insert(key, stored.clone());
            }
            out.push(stored);
        }
        w.txn.commit().await.db()?;
        Ok(out)
    }
}
