//! The delivery worker each replica runs: it wakes when reports change (a
//! `reports` (`Topic::Reports`) announcement, from any replica) and every `poll`, enqueues the changes
//! each endpoint has not looked at yet, then claims the deliveries that are due and sends them.
//!
//! Enqueuing reads the feed as the endpoint's token would (its kinds ∩ its token's read
//! rights; nothing once the token is revoked or expired) and moves the endpoint's cursor in
//! the same transaction as the deliveries it inserts; claims are exclusive between replicas
//! (see the [`WebhookStore`] port). Together: every change an endpoint may read is delivered
//! to it once, by one replica, until a 2xx answer or the retry schedule is spent.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use workplan_domain::Result;
use workplan_domain::access::{Principal, Viewer};
use workplan_domain::ports::{Clock, Notifier, PlanReader, Ports, ReportReader, TokenStore, WebhookStore};
use workplan_domain::token::ApiToken;
use workplan_domain::webhook::{
    AttemptOutcome, EndpointId, NewDelivery, WebhookDelivery, WebhookEndpoint, delivery_scope,
};

use super::WebhookSettings;
use super::client::{Sender, Signed};
use super::payload::{actors, payload};
use super::signature::sign_with_each;

/// Changes read from the feed per page while enqueuing.
const FEED_PAGE: u32 = 200;
/// Deliveries claimed at once.
const CLAIM_BATCH: u32 = 32;
/// Deliveries sent at once.
const IN_FLIGHT: usize = 16;

/// Enqueues and delivers webhooks.
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn WebhookStore>,
    reports: Arc<dyn ReportReader>,
    tokens: Arc<dyn TokenStore>,
    plan: Arc<dyn PlanReader>,
    clock: Arc<dyn Clock>,
    settings: WebhookSettings,
    sender: Sender,
}

impl Worker {
    /// A worker over the store's webhooks, change feed, tokens and plan (for reporters'
    /// names).
    ///
    /// # Errors
    /// INTERNAL when the HTTP client cannot be built.
    pub fn new(ports: &Ports, clock: Arc<dyn Clock>, settings: WebhookSettings) -> Result<Self> {
        let sender = Sender::new(&settings)?;
        Ok(Self {
            store: ports.webhooks.clone(),
            reports: ports.reports.clone(),
            tokens: ports.tokens.clone(),
            plan: ports.plan.clone(),
            clock,
            settings,
            sender,
        })
    }

    /// The worker's loop, to spawn (it runs until dropped): a round on every announcement
    /// that reports changed (or that announcements were missed) and every `poll`. It
    /// subscribes to `notifier` at once, so nothing announced after this call is missed.
    pub fn run(self, notifier: &dyn Notifier) -> impl Future<Output = ()> + Send + 'static {
        let mut notices = notifier.subscribe();
        async move {
            let mut tick = tokio::time::interval(self.settings.poll);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                crate::report_wake::reports_may_have_changed(&mut notices, &mut tick).await;
                if let Err(error) = self.round().await {
                    tracing::warn!(error = %error, "webhook round failed; will retry");
                }
            }
        }
    }

    /// One round: enqueue what is new, then send what is due.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn round(&self) -> Result<()> {
        let endpoints = self.store.endpoints().await?;
        if endpoints.is_empty() {
            return Ok(());
        }
        let tokens: HashMap<_, _> = self.tokens.tokens().await?.into_iter().map(|t| (t.id, t)).collect();
        for endpoint in endpoints.iter().filter(|e| e.is_enabled()) {
            if let Some(token) = tokens.get(&endpoint.token) {
                self.enqueue(endpoint, token).await?;
            }
        }
        self.deliver_due().await
    }

    /// Enqueues the changes after the endpoint's cursor that it wants and its token may read.
    async fn enqueue(&self, endpoint: &WebhookEndpoint, token: &ApiToken) -> Result<()> {
        let Some(scope) = delivery_scope(token, self.clock.now()) else { return Ok(()) };
        let viewer = Viewer::Token(Principal::from(token));
        let mut cursor = endpoint.cursor;
        loop {
            let (mut changes, more) = self.reports.list_changes(Some(cursor), FEED_PAGE, &scope).await?;
            let Some(last) = changes.last().map(|c| c.position) else { return Ok(()) };
            changes.retain(|c| endpoint.receives(c.kind));
            let actors = actors(self.plan.as_ref(), &viewer, &changes).await?;
            let deliveries = changes
                .iter()
                .zip(&actors)
                .map(|(c, actor)| NewDelivery { change: c.id, payload: payload(c, actor) })
                .collect();
            // Another replica moved the cursor first: it enqueues these.
            if !self.store.enqueue(endpoint.id, cursor, last, deliveries, self.clock.now()).await? {
                return Ok(());
            }
            cursor = last;
            if !more {
                return Ok(());
            }
        }
    }

    /// Claims and sends due deliveries until none are left.
    async fn deliver_due(&self) -> Result<()> {
        // Long enough that an attempt ends (it times out) before another replica may claim it.
        let lease = self.settings.timeout.saturating_mul(3).max(Duration::from_secs(30));
        loop {
            let claimed = self.store.claim_due(self.clock.now(), CLAIM_BATCH, lease).await?;
            if claimed.is_empty() {
                return Ok(());
            }
            let full = claimed.len() == CLAIM_BATCH as usize;
            // Read after the claim, so an endpoint registered (or a token revoked) since the
            // round began is seen as it is now.
            let endpoints: HashMap<EndpointId, WebhookEndpoint> =
                self.store.endpoints().await?.into_iter().map(|e| (e.id, e)).collect();
            let tokens: HashMap<_, _> = self.tokens.tokens().await?.into_iter().map(|t| (t.id, t)).collect();
            let results: Vec<Result<()>> = futures::stream::iter(claimed)
                .map(|d| self.attempt(d, &endpoints, &tokens))
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            results.into_iter().collect::<Result<()>>()?;
            if !full {
                return Ok(());
            }
        }
    }

    /// Sends one delivery (unless it may no longer go out) and records the outcome.
    async fn attempt(
        &self,
        delivery: WebhookDelivery,
        endpoints: &HashMap<EndpointId, WebhookEndpoint>,
        tokens: &HashMap<workplan_domain::ids::TokenId, ApiToken>,
    ) -> Result<()> {
        let now = self.clock.now();
        let endpoint = endpoints.get(&delivery.endpoint).filter(|e| e.is_enabled());
        let live = endpoint.filter(|e| tokens.get(&e.token).and_then(|t| delivery_scope(t, now)).is_some());
        let outcome = match (endpoint, live) {
            (None, _) => AttemptOutcome::Abandoned { error: "the endpoint was disabled".to_owned() },
            (Some(_), None) => {
                AttemptOutcome::Abandoned { error: "the endpoint's token was revoked or has expired".to_owned() }
            }
            (Some(_), Some(endpoint)) => {
                let timestamp = now.timestamp();
                let secrets = endpoint.signing_secrets(now);
                let signature = sign_with_each(&secrets, &delivery.message_id, timestamp, &delivery.payload)?;
                let request = Signed {
                    url: &endpoint.url,
                    id: &delivery.message_id,
                    timestamp,
                    signature: &signature,
                    body: &delivery.payload,
                };
                self.sender.send(request).await
            }
        };
        if let AttemptOutcome::Refused { error, .. } = &outcome {
            tracing::info!(webhook = delivery.endpoint.0, id = %delivery.message_id, error = %error, "webhook attempt failed");
        }
        let record = delivery.after_attempt(outcome, self.clock.now(), self.settings.retry);
        self.store.record_attempt(delivery.id, record).await
    }
}
