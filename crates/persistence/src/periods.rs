//! The reporting calendar: scheduled periods and their history. A schedule is written in one
//! transaction ([`SeaStore::begin_write`]), the period and its history entry together.
//!
//! Schedules of different periods run in parallel; two of the same period take turns on its
//! row: the row is read `FOR NO KEY UPDATE` before the domain decides, so the second waits and
//! decides on what the first wrote (version and history stay a chain). A period scheduled for the
//! first time is inserted with `ON CONFLICT DO NOTHING` on its unique key: when another
//! transaction inserted it first, this one reads that row, locked, and decides again.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{LockType, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use workplan_domain::access::Principal;
use workplan_domain::ports::{PeriodStore, Topic};
use workplan_domain::report::Period;
use workplan_domain::supervision::{
    PeriodAction, PeriodHistoryEntry, PeriodSchedule, ReportingPeriod, ScheduleDecision, decide_schedule,
};
use workplan_domain::{Error, Result};

use crate::convert::collect;
use crate::entities::{reporting_period, reporting_period_history};
use crate::error::DbResultExt;
use crate::store::{SeaStore, insert_unless_taken};

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(std::io::Error::other(format!("stored {what} {value:?} is not valid")))
}

/// A stored period as the domain's.
fn to_period(m: reporting_period::Model) -> Result<ReportingPeriod> {
    Ok(ReportingPeriod {
        period: Period::parse(&m.period).map_err(|_| corrupt("period", &m.period))?,
        starts_at: m.starts_at,
        ends_at: m.ends_at,
        due_at: m.due_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
        version: m.version,
    })
}

/// A stored history entry of the period `period`.
fn to_period_history(period: Period, h: reporting_period_history::Model) -> Result<PeriodHistoryEntry> {
    Ok(PeriodHistoryEntry {
        period,
        version: h.version,
        action: PeriodAction::parse(&h.action).ok_or_else(|| corrupt("period action", &h.action))?,
        actor: h.actor,
        at: h.at,
        changes: serde_json::from_str(&h.changes).map_err(|_| corrupt("period changes", &h.changes))?,
    })
}

async fn find_row(db: &impl ConnectionTrait, period: Period) -> Result<Option<reporting_period::Model>> {
    reporting_period::Entity::find().filter(reporting_period::Column::Period.eq(period.to_string())).one(db).await.db()
}

/// The period's row, locked until the transaction ends (a concurrent schedule of the same
/// period waits here).
async fn find_row_locked(db: &impl ConnectionTrait, period: Period) -> Result<Option<reporting_period::Model>> {
    reporting_period::Entity::find()
        .filter(reporting_period::Column::Period.eq(period.to_string()))
        .lock(LockType::NoKeyUpdate)
        .one(db)
        .await
        .db()
}

/// Inserts or updates the period row as decided, with its history entry; `None`, with nothing
/// written, when the period is new here but another transaction inserted it meanwhile.
async fn write(
    db: &impl ConnectionTrait,
    existing: Option<reporting_period::Model>,
    period: &ReportingPeriod,
    entry: &PeriodHistoryEntry,
) -> Result<Option<reporting_period::Model>> {
    let mut row = reporting_period::ActiveModel {
        period: Set(period.period.to_string()),
        starts_at: Set(period.starts_at),
        ends_at: Set(period.ends_at),
        due_at: Set(period.due_at),
        created_at: Set(period.created_at),
        updated_at: Set(period.updated_at),
        version: Set(period.version),
        ..Default::default()
    };
    let saved = if let Some(current) = existing {
        row.id = Set(current.id);
        row.update(db).await.db()?
    } else {
        let key = OnConflict::column(reporting_period::Column::Period).do_nothing().to_owned();
        let Some(saved) = insert_unless_taken(db, row, key).await? else { return Ok(None) };
        saved
    };
    reporting_period_history::ActiveModel {
        period_id: Set(saved.id),
        version: Set(entry.version),
        action: Set(entry.action.as_str().to_owned()),
        actor: Set(entry.actor.clone()),
        at: Set(entry.at),
        changes: Set(serde_json::to_string(&entry.changes).map_err(Error::internal)?),
        ..Default::default()
    }
    .insert(db)
    .await
    .db()?;
    Ok(Some(saved))
}

