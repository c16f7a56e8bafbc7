//! Webhooks: registering an endpoint (its signing secret is shown once), disabling and
//! enabling it, rotating its secret, sending a failed delivery again, and listing endpoints
//! and their deliveries. ADMIN only.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use workplan_domain::ids::TokenId;
use workplan_domain::webhook::{
    DeliveryFilter, DeliveryId, EndpointId, NewWebhookEndpoint, Resume, can_manage_webhooks, check_kinds, check_retry,
    secret_overlap, webhook_url,
};

use super::changes::ChangeKind;
use crate::config::ApiConfig;
use crate::connection::PageInfo;
use crate::context::{clock, tokens, viewer, webhooks};
use crate::error::{GqlResultExt, bad_input, internal};
use crate::ids::{self, Kind};
use crate::webhook::client::checked_addresses;
use crate::webhook::signature::new_secret;

/// Where a webhook delivery stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::webhook::DeliveryStatus")]
pub enum WebhookDeliveryStatus {
    /// Not yet accepted: tried again at `nextAttemptAt`.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: every attempt of the retry schedule failed, or the endpoint was disabled or
    /// its token revoked or expired.
    Failed,
}

/// A registered webhook endpoint (never its secret).
pub(crate) struct WebhookEndpoint(pub workplan_domain::webhook::WebhookEndpoint);

/// A webhook endpoint: where changes are POSTed, which kinds, and whose read rights bound them.
#[Object]
impl WebhookEndpoint {
    /// The endpoint's ID (for disabling it and filtering deliveries).
    async fn id(&self) -> ID {
        ids::encode(Kind::WebhookEndpoint, self.0.id.0)
    }

    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The change kinds it receives.
    async fn kinds(&self) -> Vec<ChangeKind> {
        self.0.kinds.iter().map(|k| (*k).into()).collect()
    }

    /// The ID of the API token whose read rights bound what it receives; once that token is
    /// revoked or expires, nothing more is delivered.
    async fn token_id(&self) -> ID {
        ids::encode(Kind::ApiToken, self.0.token.0)
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was disabled, if it is.
    async fn disabled_at(&self) -> Option<DateTime<Utc>> {
        self.0.disabled_at
    }

    /// While the secret the last rotation replaced still signs deliveries (beside the new
    /// one): when it stops. Null when only the current secret signs.
    async fn previous_secret_until(&self, ctx: &Context<'_>) -> Option<DateTime<Utc>> {
        let now = clock(ctx).now();
        self.0.previous_secret.as_ref().map(|p| p.until).filter(|until| *until > now)
    }
}

/// One change sent (or being sent) to one endpoint.
#[derive(Clone)]
pub(crate) struct WebhookDelivery(workplan_domain::webhook::WebhookDelivery);

/// One change sent (or being sent) to one endpoint, with its attempts.
#[Object]
impl WebhookDelivery {
    /// The delivery's ID (for `retryWebhookDelivery`).
    async fn id(&self) -> ID {
        ids::encode(Kind::WebhookDelivery, self.0.id.0)
    }

    /// Its `webhook-id`: the same on every attempt, so receivers drop repeats by it.
    async fn webhook_id(&self) -> &str {
        &self.0.message_id
    }

    /// The endpoint's ID.
    async fn endpoint_id(&self) -> ID {
        ids::encode(Kind::WebhookEndpoint, self.0.endpoint.0)
    }

    /// The JSON body sent, exactly as signed.
    async fn payload(&self) -> &str {
        &self.0.payload
    }

    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        self.0.status.into()
    }

    /// Attempts made so far in its retry schedule (`retryWebhookDelivery` starts a new one).
    async fn attempts(&self) -> i32 {
        i32::try_from(self.0.attempts).unwrap_or(i32::MAX)
    }

    /// When it is next tried (meaningful while PENDING).
    async fn next_attempt_at(&self) -> DateTime<Utc> {
        self.0.next_attempt_at
    }

    /// Why the last failed attempt failed (the HTTP status, a timeout, a refused address …);
    /// kept once a later attempt succeeds.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    /// The HTTP status code of the last answer, if one came.
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code.map(i32::from)
    }

    /// When it was enqueued.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the endpoint accepted it.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
}

/// A delivery with its cursor.
#[derive(SimpleObject)]
pub(crate) struct WebhookDeliveryEdge {
    /// Pass as `after` to continue from here.
    pub cursor: String,
    /// The delivery.
    pub node: WebhookDelivery,
}

/// A page of webhook deliveries, newest first.
#[derive(SimpleObject)]
pub(crate) struct WebhookDeliveryConnection {
    /// The deliveries with their cursors.
    pub edges: Vec<WebhookDeliveryEdge>,
    /// The deliveries without cursors.
    pub nodes: Vec<WebhookDelivery>,
    /// Where this page is.
    pub page_info: PageInfo,
}

