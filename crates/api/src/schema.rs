//! The GraphQL schema: the area roots of `graphql/`, merged, and the builder.

use async_graphql::{MergedObject, MergedSubscription};
use workplan_domain::ports::Ports;

use crate::config::ApiConfig;
use crate::graphql::adjustment::{AdjustmentMutationRoot, AdjustmentQueryRoot};
use crate::graphql::agency::AgencyQueryRoot;
use crate::graphql::changes::ChangesQueryRoot;
use crate::graphql::edit::EditMutationRoot;
use crate::graphql::export::ExportQueryRoot;
use crate::graphql::node::NodeQueryRoot;
use crate::graphql::obligation::ObligationQueryRoot;
use crate::graphql::period::{PeriodMutationRoot, PeriodQueryRoot};
use crate::graphql::plan::PlanQueryRoot;
use crate::graphql::province::ProvinceQueryRoot;
use crate::graphql::report::{ReportMutationRoot, ReportQueryRoot};
use crate::graphql::review::{ReviewMutationRoot, ReviewQueryRoot};
use crate::graphql::rollup::RollupQueryRoot;
use crate::graphql::subscription::ObligationSubscription;
use crate::graphql::subscription::feed::FeedSubscription;
use crate::graphql::sync::SyncMutationRoot;
use crate::graphql::task::TaskQueryRoot;
use crate::graphql::token::{TokenMutationRoot, TokenQueryRoot};
use crate::graphql::viewer::ViewerQueryRoot;
use crate::graphql::webhook::{WebhookMutationRoot, WebhookQueryRoot};

// The order of the parts is the order of the fields in `schema.graphql`.

/// Every query.
#[derive(MergedObject, Default)]
pub struct Query(
    PlanQueryRoot,
    TaskQueryRoot,
    AgencyQueryRoot,
    ProvinceQueryRoot,
    PeriodQueryRoot,
    ObligationQueryRoot,
    RollupQueryRoot,
    ExportQueryRoot,
    AdjustmentQueryRoot,
    ReportQueryRoot,
    NodeQueryRoot,
    ViewerQueryRoot,
    ReviewQueryRoot,
    ChangesQueryRoot,
    TokenQueryRoot,
    WebhookQueryRoot,
);

/// Writes. Every write checks every rule first; on any error nothing is written.
#[derive(MergedObject, Default)]
pub struct Mutation(
    ReportMutationRoot,
    EditMutationRoot,
    ReviewMutationRoot,
    SyncMutationRoot,
    PeriodMutationRoot,
    AdjustmentMutationRoot,
    TokenMutationRoot,
    WebhookMutationRoot,
);

/// Every subscription (over the WebSocket at `/graphql/ws`, `graphql-transport-ws`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(FeedSubscription, ObligationSubscription);

/// The workplan schema.
pub type WorkplanSchema = async_graphql::Schema<Query, Mutation, Subscription>;

/// The schema builder with every type, and no data or limits: enough to print the SDL.
pub fn schema_builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    async_graphql::Schema::build(Query::default(), Mutation::default(), Subscription::default())
}

/// The schema serving `ports`, with `config`'s limits. Each port goes into the schema's data as
/// the narrow trait resolvers use it through (the `context` module).
pub fn build_schema(ports: &Ports, config: &ApiConfig) -> WorkplanSchema {
    let l = &config.limits;
    let judged = std::sync::Arc::new(crate::judged::Judged::default());
    let mut builder = schema_builder();
    if config.trace_fields {
        // First, so its request span holds everything the other extensions do.
        builder = builder.extension(async_graphql::extensions::Tracing);
    }
    builder = builder
        .limit_depth(l.max_depth)
        .limit_directives(l.max_directives)
        .limit_recursive_depth(l.max_nesting)
        .extension(crate::limits::LimitsExtension::new(l))
        .data(ports.plan.clone())
        .data(ports.reports.clone())
        .data(ports.writer.clone())
        .data(ports.tokens.clone())
        .data(ports.periods.clone())
        .data(ports.supervision.clone())
        .data(ports.adjustments.clone())
        .data(ports.webhooks.clone())
        .data(std::sync::Arc::new(crate::feed_follower::FeedFollower::new(
            ports.reports.clone(),
            ports.notifier.clone(),
        )))
        .data(judged.clone())
        .data(std::sync::Arc::new(crate::watch::Watch::new(ports.clone(), judged, config)));
    if !config.suggestions {
        builder = builder.disable_suggestions();
    }
    builder.finish()
}

/// The SDL clients see (`schema.graphql`).
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
