//! Relay lists: page information, the connection and edge types every list declares with
//! [`connection!`], lazy `totalCount`, and the validation of Relay arguments.

use async_graphql::{Context, Enum, SimpleObject};

use crate::context::{load, plan, reports};
use crate::error::GqlResultExt;
use crate::loaders::{ReportCountOf, TaskCountOf};

/// Sort direction.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl From<OrderDirection> for workplan_domain::listing::SortOrder {
    fn from(d: OrderDirection) -> Self {
        match d {
            OrderDirection::Asc => Self::Ascending,
            OrderDirection::Desc => Self::Descending,
        }
    }
}

/// Relay page information.
#[derive(SimpleObject, Debug, Clone)]
pub(crate) struct PageInfo {
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
        pub(crate) struct $conn {
            pub(crate) items: Vec<$node>,
            pub(crate) cursors: Vec<String>,
            pub(crate) has_next_page: bool,
            pub(crate) has_previous_page: bool,
            pub(crate) total: crate::connection::Total,
        }

        #[doc = concat!("One of ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub(crate) struct $edge {
            /// Pass as `after` or `before` to page from here.
            pub(crate) cursor: String,
            /// The item.
            pub(crate) node: $node,
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
            async fn page_info(&self) -> crate::connection::PageInfo {
                crate::connection::PageInfo {
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
    Tasks(workplan_domain::listing::TaskFilter),
    TasksOf(workplan_domain::listing::TaskParent, i64, workplan_domain::listing::TaskFilter),
    Agencies(workplan_domain::listing::AgencyFilter),
    Reports(workplan_domain::listing::ReportFilter),
    ReportsOf(workplan_domain::listing::ReportParent, i64, workplan_domain::listing::ReportFilter),
}

impl Total {
    pub(crate) async fn resolve(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        match self {
            Self::Tasks(f) => plan(ctx)?.count_tasks(f).await.gql(),
            Self::Agencies(f) => plan(ctx)?.count_agencies(f).await.gql(),
            Self::Reports(f) => reports(ctx)?.count_reports(f).await.gql(),
            Self::TasksOf(p, id, f) => Ok(load(ctx, TaskCountOf(*p, *id, f.clone())).await?.unwrap_or(0)),
            Self::ReportsOf(p, id, f) => Ok(load(ctx, ReportCountOf(*p, *id, f.clone())).await?.unwrap_or(0)),
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
) -> async_graphql::Result<workplan_domain::listing::PageRequest<K>> {
    let after = crate::ids::parse_cursor(list, after, "after")?;
    let before = crate::ids::parse_cursor(list, before, "before")?;
    workplan_domain::listing::PageRequest::new(first, after, last, before).gql()
}
