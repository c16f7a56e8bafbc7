//! What a resolver takes from the request context: the ports, the loaders, the caller and the
//! reports the caller may read.

use std::sync::Arc;

use async_graphql::Context;
use workplan_domain::access::{ReportScope, Viewer};
use workplan_domain::ports::{
    AdjustmentStore, Clock, PeriodStore, PlanReader, ReportReader, ReportWriter, SupervisionReader, SystemClock,
    TokenStore, WebhookStore,
};

use crate::config::ApiConfig;
use crate::error::{GqlResultExt, internal};
use crate::loaders::{Key, Loaders};

/// The request's loaders.
pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>().map_err(|_| internal())
}

/// The caller.
pub(crate) fn viewer<'a>(ctx: &Context<'a>) -> &'a Viewer {
    static ANONYMOUS: Viewer = Viewer::Anonymous;
    ctx.data::<Viewer>().unwrap_or(&ANONYMOUS)
}

/// Which reports the caller may read.
pub(crate) fn scope(ctx: &Context<'_>) -> async_graphql::Result<ReportScope> {
    let public_read = ctx.data::<ApiConfig>().map_or(true, |c| c.public_read);
    viewer(ctx).report_scope(public_read).gql()
}

/// The plan (in memory), for lists and lookups that are not relations (those go through [`load`]).
pub(crate) fn plan<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn PlanReader>> {
    ctx.data::<Arc<dyn PlanReader>>().map_err(|_| internal())
}

/// Report lists, history and the change feed.
pub(crate) fn reports<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn ReportReader>> {
    ctx.data::<Arc<dyn ReportReader>>().map_err(|_| internal())
}

/// Report writes (through the domain's use cases).
pub(crate) fn writer<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn ReportWriter>> {
    ctx.data::<Arc<dyn ReportWriter>>().map_err(|_| internal())
}

/// API tokens.
pub(crate) fn tokens<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn TokenStore>> {
    ctx.data::<Arc<dyn TokenStore>>().map_err(|_| internal())
}

/// The reporting calendar.
pub(crate) fn periods<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn PeriodStore>> {
    ctx.data::<Arc<dyn PeriodStore>>().map_err(|_| internal())
}

/// What supervision reads of the reports (facts, accepted parts, adjustments).
pub(crate) fn supervision<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn SupervisionReader>> {
    ctx.data::<Arc<dyn SupervisionReader>>().map_err(|_| internal())
}

/// The judged obligations this replica keeps between the pages of a period's matrix.
pub(crate) fn judged<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<crate::judged::Judged>> {
    ctx.data::<Arc<crate::judged::Judged>>().map_err(|_| internal())
}

/// Exemptions and extensions (writes).
pub(crate) fn adjustments<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn AdjustmentStore>> {
    ctx.data::<Arc<dyn AdjustmentStore>>().map_err(|_| internal())
}

/// The clock writes take their time from (the system clock unless the state was given one).
pub(crate) fn clock<'a>(ctx: &Context<'a>) -> &'a dyn Clock {
    static SYSTEM: SystemClock = SystemClock;
    ctx.data::<Arc<dyn Clock>>().map_or(&SYSTEM as &dyn Clock, |c| c.as_ref())
}

/// Loads one value: a report-side key through the request's batching loader, a plan key from
/// the plan port directly (see [`crate::loaders::Key`]).
pub(crate) async fn load<K: Key>(ctx: &Context<'_>, key: K) -> async_graphql::Result<Option<K::Value>> {
    K::load(ctx, key).await
}

/// Loads a value that must exist (a foreign key): a miss is an internal error.
pub(crate) async fn require<K: Key>(ctx: &Context<'_>, key: K) -> async_graphql::Result<K::Value> {
    if let Some(v) = load(ctx, key.clone()).await? {
        Ok(v)
    } else {
        tracing::error!(?key, "dangling reference");
        Err(internal())
    }
}

/// Webhook endpoints and deliveries.
pub(crate) fn webhooks<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn WebhookStore>> {
    ctx.data::<Arc<dyn WebhookStore>>().map_err(|_| internal())
}
