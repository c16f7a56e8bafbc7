//! The [`WebhookStore`] port: webhook endpoints, their cursors in the change feed, and the
//! deliveries the replicas claim and record.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::report::FeedPosition;
use crate::webhook::{
    AttemptRecord, DeliveryFilter, DeliveryId, EndpointId, NewDelivery, NewWebhookEndpoint, WebhookDelivery,
    WebhookEndpoint,
};

/// Stores webhook endpoints and deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Registers an endpoint, its cursor at the end of the feed as it stands (it is told of
    /// changes from now on, not of the past).
    async fn create_endpoint(&self, endpoint: NewWebhookEndpoint) -> Result<WebhookEndpoint>;
    /// Every endpoint, by id.
    async fn endpoints(&self) -> Result<Vec<WebhookEndpoint>>;
    /// Disables an endpoint at `at` (idempotent); its pending deliveries are given up when
    /// next claimed. NOT_FOUND when there is none.
    async fn disable_endpoint(&self, id: EndpointId, at: DateTime<Utc>) -> Result<WebhookEndpoint>;
    /// Moves an endpoint's cursor from `from` to `to` and enqueues `deliveries` (due at
    /// `now`), in one transaction; a delivery already enqueued for the same change is kept as
    /// it is. Does nothing and returns `false` when the cursor is no longer at `from` (another
    /// replica moved it first) or the endpoint is disabled.
    async fn enqueue(
        &self,
        endpoint: EndpointId,
        from: FeedPosition,
        to: FeedPosition,
        deliveries: Vec<NewDelivery>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Claims up to `limit` PENDING deliveries due at `now`, oldest due first, for `lease`:
    /// their next attempt moves to `now + lease`, so no other replica claims them while this
    /// one sends (a replica that dies mid-send leaves them to be claimed again after the
    /// lease). Concurrent claims never return the same delivery.
    async fn claim_due(&self, now: DateTime<Utc>, limit: u32, lease: Duration) -> Result<Vec<WebhookDelivery>>;
    /// Records an attempt's outcome.
    async fn record_attempt(&self, id: DeliveryId, record: AttemptRecord) -> Result<()>;
    /// Up to `size` deliveries matching `filter` after the delivery `after`, newest first, and
    /// whether more follow.
    async fn deliveries(
        &self,
        filter: DeliveryFilter,
        after: Option<DeliveryId>,
        size: u32,
    ) -> Result<(Vec<WebhookDelivery>, bool)>;
}
