//! Webhooks: endpoints that systems unable to hold a socket register to be told of the changes
//! they may read, and the signed deliveries to them (the Standard Webhooks specification).
//!
//! Pure rules: which URL an endpoint may have ([`endpoint`]), which addresses it may resolve
//! to ([`address`]), which changes it receives ([`endpoint::WebhookEndpoint::receives`] and
//! [`endpoint::delivery_scope`]), and when a failed delivery is tried again ([`backoff`]). The
//! worker that enqueues, claims and sends lives in the API; the tables in persistence.

pub mod address;
pub mod backoff;
pub mod delivery;
pub mod endpoint;

pub use address::{AddressRule, forbidden_reason};
pub use backoff::RetrySchedule;
pub use delivery::{
    AttemptOutcome, AttemptRecord, DeliveryFilter, DeliveryId, DeliveryStatus, NewDelivery, WebhookDelivery,
    check_retry, message_id,
};
pub use endpoint::{
    EndpointId, NewWebhookEndpoint, Resume, RetiringSecret, SECRET_PREFIX, WebhookEndpoint, can_manage_webhooks,
    check_kinds, delivery_scope, secret_overlap, webhook_url,
};