impl SeaStore {
    /// Schedules each period of `calendar` that is not scheduled yet (those that are keep their
    /// due dates), as the `actor` of an administrative command, at `at`, in one transaction;
    /// returns how many it scheduled.
    pub async fn schedule_missing_periods(
        &self,
        calendar: &[PeriodSchedule],
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<usize> {
        let w = self.begin_write().await?;
        let keys: Vec<String> = calendar.iter().map(|s| s.period.to_string()).collect();
        let scheduled: std::collections::HashSet<String> = reporting_period::Entity::find()
            .filter(reporting_period::Column::Period.is_in(keys))
            .all(&w.txn)
            .await
            .db()?
            .into_iter()
            .map(|row| row.period)
            .collect();
        let mut added = 0;
        for schedule in calendar.iter().filter(|s| !scheduled.contains(&s.period.to_string())) {
            // Scheduled meanwhile by another transaction: that one's due date stands.
            if let ScheduleDecision::Write(period, entry) = decide_schedule(None, schedule, actor, at)
                && write(&w.txn, None, &period, &entry).await?.is_some()
            {
                added += 1;
            }
        }
        w.txn.commit().await.db()?;
        Ok(added)
    }
}

#[async_trait]
impl PeriodStore for SeaStore {
    async fn schedule_period(
        &self,
        actor: &Principal,
        schedule: PeriodSchedule,
        at: DateTime<Utc>,
    ) -> Result<ReportingPeriod> {
        let scheduled = self
            .retrying(|| async {
                let w = self.begin_write().await?;
                // Twice at most: when the insert finds the period taken, the row is there to lock.
                for _ in 0..2 {
                    let existing = find_row_locked(&w.txn, schedule.period).await?;
                    let current = existing.clone().map(to_period).transpose()?;
                    match decide_schedule(current.as_ref(), &schedule, &actor.actor(), at) {
                        ScheduleDecision::Unchanged(period) => {
                            w.txn.rollback().await.db()?;
                            return Ok(period);
                        }
                        ScheduleDecision::Write(period, entry) => {
                            if let Some(saved) = write(&w.txn, existing, &period, &entry).await? {
                                w.txn.commit().await.db()?;
                                return to_period(saved);
                            }
                        }
                    }
                }
                Err(Error::internal(std::io::Error::other("a reporting period was neither found nor inserted")))
            })
            .await?;
        // A new due date moves the period's obligations.
        self.announce(Topic::Obligations).await;
        Ok(scheduled)
    }

    async fn period(&self, period: Period) -> Result<Option<ReportingPeriod>> {
        find_row(&self.db, period).await?.map(to_period).transpose()
    }

    async fn periods(&self) -> Result<Vec<ReportingPeriod>> {
        use reporting_period::Column as C;
        let rows = reporting_period::Entity::find()
            .order_by_asc(C::StartsAt)
            .order_by_desc(C::EndsAt)
            .order_by_asc(C::Id)
            .all(&self.db)
            .await
            .db()?;
        collect(rows, to_period)
    }

    async fn period_history(&self, periods: &[Period]) -> Result<Vec<PeriodHistoryEntry>> {
        if periods.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys: Vec<String> = periods.iter().map(ToString::to_string).collect();
        keys.sort_unstable();
        keys.dedup();
        let rows = reporting_period::Entity::find()
            .filter(reporting_period::Column::Period.is_in(keys))
            .all(&self.db)
            .await
            .db()?;
        let mut by_id: HashMap<i64, Period> = HashMap::with_capacity(rows.len());
        for row in rows {
            let id = row.id;
            by_id.insert(id, to_period(row)?.period);
        }
        let history = reporting_period_history::Entity::find()
            .filter(reporting_period_history::Column::PeriodId.is_in(by_id.keys().copied().collect::<Vec<_>>()))
            .order_by_asc(reporting_period_history::Column::Id)
            .all(&self.db)
            .await
            .db()?;
        history
            .into_iter()
            .map(|h| {
                let period = *by_id.get(&h.period_id).ok_or_else(|| corrupt("period id", &h.period_id.to_string()))?;
                to_period_history(period, h)
            })
            .collect()
    }
}
