//! Objects by global ID: the `Node` interface and the `node` and `nodes` lookups.

use async_graphql::{Context, ID, Interface, Object};
use workplan_domain::ids::{AgencyId, ProvinceId, ReportId, SectionId, SubsectionId, TaskId};

use super::agency::Agency;
use super::official::seen;
use super::plan::{Plan, Section, Subsection};
use super::province::Province;
use super::report::ProgressReport;
use super::task::Task;
use crate::context::{load, plan};
use crate::error::{GqlResultExt, bad_input};
use crate::ids::{self, Kind};

/// The most IDs `nodes` takes at once.
pub(crate) const MAX_NODES: usize = 100;

/// Anything with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global ID."))]
pub(crate) enum Node {
    Plan(Plan),
    Section(Section),
    Subsection(Subsection),
    Task(Task),
    Agency(Agency),
    Province(Province),
    ProgressReport(ProgressReport),
}

/// The object with global ID `id`, if the caller may see it.
async fn node_by_id(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<Node>> {
    let Some((kind, n)) = ids::decode_any(id) else {
        return Ok(None);
    };
    Ok(match kind {
        Kind::Plan => plan(ctx)?.plan().await.gql()?.filter(|p| p.id.0 == n).map(|p| Node::Plan(Plan(p))),
        Kind::Section => load(ctx, SectionId(n)).await?.map(|v| Node::Section(Section(v))),
        Kind::Subsection => load(ctx, SubsectionId(n)).await?.map(|v| Node::Subsection(Subsection(v))),
        Kind::Task => load(ctx, TaskId(n)).await?.map(|v| Node::Task(Task(v))),
        Kind::Agency => load(ctx, AgencyId(n)).await?.map(|v| Node::Agency(Agency(v))),
        Kind::Province => load(ctx, ProvinceId(n)).await?.map(|v| Node::Province(Province(v))),
        Kind::ProgressReport => match load(ctx, ReportId(n)).await? {
            Some(r) => seen(ctx, r)?.map(Node::ProgressReport),
            None => None,
        },
        Kind::ApiToken | Kind::ObligationAdjustment | Kind::WebhookEndpoint | Kind::WebhookDelivery => None,
    })
}

/// Objects by global ID.
#[derive(Default)]
pub(crate) struct NodeQueryRoot;

/// Objects by global ID.
#[Object]
impl NodeQueryRoot {
    /// The object with this global ID, or null if there is none.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        node_by_id(ctx, &id).await
    }

    /// The objects with these global IDs (at most 100), in the same order; null where none.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(bad_input("ids", format!("at most {MAX_NODES} IDs")));
        }
        futures::future::try_join_all(ids.iter().map(|id| node_by_id(ctx, id))).await
    }
}
