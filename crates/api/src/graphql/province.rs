//! Provincial-level divisions.

use async_graphql::{Context, Enum, ID, Object};
use workplan_domain::listing::ReportParent;

use super::report::{ProgressReportConnection, reports_of_parent};
use super::report_filter::{ProgressReportFilter, report_query};
use crate::context::{load, plan};
use crate::error::{GqlResultExt, bad_input};
use crate::ids::{self, Kind};
use crate::loaders::ProvinceCode;

/// A provincial-level division of mainland China, which implements the plan locally.
#[derive(Clone)]
pub(crate) struct Province(pub workplan_domain::province::Province);

/// A provincial-level division of mainland China, which implements the plan locally.
#[Object]
impl Province {
    /// The province's global ID.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Province, self.0.id.0)
    }

    /// How well the province kept its reporting deadlines over the scheduled periods from
    /// `from` to `to` (period keys, compared by start, both inclusive; every scheduled period
    /// when absent). docs/supervision.md ("Scorecards") has the rules.
    async fn scorecard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first period, e.g. \"2016-Q1\".")] from: Option<String>,
        #[graphql(desc = "The last period, e.g. \"2016-Q4\".")] to: Option<String>,
    ) -> async_graphql::Result<super::scorecard::Scorecard> {
        let party = workplan_domain::report::Reporter::Province(self.0.id);
        super::scorecard::scorecard_of(ctx, party, from, to).await
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
        reports_of_parent(ctx, ReportParent::Province, self.0.id.0, query).await
    }
}

/// The kind of a provincial-level division.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "workplan_domain::province::ProvinceKind")]
pub enum ProvinceKind {
    /// A province (省).
    Province,
    /// An autonomous region (自治区).
    AutonomousRegion,
    /// A municipality directly under the Central Government (直辖市).
    Municipality,
}

/// Provinces.
#[derive(Default)]
pub(crate) struct ProvinceQueryRoot;

/// Provinces.
#[Object]
impl ProvinceQueryRoot {
    /// The 31 provincial-level divisions, by code.
    async fn provinces(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Province>> {
        Ok(plan(ctx)?.provinces().await.gql()?.into_iter().map(Province).collect())
    }

    /// A province by GB/T 2260 code (e.g. "440000"), or null.
    async fn province(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The six-digit GB/T 2260 code.")] code: String,
    ) -> async_graphql::Result<Option<Province>> {
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_input("code", "a GB/T 2260 code is six digits"));
        }
        Ok(load(ctx, ProvinceCode(code)).await?.map(Province))
    }
}
