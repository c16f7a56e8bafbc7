//! Provincial-level divisions.

use async_graphql::{Context, ID, Object};
use workplan_domain::model as m;
use workplan_domain::page::ReportParent;

use super::ProvinceKind;
use super::report::{ProgressReportConnection, ProgressReportFilter, nested, report_query};
use crate::ids::{self, Kind};

/// A provincial-level division of mainland China, which implements the plan locally.
#[derive(Clone)]
pub struct Province(pub m::Province);

/// A provincial-level division of mainland China, which implements the plan locally.
#[Object]
impl Province {
    /// The province's global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Province, self.0.id.0)
    }

    /// The GB/T 2260 code, e.g. "110000" for Beijing.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// The English name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The Chinese name.
    async fn name_zh(&self) -> &str {
        &self.0.name_zh
    }

    /// Province, autonomous region or municipality.
    async fn kind(&self) -> ProvinceKind {
        self.0.kind.into()
    }

    /// Progress reports this province submitted, newest first.
    async fn reports(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only reports matching this filter.")] filter: Option<ProgressReportFilter>,
        #[graphql(desc = "Return the first n reports (1–100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Return reports after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n reports (1–100).")] last: Option<i32>,
        #[graphql(desc = "Return reports before this cursor.")] before: Option<String>,
    ) -> async_graphql::Result<ProgressReportConnection> {
        let query = report_query(ctx, filter, first, after, last, before)?;
        nested(ctx, ReportParent::Province, self.0.id.0, query).await
    }
}