/// An endpoint to register.
#[derive(InputObject, Debug)]
pub(crate) struct RegisterWebhookInput {
    /// Where to POST deliveries: an `https` URL whose host resolves to public addresses only
    /// (unless the server runs with `--allow-private-webhooks`).
    pub url: String,
    /// The change kinds to receive (at least one).
    pub kinds: Vec<ChangeKind>,
    /// The ID of the API token whose read rights bound what the endpoint receives: it is told
    /// only of changes that token could read in `changes` (an AGENCY_REPORTER or
    /// PROVINCE_REPORTER token: its own reports and everyone's ACCEPTED ones; READER: every
    /// submitted report).
    pub token: ID,
}

/// A registered endpoint and its signing secret.
#[derive(SimpleObject)]
pub(crate) struct RegisterWebhookPayload {
    /// The endpoint.
    pub webhook: WebhookEndpoint,
    /// The signing secret (`whsec_…`, Standard Webhooks), shown this once: verify each
    /// delivery's `webhook-signature` with it.
    pub secret: String,
}

/// An endpoint's new signing secret.
#[derive(SimpleObject)]
pub(crate) struct RotateWebhookSecretPayload {
    /// The endpoint.
    pub webhook: WebhookEndpoint,
    /// The new signing secret (`whsec_…`), shown this once. Until `webhook.previousSecretUntil`
    /// each delivery carries a signature under the old secret too, so the receiver can switch
    /// at its own pace.
    pub secret: String,
}

/// Whether the token `id` may still bound an endpoint at `now` (neither revoked nor expired);
/// `None` when there is no such token.
async fn bounding_token_lives(
    ctx: &Context<'_>,
    id: TokenId,
    now: DateTime<Utc>,
) -> async_graphql::Result<Option<bool>> {
    let token = tokens(ctx)?.tokens().await.gql()?.into_iter().find(|t| t.id == id);
    Ok(token.map(|t| workplan_domain::webhook::delivery_scope(&t, now).is_some()))
}

/// Webhook endpoints and deliveries.
#[derive(Default)]
pub(crate) struct WebhookQueryRoot;

/// Webhook endpoints and deliveries.
#[Object]
impl WebhookQueryRoot {
    /// Every webhook endpoint (ADMIN).
    async fn webhooks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookEndpoint>> {
        can_manage_webhooks(viewer(ctx).principal().gql()?).gql()?;
        Ok(webhooks(ctx)?.endpoints().await.gql()?.into_iter().map(WebhookEndpoint).collect())
    }

    /// Webhook deliveries, newest first (ADMIN).
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Of this endpoint only.")] endpoint: Option<ID>,
        #[graphql(desc = "In this status only.")] status: Option<WebhookDeliveryStatus>,
        #[graphql(desc = "At most this many (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Continue after this cursor (a previous page's endCursor).")] after: Option<String>,
    ) -> async_graphql::Result<WebhookDeliveryConnection> {
        can_manage_webhooks(viewer(ctx).principal().gql()?).gql()?;
        let endpoint =
            endpoint.map(|id| ids::decode(Kind::WebhookEndpoint, &id, "endpoint")).transpose()?.map(EndpointId);
        let n = first.unwrap_or(20);
        let size = u32::try_from(n)
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| bad_input("first", format!("must be between 1 and 100, got {n}")))?;
        let after_id = ids::parse_cursor::<i64>("webhookDelivery", after.clone(), "after")?.map(DeliveryId);
        let filter = DeliveryFilter { endpoint, status: status.map(Into::into) };
        let (rows, more) = webhooks(ctx)?.deliveries(filter, after_id, size).await.gql()?;
        let edges: Vec<WebhookDeliveryEdge> = rows
            .into_iter()
            .map(|d| WebhookDeliveryEdge {
                cursor: ids::cursor("webhookDelivery", &d.id.0.to_string()),
                node: WebhookDelivery(d),
            })
            .collect();
        Ok(WebhookDeliveryConnection {
            page_info: PageInfo {
                has_next_page: more,
                has_previous_page: after.is_some(),
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            nodes: edges.iter().map(|e| e.node.clone()).collect(),
            edges,
        })
    }
}

/// Registering and disabling webhooks.
#[derive(Default)]
pub(crate) struct WebhookMutationRoot;

