//! Who is calling: anonymous, or a token with its role and scope.

use async_graphql::{Context, Object};
use workplan_domain::access::Viewer as DomainViewer;

use super::agency::Agency;
use super::province::Province;
use super::token::AccessRole;
use crate::context::{require, viewer};

/// The caller.
pub(crate) struct Viewer(pub DomainViewer);

/// Who is calling: anonymous, or a token with its role and scope.
#[Object]
impl Viewer {
    /// Whether the request carried a valid token.
    async fn authenticated(&self) -> bool {
        matches!(self.0, DomainViewer::Token(_))
    }

    /// The token's name.
    async fn name(&self) -> Option<&str> {
        match &self.0 {
            DomainViewer::Token(p) => Some(&p.name),
            DomainViewer::Anonymous => None,
        }
    }

    /// The token's role.
    async fn role(&self) -> Option<AccessRole> {
        match &self.0 {
            DomainViewer::Token(p) => Some(p.role.into()),
            DomainViewer::Anonymous => None,
        }
    }

    /// The agency an AGENCY_REPORTER token reports for.
    async fn agency(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Agency>> {
        match &self.0 {
            DomainViewer::Token(p) => match p.agency {
                Some(id) => Ok(Some(Agency(require(ctx, id).await?))),
                None => Ok(None),
            },
            DomainViewer::Anonymous => Ok(None),
        }
    }

    /// The province a PROVINCE_REPORTER token reports for.
    async fn province(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Province>> {
        match &self.0 {
            DomainViewer::Token(p) => match p.province {
                Some(id) => Ok(Some(Province(require(ctx, id).await?))),
                None => Ok(None),
            },
            DomainViewer::Anonymous => Ok(None),
        }
    }

    /// A reporter token's own obligations — its to-do list — of `period`, or of every
    /// scheduled period, by period then task number; empty for a token that reports for no
    /// agency or province, and for anonymous callers.
    async fn obligations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The scheduled period's key; absent for every scheduled period.")] period: Option<String>,
        #[graphql(desc = "Only obligations in these states (all when absent or empty).")] states: Option<
            Vec<super::obligation::ObligationState>,
        >,
    ) -> async_graphql::Result<Vec<super::obligation::Obligation>> {
        super::obligation::own_obligations(ctx, self.party(), period, states).await
    }
}

impl Viewer {
    fn party(&self) -> Option<workplan_domain::report::Reporter> {
        match &self.0 {
            DomainViewer::Token(p) => p.own_reporter(),
            DomainViewer::Anonymous => None,
        }
    }
}

/// Who is calling.
#[derive(Default)]
pub(crate) struct ViewerQueryRoot;

/// Who is calling.
#[Object]
impl ViewerQueryRoot {
    /// Who is calling: anonymous, or a token with its role and scope.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(viewer(ctx).clone())
    }
}
