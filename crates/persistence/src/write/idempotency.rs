//! Idempotency keys of single writes, claimed before the write they guard.
//!
//! A key is stored first, with `INSERT … ON CONFLICT DO NOTHING`, in the write's own
//! transaction: if a concurrent request holds the same key, PostgreSQL makes this insert wait
//! until that transaction ends — then it inserts (the other rolled back) or does nothing (the
//! other committed: this request replays its report). So a retry racing its original never
//! writes twice and never meets a unique violation. The claimed row names no report until
//! [`settle`] sets it, before the same transaction commits, so no other transaction ever reads
//! it unsettled.

use chrono::Utc;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use workplan_domain::access::Principal;
use workplan_domain::ids::ReportId;
use workplan_domain::ports::Idempotency;
use workplan_domain::report::ProgressReport;
use workplan_domain::{Error, Result};

use crate::convert::to_report;
use crate::entities::{idempotency_key, progress_report};
use crate::error::DbResultExt;
use crate::store::insert_unless_taken;

/// The report id of a claimed key until [`settle`] sets it (ids start at 1).
const UNSETTLED: i64 = 0;

/// What claiming a request's idempotency key found.
pub(super) enum Claim {
    /// The request has no key.
    NoKey,
    /// The key is this transaction's (the id of its row): [`settle`] it before committing.
    Mine(i64),
    /// An earlier request with this key was applied: its report as it stands now.
    Replay(Box<ProgressReport>),
}

/// Claims `idem` for this request, or finds the request that holds it: the same request (its
/// report, to replay) or a different one (CONFLICT). Keys belong to their token.
pub(super) async fn claim(txn: &DatabaseTransaction, actor: &Principal, idem: Option<&Idempotency>) -> Result<Claim> {
    use idempotency_key::Column as C;
    let Some(idem) = idem else { return Ok(Claim::NoKey) };
    let row = idempotency_key::ActiveModel {
        actor: Set(actor.token.0.to_string()),
        key: Set(idem.key.clone()),
        fingerprint: Set(idem.fingerprint.clone()),
        report_id: Set(UNSETTLED),
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(mine) =
        insert_unless_taken(txn, row, OnConflict::columns([C::Actor, C::Key]).do_nothing().to_owned()).await?
    {
        return Ok(Claim::Mine(mine.id));
    }
    // Held by a committed request (this statement sees it: each one reads what is committed).
    let held = idempotency_key::Entity::find()
        .filter(C::Actor.eq(actor.token.0.to_string()))
        .filter(C::Key.eq(idem.key.as_str()))
        .one(txn)
        .await
        .db()?
        .ok_or_else(|| Error::internal(std::io::Error::other("an idempotency key vanished after a conflict")))?;
    if !idem.matches(&held.fingerprint) {
        return Err(Error::Conflict("this idempotencyKey was used for a different request".into()));
    }
    let report = progress_report::Entity::find_by_id(held.report_id).one(txn).await.db()?;
    let report = report.ok_or_else(|| Error::internal(std::io::Error::other("an idempotency key names no report")))?;
    Ok(Claim::Replay(Box::new(to_report(report)?)))
}

/// Points a key this transaction claimed at the report its request produced.
pub(super) async fn settle(txn: &DatabaseTransaction, claimed: Option<i64>, report: ReportId) -> Result<()> {
    use idempotency_key::Column as C;
    if let Some(id) = claimed {
        idempotency_key::Entity::update_many()
            .col_expr(C::ReportId, Expr::value(report.0))
            .filter(C::Id.eq(id))
            .exec(txn)
            .await
            .db()?;
    }
    Ok(())
}
