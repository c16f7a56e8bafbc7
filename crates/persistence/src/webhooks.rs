//! Webhook endpoints and deliveries ([`WebhookStore`]). Enqueuing moves an endpoint's cursor
//! with a compare-and-set in the same transaction as the deliveries it inserts (`ON CONFLICT
//! DO NOTHING` on endpoint and change), so two replicas enqueuing at once insert each
//! delivery once. Claims are one `UPDATE … RETURNING` that moves the claimed rows' next
//! attempt past a lease; on PostgreSQL its `FOR UPDATE SKIP LOCKED` subquery lets replicas
//! claim side by side without waiting on or sharing rows; on SQLite (one process) the writer
//! lock makes claims take turns.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, Statement,
};
use workplan_domain::ids::ChangeId;
use workplan_domain::ids::TokenId;
use workplan_domain::ports::WebhookStore;
use workplan_domain::report::{ChangeKind, FeedPosition};
use workplan_domain::webhook::{
    AttemptRecord, DeliveryFilter, DeliveryId, DeliveryStatus, EndpointId, NewDelivery, NewWebhookEndpoint, Resume,
    RetiringSecret, WebhookDelivery, WebhookEndpoint, message_id,
};
use workplan_domain::{Error, Result};

use crate::entities::{webhook_delivery, webhook_endpoint};
use crate::error::DbResultExt;
use crate::store::SeaStore;

fn corrupt(what: String) -> Error {
    Error::internal(std::io::Error::other(what))
}

fn to_endpoint(m: webhook_endpoint::Model) -> Result<WebhookEndpoint> {
    let kinds = m
        .kinds
        .split(',')
        .map(|k| ChangeKind::parse(k).ok_or_else(|| corrupt(format!("webhook {} wants kind {k:?}", m.id))))
        .collect::<Result<Vec<_>>>()?;
    Ok(WebhookEndpoint {
        id: EndpointId(m.id),
        url: m.url,
        kinds,
        token: TokenId(m.token_id),
        secret: m.secret,
        created_at: m.created_at,
        disabled_at: m.disabled_at,
        cursor: FeedPosition { txn: m.cursor_txn, id: ChangeId(m.cursor_id) },
        previous_secret: m
            .previous_secret
            .zip(m.previous_secret_until)
            .map(|(secret, until)| RetiringSecret { secret, until }),
    })
}

fn to_delivery(m: webhook_delivery::Model) -> Result<WebhookDelivery> {
    let status = DeliveryStatus::parse(&m.status)
        .ok_or_else(|| corrupt(format!("webhook delivery {} has status {:?}", m.id, m.status)))?;
    Ok(WebhookDelivery {
        id: DeliveryId(m.id),
        endpoint: EndpointId(m.endpoint_id),
        message_id: m.message_id,
        change: ChangeId(m.change_id),
        payload: m.payload,
        status,
        attempts: u32::try_from(m.attempts).unwrap_or(0),
        next_attempt_at: m.next_attempt_at,
        last_error: m.last_error,
        last_status_code: m.last_status_code.and_then(|c| u16::try_from(c).ok()),
        created_at: m.created_at,
        updated_at: m.updated_at,
        delivered_at: m.delivered_at,
    })
}

impl SeaStore {
    /// One delivery, if there is one.
    async fn delivery(&self, id: DeliveryId) -> Result<Option<WebhookDelivery>> {
        webhook_delivery::Entity::find_by_id(id.0).one(&self.db).await.db()?.map(to_delivery).transpose()
    }

    /// The last change of the feed as a reader would see it now (the same visibility rule as
    /// `list_changes`: on PostgreSQL only changes below every transaction still running), or
    /// the start of the feed when it is empty.
    async fn feed_head(&self) -> Result<FeedPosition> {
        let backend = self.db.get_database_backend();
        let visible = if backend == DatabaseBackend::Postgres {
            "WHERE txid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        } else {
            ""
        };
        let sql = format!("SELECT txid, id FROM report_changes {visible} ORDER BY txid DESC, id DESC LIMIT 1");
        let row = self.db.query_one_raw(Statement::from_string(backend, sql)).await.db()?;
        match row {
            Some(row) => {
                let txn: i64 = row.try_get("", "txid").db()?;
                let id: i64 = row.try_get("", "id").db()?;
                Ok(FeedPosition { txn, id: ChangeId(id) })
            }
            None => Ok(FeedPosition::legacy(0)),
        }
    }
}

