//! The record of due-date events ([`DueDateEventStore`]): one row per event in
//! `obligation_events`, inserted with `ON CONFLICT DO NOTHING` on its whole key, so that two
//! timers overlapping (a leader that lost its lock but has not noticed yet, and the new one)
//! record each event once between them; and `obligation_timer`, the instant up to which the
//! timer has looked, which only moves forward. Recording events announces
//! [`Topic::Obligations`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TryInsertResult,
};
use workplan_domain::ids::{AgencyId, ProvinceId, TaskId};
use workplan_domain::ports::{DueDateEventStore, Topic};
use workplan_domain::report::{Period, Reporter};
use workplan_domain::supervision::{DueDateEvent, DueDateEventKind, PartyKind, RecordedDueDateEvent};
use workplan_domain::{Error, Result};

use crate::entities::{obligation_event, obligation_timer};
use crate::error::DbResultExt;
use crate::store::SeaStore;

/// Rows per INSERT (seven values each).
const CHUNK: usize = 500;

/// The timer's one row.
const TIMER_ROW: i32 = 1;

fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(std::io::Error::other(format!("stored {what} {value:?} is not valid")))
}

fn row_of(e: &DueDateEvent, at: DateTime<Utc>) -> obligation_event::ActiveModel {
    let (kind, id) = match e.party {
        Reporter::Agency(a) => (PartyKind::Agency, a.0),
        Reporter::Province(p) => (PartyKind::Province, p.0),
    };
    obligation_event::ActiveModel {
        id: NotSet,
        kind: Set(e.kind.as_str().to_owned()),
        period: Set(e.period.to_string()),
        task_id: Set(e.task_id.0),
        party_kind: Set(kind.as_str().to_owned()),
        party_id: Set(id),
        due_at: Set(e.due_at),
        recorded_at: Set(at),
    }
}

fn to_event(m: obligation_event::Model) -> Result<RecordedDueDateEvent> {
    let kind = DueDateEventKind::parse(&m.kind).ok_or_else(|| corrupt("due-date event kind", &m.kind))?;
    let period = Period::parse(&m.period).map_err(|_| corrupt("due-date event period", &m.period))?;
    let party = match PartyKind::parse(&m.party_kind) {
        Some(PartyKind::Agency) => Reporter::Agency(AgencyId(m.party_id)),
        Some(PartyKind::Province) => Reporter::Province(ProvinceId(m.party_id)),
        None => return Err(corrupt("due-date event party kind", &m.party_kind)),
    };
    Ok(RecordedDueDateEvent {
        id: m.id,
        event: DueDateEvent { kind, period, task_id: TaskId(m.task_id), party, due_at: m.due_at },
        recorded_at: m.recorded_at,
    })
}

/// The event's whole key: what makes two rows the same event.
fn event_key() -> OnConflict {
    use obligation_event::Column as C;
    OnConflict::columns([C::Kind, C::Period, C::TaskId, C::PartyKind, C::PartyId, C::DueAt]).do_nothing().to_owned()
}

#[async_trait]
impl DueDateEventStore for SeaStore {
    async fn events_recorded_until(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(obligation_timer::Entity::find_by_id(TIMER_ROW).one(&self.db).await.db()?.map(|row| row.recorded_until))
    }

    async fn record_due_date_events(
        &self,
        events: &[DueDateEvent],
        until: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Result<Vec<RecordedDueDateEvent>> {
        use obligation_timer::Column as T;
        let w = self.begin_write().await?;
        let mut recorded = Vec::new();
        for chunk in events.chunks(CHUNK) {
            let rows = chunk.iter().map(|e| row_of(e, at));
            let insert = obligation_event::Entity::insert_many(rows).on_conflict(event_key()).try_insert();
            if let TryInsertResult::Inserted(rows) = insert.exec_with_returning_many(&w.txn).await.db()? {
                recorded.extend(rows);
            }
        }
        let mark = obligation_timer::ActiveModel { id: Set(TIMER_ROW), recorded_until: Set(until) };
        obligation_timer::Entity::insert(mark)
            .on_conflict(OnConflict::column(T::Id).do_nothing().to_owned())
            .try_insert()
            .exec(&w.txn)
            .await
            .db()?;
        obligation_timer::Entity::update_many()
            .col_expr(T::RecordedUntil, Expr::value(until))
            .filter(T::Id.eq(TIMER_ROW))
            .filter(T::RecordedUntil.lt(until))
            .exec(&w.txn)
            .await
            .db()?;
        w.txn.commit().await.db()?;
        recorded.sort_by_key(|m| m.id);
        let recorded = recorded.into_iter().map(to_event).collect::<Result<Vec<_>>>()?;
        if !recorded.is_empty() {
            self.announce(Topic::Obligations).await;
        }
        Ok(recorded)
    }

    async fn due_date_events_after(&self, after: i64, limit: u32) -> Result<Vec<RecordedDueDateEvent>> {
        use obligation_event::Column as C;
        obligation_event::Entity::find()
            .filter(C::Id.gt(after))
            .order_by_asc(C::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .db()?
            .into_iter()
            .map(to_event)
            .collect()
    }

    async fn last_due_date_event(&self) -> Result<i64> {
        use obligation_event::Column as C;
        let last: Option<Option<i64>> = obligation_event::Entity::find()
            .select_only()
            .column_as(C::Id.max(), "last")
            .into_tuple()
            .one(&self.db)
            .await
            .db()?;
        Ok(last.flatten().unwrap_or(0))
    }
}
