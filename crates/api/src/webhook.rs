//! Webhooks: the signing of deliveries ([`signature`]), the guarded HTTP client that sends
//! them ([`client`]), their JSON bodies (`payload.rs`), and the worker each replica runs to
//! enqueue new changes and deliver what is due ([`deliver`]). The GraphQL side (registering,
//! disabling, listing) is `graphql/webhook.rs`; the rules are the domain's
//! [`workplan_domain::webhook`].

pub mod client;
pub mod deliver;
pub(crate) mod payload;
pub mod signature;

use std::time::Duration;

use workplan_domain::webhook::{AddressRule, RetrySchedule};

/// How webhooks are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Which addresses a webhook may go to (`--allow-private-webhooks` allows private ones and
    /// plain `http`).
    pub addresses: AddressRule,
    /// When failed deliveries are tried again.
    pub retry: RetrySchedule,
    /// Longest one attempt may take, connecting included.
    pub timeout: Duration,
    /// How often each replica looks for new changes and due deliveries even when no
    /// announcement came.
    pub poll: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            addresses: AddressRule::PublicOnly,
            retry: RetrySchedule::default(),
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
        }
    }
}