#[async_trait]
impl WebhookStore for SeaStore {
    async fn create_endpoint(&self, endpoint: NewWebhookEndpoint) -> Result<WebhookEndpoint> {
        let head = self.feed_head().await?;
        let kinds: Vec<&str> = endpoint.kinds.iter().map(|k| k.as_str()).collect();
        let row = webhook_endpoint::ActiveModel {
            url: Set(endpoint.url),
            kinds: Set(kinds.join(",")),
            token_id: Set(endpoint.token.0),
            secret: Set(endpoint.secret),
            created_at: Set(endpoint.created_at),
            disabled_at: Set(None),
            cursor_txn: Set(head.txn),
            cursor_id: Set(head.id.0),
            previous_secret: Set(None),
            previous_secret_until: Set(None),
            ..Default::default()
        };
        let _writer = self.sqlite_writer().await;
        to_endpoint(row.insert(&self.db).await.db()?)
    }

    async fn endpoints(&self) -> Result<Vec<WebhookEndpoint>> {
        let rows =
            webhook_endpoint::Entity::find().order_by_asc(webhook_endpoint::Column::Id).all(&self.db).await.db()?;
        rows.into_iter().map(to_endpoint).collect()
    }

    async fn endpoint(&self, id: EndpointId) -> Result<WebhookEndpoint> {
        let row = webhook_endpoint::Entity::find_by_id(id.0)
            .one(&self.db)
            .await
            .db()?
            .ok_or_else(|| Error::not_found("webhook", Some("id")))?;
        to_endpoint(row)
    }

    async fn disable_endpoint(&self, id: EndpointId, at: DateTime<Utc>) -> Result<WebhookEndpoint> {
        use webhook_delivery::Column as D;
        use webhook_endpoint::Column as C;
        let tx = self.begin_write().await?;
        let disabled = webhook_endpoint::Entity::update_many()
            .col_expr(C::DisabledAt, Expr::value(at))
            .filter(C::Id.eq(id.0))
            .filter(C::DisabledAt.is_null())
            .exec(&tx.txn)
            .await
            .db()?;
        if disabled.rows_affected > 0 {
            // Given up at once, so the deliveries list says so; one being sent right now is
            // recorded as its attempt ends.
            webhook_delivery::Entity::update_many()
                .col_expr(D::Status, Expr::value(DeliveryStatus::Failed.as_str()))
                .col_expr(D::LastError, Expr::value("the endpoint was disabled"))
                .col_expr(D::UpdatedAt, Expr::value(at))
                .filter(D::EndpointId.eq(id.0))
                .filter(D::Status.eq(DeliveryStatus::Pending.as_str()))
                .exec(&tx.txn)
                .await
                .db()?;
        }
        tx.txn.commit().await.db()?;
        self.endpoint(id).await
    }

    async fn enable_endpoint(&self, id: EndpointId, resume: Resume) -> Result<WebhookEndpoint> {
        use webhook_endpoint::Column as C;
        let _writer = self.sqlite_writer().await;
        let mut update =
            webhook_endpoint::Entity::update_many().col_expr(C::DisabledAt, Expr::value(None::<DateTime<Utc>>));
        if resume == Resume::FromNow {
            let head = self.feed_head().await?;
            update = update.col_expr(C::CursorTxn, Expr::value(head.txn)).col_expr(C::CursorId, Expr::value(head.id.0));
        }
        update.filter(C::Id.eq(id.0)).filter(C::DisabledAt.is_not_null()).exec(&self.db).await.db()?;
        self.endpoint(id).await
    }

    async fn rotate_secret(
        &self,
        id: EndpointId,
        secret: String,
        previous_until: DateTime<Utc>,
    ) -> Result<WebhookEndpoint> {
        use webhook_endpoint::Column as C;
        let _writer = self.sqlite_writer().await;
        // One statement: the secret replaced is the one stored, whatever a concurrent rotation did.
        webhook_endpoint::Entity::update_many()
            .col_expr(C::PreviousSecret, Expr::col(C::Secret))
            .col_expr(C::PreviousSecretUntil, Expr::value(previous_until))
            .col_expr(C::Secret, Expr::value(secret))
            .filter(C::Id.eq(id.0))
            .exec(&self.db)
            .await
            .db()?;
        self.endpoint(id).await
    }

