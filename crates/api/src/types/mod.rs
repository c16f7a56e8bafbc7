//! GraphQL types: thin adapters over domain values. Each output type wraps a domain value;
//! each input converts into a domain query or command, naming the field when it is wrong.

use std::sync::Arc;

use async_graphql::{Context, Enum, SimpleObject};
use workplan_domain::ports::Store;

use crate::error::internal;
use crate::loaders::Loaders;

pub mod agency;
pub mod plan;
pub mod province;
pub mod report;
pub mod sync;
pub mod task;

/// The request's loaders.
pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Loaders> {
    ctx.data::<Loaders>().map_err(|_| internal())
}

/// The caller.
pub(crate) fn viewer<'a>(ctx: &Context<'a>) -> &'a workplan_domain::auth::Viewer {
    static ANONYMOUS: workplan_domain::auth::Viewer = workplan_domain::auth::Viewer::Anonymous;
    ctx.data::<workplan_domain::auth::Viewer>().unwrap_or(&ANONYMOUS)
}

/// Which reports the caller may read.
pub(crate) fn scope(ctx: &Context<'_>) -> async_graphql::Result<workplan_domain::page::ReportScope> {
    use crate::error::GqlResultExt;
    let public_read = ctx.data::<crate::auth::ApiConfig>().map_or(true, |c| c.public_read);
    viewer(ctx).report_scope(public_read).gql()
}

/// The store, for list queries that are not relations.
pub(crate) fn store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<dyn Store>> {
    ctx.data::<Arc<dyn Store>>().map_err(|_| internal())
}

/// Whether a task's agencies answer for it together or each for its own part.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::model::ResponsibilityMode")]
pub enum ResponsibilityMode {
    /// The agencies answer for the task together; the leads coordinate.
    Joint,
    /// "Responsible for the various tasks based on the division of responsibilities": each
    /// agency answers for its own part; the first listed still leads.
    Divided,
}

/// An agency's role on a task.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::model::Role")]
pub enum ResponsibilityRole {
    /// Leads the task: the first agency listed, or every agency the text says "take the lead".
    Lead,
    /// Takes part under the leads.
    Participant,
}

/// The kind of a provincial-level division.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::model::ProvinceKind")]
pub enum ProvinceKind {
    /// A province (省).
    Province,
    /// An autonomous region (自治区).
    AutonomousRegion,
    /// A municipality directly under the Central Government (直辖市).
    Municipality,
}

/// Where a task stands, as reported.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::model::ReportStatus")]
pub enum ReportStatus {
    /// Work has not started (0% complete).
    NotStarted,
    /// Work is under way.
    InProgress,
    /// The task is done (100% complete).
    Completed,
    /// Continuous work with no end state.
    Ongoing,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl From<OrderDirection> for workplan_domain::page::SortOrder {
    fn from(d: OrderDirection) -> Self {
        match d {
            OrderDirection::Asc => Self::Ascending,
            OrderDirection::Desc => Self::Descending,
        }
    }
}

/// Relay page information.
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page.
    pub has_previous_page: bool,
    /// The cursor of the first item of this page.
    pub start_cursor: Option<String>,
    /// The cursor of the last item of this page.
    pub end_cursor: Option<String>,
}

/// Declares a Relay connection and its edge type for a node type.
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("A page of ", $what, ".")]
        pub struct $conn {
            pub(crate) items: Vec<$node>,
            pub(crate) cursors: Vec<String>,
            pub(crate) has_next_page: bool,
            pub(crate) has_previous_page: bool,
            pub(crate) total: crate::types::Total,
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Pass as `after` or `before` to page from here.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        #[doc = concat!("A page of ", $what, ".")]
        #[async_graphql::Object]
        impl $conn {
            /// The items with their cursors.
            async fn edges(&self) -> Vec<$edge> {
                self.items
                    .iter()
                    .zip(&self.cursors)
                    .map(|(node, cursor)| $edge { cursor: cursor.clone(), node: node.clone() })
                    .collect()
            }

            /// The items, without cursors.
            async fn nodes(&self) -> &[$node] {
                &self.items
            }

            /// Where this page is in the list.
            async fn page_info(&self) -> crate::types::PageInfo {
                crate::types::PageInfo {
                    has_next_page: self.has_next_page,
                    has_previous_page: self.has_previous_page,
                    start_cursor: self.cursors.first().cloned(),
                    end_cursor: self.cursors.last().cloned(),
                }
            }

            /// How many items the whole list holds (all pages, with the filter applied).
            async fn total_count(&self, ctx: &async_graphql::Context<'_>) -> async_graphql::Result<i64> {
                self.total.resolve(ctx).await
            }
        }
    };
}
pub(crate) use connection;

/// How to count a list when a client asks for `totalCount` (only then).
#[derive(Debug, Clone)]
pub(crate) enum Total {
    Tasks(workplan_domain::page::TaskFilter),
    TasksOf(workplan_domain::page::TaskParent, i64, workplan_domain::page::TaskFilter),
    Agencies(workplan_domain::page::AgencyFilter),
    Reports(workplan_domain::page::ReportFilter),
    ReportsOf(workplan_domain::page::ReportParent, i64, workplan_domain::page::ReportFilter),
}

impl Total {
    pub(crate) async fn resolve(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        use crate::error::GqlResultExt;
        use crate::loaders::{ReportCountOf, TaskCountOf};
        match self {
            Self::Tasks(f) => store(ctx)?.count_tasks(f).await.gql(),
            Self::Agencies(f) => store(ctx)?.count_agencies(f).await.gql(),
            Self::Reports(f) => store(ctx)?.count_reports(f).await.gql(),
            Self::TasksOf(p, id, f) => {
                Ok(loaders(ctx)?.load_one(TaskCountOf(*p, *id, f.clone())).await.gql()?.unwrap_or(0))
            }
            Self::ReportsOf(p, id, f) => {
                Ok(loaders(ctx)?.load_one(ReportCountOf(*p, *id, f.clone())).await.gql()?.unwrap_or(0))
            }
        }
    }
}

/// Loads one value through the request's loader.
pub(crate) async fn load<K>(
    ctx: &Context<'_>,
    key: K,
) -> async_graphql::Result<Option<<crate::loaders::StoreLoader as async_graphql::dataloader::Loader<K>>::Value>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    crate::loaders::StoreLoader: async_graphql::dataloader::Loader<K, Error = Arc<workplan_domain::Error>>,
{
    use crate::error::GqlResultExt;
    loaders(ctx)?.load_one(key).await.gql()
}

/// Loads a value that must exist (a foreign key): a miss is an internal error.
pub(crate) async fn require<K>(
    ctx: &Context<'_>,
    key: K,
) -> async_graphql::Result<<crate::loaders::StoreLoader as async_graphql::dataloader::Loader<K>>::Value>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + std::fmt::Debug + 'static,
    crate::loaders::StoreLoader: async_graphql::dataloader::Loader<K, Error = Arc<workplan_domain::Error>>,
{
    match load(ctx, key.clone()).await? {
        Some(v) => Ok(v),
        None => {
            tracing::error!(?key, "dangling reference");
            Err(internal())
        }
    }
}

/// Validates Relay arguments and decodes cursors of list `list`.
pub(crate) fn page_request<K: std::str::FromStr>(
    list: &str,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<workplan_domain::page::PageRequest<K>> {
    use crate::error::GqlResultExt;
    let after = crate::ids::parse_cursor(list, after, "after")?;
    let before = crate::ids::parse_cursor(list, before, "before")?;
    workplan_domain::page::PageRequest::new(first, after, last, before).gql()
}
