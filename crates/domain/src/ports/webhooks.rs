//! The [`WebhookStore`] port: webhook endpoints, their cursors in the change feed, and the
//! deliveries the replicas claim and record.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;
use crate::report::FeedPosition;
use crate::webhook::{
    AttemptRecord, DeliveryFilter, DeliveryId, EndpointId, NewDelivery, NewWebhookEndpoint, Resume, WebhookDelivery,
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
    /// The endpoint `id`; NOT_FOUND when there is none.
    async fn endpoint(&self, id: EndpointId) -> Result<WebhookEndpoint>;
    /// Disables an endpoint at `at` (idempotent), giving up its pending deliveries (FAILED)
    /// in the same transaction. NOT_FOUND when there is none.
    async fn disable_endpoint(&self, id: EndpointId, at: DateTime<Utc>) -> Result<WebhookEndpoint>;
    /// Enables a disabled endpoint again, its cursor where `resume` says (at the end of the
    /// feed as it stands, or left where it stopped). An enabled endpoint is left as it is.
    /// NOT_FOUND when there is none.
    async fn enable_endpoint(&self, id: EndpointId, resume: Resume) -> Result<WebhookEndpoint>;
    /// Replaces an endpoint's signing secret with `secret`; the one replaced keeps signing
    /// until `previous_until` (not at all when that is not after now). NOT_FOUND when there
    /// is none.
    async fn rotate_secret(
        &self,
        id: EndpointId,
        secret: String,
        previous_until: DateTime<Utc>,
    ) -> Result<WebhookEndpoint>;
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
    /// Puts a FAILED delivery back in the queue, due at `now`, with a new retry schedule (its
    /// attempts start again from 0; its last error is kept); a delivery in another status is
    /// left as it is. Returns the delivery as it then stands, if there is one.
    async fn requeue_failed(&self, id: DeliveryId, now: DateTime<Utc>) -> Result<Option<WebhookDelivery>>;
    /// Up to `size` deliveries matching `filter` after the delivery `after`, newest first, and
    /// whether more follow.
    async fn deliveries(
        &self,
        filter: DeliveryFilter,
        after: Option<DeliveryId>,
        size: u32,
    ) -> Result<(Vec<WebhookDelivery>, bool)>;
}