    async fn enqueue(
        &self,
        endpoint: EndpointId,
        from: FeedPosition,
        to: FeedPosition,
        deliveries: Vec<NewDelivery>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        use webhook_endpoint::Column as C;
        let tx = self.begin_write().await?;
        let moved = webhook_endpoint::Entity::update_many()
            .col_expr(C::CursorTxn, Expr::value(to.txn))
            .col_expr(C::CursorId, Expr::value(to.id.0))
            .filter(C::Id.eq(endpoint.0))
            .filter(C::CursorTxn.eq(from.txn))
            .filter(C::CursorId.eq(from.id.0))
            .filter(C::DisabledAt.is_null())
            .exec(&tx.txn)
            .await
            .db()?;
        if moved.rows_affected == 0 {
            tx.txn.rollback().await.db()?;
            return Ok(false);
        }
        if !deliveries.is_empty() {
            let rows = deliveries.into_iter().map(|d| webhook_delivery::ActiveModel {
                endpoint_id: Set(endpoint.0),
                message_id: Set(message_id(endpoint, d.change)),
                change_id: Set(d.change.0),
                payload: Set(d.payload),
                status: Set(DeliveryStatus::Pending.as_str().to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_error: Set(None),
                last_status_code: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                delivered_at: Set(None),
                ..Default::default()
            });
            let keep = OnConflict::columns([webhook_delivery::Column::EndpointId, webhook_delivery::Column::ChangeId])
                .do_nothing()
                .to_owned();
            webhook_delivery::Entity::insert_many(rows).on_conflict(keep).try_insert().exec(&tx.txn).await.db()?;
        }
        tx.txn.commit().await.db()?;
        Ok(true)
    }

    async fn claim_due(&self, now: DateTime<Utc>, limit: u32, lease: Duration) -> Result<Vec<WebhookDelivery>> {
        let until = now + chrono::Duration::from_std(lease).map_err(Error::internal)?;
        let backend = self.db.get_database_backend();
        let sql = match backend {
            DatabaseBackend::Postgres => {
                "UPDATE webhook_deliveries SET next_attempt_at = $1, updated_at = $2 WHERE id IN (\
                 SELECT id FROM webhook_deliveries WHERE status = 'PENDING' AND next_attempt_at <= $2 \
                 ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *"
            }
            _ => {
                "UPDATE webhook_deliveries SET next_attempt_at = ?1, updated_at = ?2 WHERE id IN (\
                 SELECT id FROM webhook_deliveries WHERE status = 'PENDING' AND next_attempt_at <= ?2 \
                 ORDER BY next_attempt_at, id LIMIT ?3) RETURNING *"
            }
        };
        let statement =
            Statement::from_sql_and_values(backend, sql, [until.into(), now.into(), i64::from(limit).into()]);
        let _writer = self.sqlite_writer().await;
        let rows = webhook_delivery::Entity::find().from_raw_sql(statement).all(&self.db).await.db()?;
        rows.into_iter().map(to_delivery).collect()
    }

    async fn record_attempt(&self, id: DeliveryId, record: AttemptRecord) -> Result<()> {
        use webhook_delivery::Column as C;
        let _writer = self.sqlite_writer().await;
        webhook_delivery::Entity::update_many()
            .col_expr(C::Status, Expr::value(record.status.as_str()))
            .col_expr(C::Attempts, Expr::value(i32::try_from(record.attempts).unwrap_or(i32::MAX)))
            .col_expr(C::NextAttemptAt, Expr::value(record.next_attempt_at))
            .col_expr(C::LastError, Expr::value(record.last_error))
            .col_expr(C::LastStatusCode, Expr::value(record.last_status_code.map(i32::from)))
            .col_expr(C::DeliveredAt, Expr::value(record.delivered_at))
            .col_expr(C::UpdatedAt, Expr::value(record.at))
            .filter(C::Id.eq(id.0))
            .exec(&self.db)
            .await
            .db()?;
        Ok(())
    }

    async fn requeue_failed(&self, id: DeliveryId, now: DateTime<Utc>) -> Result<Option<WebhookDelivery>> {
        use webhook_delivery::Column as C;
        let _writer = self.sqlite_writer().await;
        webhook_delivery::Entity::update_many()
            .col_expr(C::Status, Expr::value(DeliveryStatus::Pending.as_str()))
            .col_expr(C::Attempts, Expr::value(0))
            .col_expr(C::NextAttemptAt, Expr::value(now))
            .col_expr(C::UpdatedAt, Expr::value(now))
            .filter(C::Id.eq(id.0))
            .filter(C::Status.eq(DeliveryStatus::Failed.as_str()))
            .exec(&self.db)
            .await
            .db()?;
        self.delivery(id).await
    }

    async fn deliveries(
        &self,
        filter: DeliveryFilter,
        after: Option<DeliveryId>,
        size: u32,
    ) -> Result<(Vec<WebhookDelivery>, bool)> {
        use webhook_delivery::Column as C;
        let mut q = webhook_delivery::Entity::find();
        if let Some(endpoint) = filter.endpoint {
            q = q.filter(C::EndpointId.eq(endpoint.0));
        }
        if let Some(status) = filter.status {
            q = q.filter(C::Status.eq(status.as_str()));
        }
        if let Some(after) = after {
            q = q.filter(C::Id.lt(after.0));
        }
        let mut rows = q.order_by_desc(C::Id).limit(u64::from(size) + 1).all(&self.db).await.db()?;
        let more = rows.len() > size as usize;
        rows.truncate(size as usize);
        Ok((rows.into_iter().map(to_delivery).collect::<Result<_>>()?, more))
    }
}