/// Registering and disabling webhooks.
#[Object]
impl WebhookMutationRoot {
    /// Registers a webhook endpoint (ADMIN): every later change of the kinds asked for that
    /// the token may read is POSTed to it, signed (Standard Webhooks; see docs/sync.md). The
    /// signing secret is in the payload, once.
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint to register.")] input: RegisterWebhookInput,
    ) -> async_graphql::Result<RegisterWebhookPayload> {
        can_manage_webhooks(viewer(ctx).principal().gql()?).gql()?;
        let rule = ctx.data::<ApiConfig>().map_err(|_| internal())?.webhooks.addresses;
        let url = webhook_url(&input.url, "input.url", rule).gql()?;
        let kinds = check_kinds(&input.kinds.iter().map(|k| (*k).into()).collect::<Vec<_>>(), "input.kinds").gql()?;
        let token = TokenId(ids::decode(Kind::ApiToken, &input.token, "input.token")?);
        let now = clock(ctx).now();
        match bounding_token_lives(ctx, token, now).await? {
            None => return Err(workplan_domain::Error::not_found("token", Some("input.token"))).gql(),
            Some(false) => return Err(bad_input("input.token", "the token is revoked or has expired")),
            Some(true) => {}
        }
        checked_addresses(&url, rule).await.map_err(|why| bad_input("input.url", why))?;
        let endpoint =
            NewWebhookEndpoint { url: url.to_string(), kinds, token, secret: new_secret().gql()?, created_at: now };
        let secret = endpoint.secret.clone();
        let webhook = webhooks(ctx)?.create_endpoint(endpoint).await.gql()?;
        Ok(RegisterWebhookPayload { webhook: WebhookEndpoint(webhook), secret })
    }

    /// Disables a webhook endpoint (ADMIN): nothing more is sent to it, and its pending
    /// deliveries are given up (FAILED). Disabling it again changes nothing.
    async fn disable_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's ID.")] id: ID,
    ) -> async_graphql::Result<WebhookEndpoint> {
        can_manage_webhooks(viewer(ctx).principal().gql()?).gql()?;
        let id = EndpointId(ids::decode(Kind::WebhookEndpoint, &id, "id")?);
        Ok(WebhookEndpoint(webhooks(ctx)?.disable_endpoint(id, clock(ctx).now()).await.gql()?))
    }

    /// Enables a disabled webhook endpoint again (ADMIN). By default it is told of changes
    /// from now on; with `deliverMissed` also of every change it would have received while it
    /// was disabled, in feed order. Deliveries given up when it was disabled stay FAILED
    /// (`retryWebhookDelivery` sends one again). Enabling an enabled endpoint changes nothing.
    /// An endpoint whose token was revoked or has expired cannot be enabled (BAD_USER_INPUT):
    /// register a new one.
    async fn enable_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's ID.")] id: ID,
        #[graphql(desc = "Also send the changes made while it was disabled (they are in the change feed \
                          either way); false when not given.")]
        deliver_missed: Option<bool>,
    ) -> async_graphql::Result<WebhookEndpoint> {
        can_manage_webhooks(viewer(ctx).principal().gql()?).gql()?;
        let id = EndpointId(ids::decode(Kind::WebhookEndpoint, &id, "id")?);
        let store = webhooks(ctx)?;
        let endpoint = store.endpoint(id).await.gql()?;
        if endpoint.is_enabled() {
            return Ok(WebhookEndpoint(endpoint));
        }
        if bounding_token_lives(ctx, endpoint.token, clock(ctx).now()).await? != Some(true) {
            return Err(bad_input("id", "the endpoint's token is revoked or has expired; register a new endpoint"));
        }
        let resume = if deliver_missed == Some(true) { Resume::WhereItStopped } else { Resume::FromNow };
        Ok(WebhookEndpoint(store.enable_endpoint(id, resume).await.gql()?))
    }

    /// Gives a webhook endpoint a new signing secret (ADMIN), shown once in the payload. The
    /// old secret keeps signing beside it for `keepPreviousHours`, so the receiver can switch
    /// without rejecting a delivery. At most two secrets sign at once: rotating again during
    /// an overlap retires the oldest at once.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's ID.")] id: ID,
        #[graphql(desc = "How long the old secret keeps signing beside the new one, in hours: 0 (stop at \
                          once) to 168; 24 when not given.")]
        keep_previous_hours: Option<i32>,
    ) -> async_graphql::Result<RotateWebhookSecretPayload> {
        can_manage_webhooks(viewer(ctx).principal().gql()?).gql()?;
        let id = EndpointId(ids::decode(Kind::WebhookEndpoint, &id, "id")?);
        let overlap = secret_overlap(keep_previous_hours, "keepPreviousHours").gql()?;
        let secret = new_secret().gql()?;
        let until = clock(ctx).now() + overlap;
        let webhook = webhooks(ctx)?.rotate_secret(id, secret.clone(), until).await.gql()?;
        Ok(RotateWebhookSecretPayload { webhook: WebhookEndpoint(webhook), secret })
    }

    /// Sends a FAILED webhook delivery again (ADMIN): it is due at once, with a new retry
    /// schedule, under the same `webhook-id`. One still PENDING is returned as it is; one the
    /// endpoint accepted is a CONFLICT. It goes out only while its endpoint is enabled and its
    /// token valid (otherwise it fails again at once, saying why).
    async fn retry_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery's ID.")] id: ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        can_manage_webhooks(viewer(ctx).principal().gql()?).gql()?;
        let id = DeliveryId(ids::decode(Kind::WebhookDelivery, &id, "id")?);
        // Only a FAILED delivery changes; one DELIVERED stays so and is refused below.
        let requeued = webhooks(ctx)?.requeue_failed(id, clock(ctx).now()).await.gql()?;
        let delivery =
            requeued.ok_or_else(|| workplan_domain::Error::not_found("webhook delivery", Some("id"))).gql()?;
        check_retry(&delivery).gql()?;
        Ok(WebhookDelivery(delivery))
    }
}
