//! Signed export links: `exportUrl` hands out a relative URL of a spreadsheet export that a
//! browser can open without a bearer header (see `crate::export::signed`).

use async_graphql::{Context, Enum, Object};
use workplan_domain::access::Viewer;
use workplan_domain::usecases::supervise::scheduled;

use super::rollup::RollupDimension;
use crate::config::ApiConfig;
use crate::context::{clock, periods, scope, viewer};
use crate::error::{GqlResultExt, internal};
use crate::export::ExportRequest;
use crate::export::signed::{Link, Signer, expiry};

/// What a spreadsheet export holds.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::export::ExportKind")]
pub(crate) enum ExportKind {
    /// The reporting matrix of a period: one row per obligation, with the task, the party
    /// (code, English and Chinese name), its role, the state, the due date, whether it was on
    /// time, the days late and the report's ID (when the caller may see the report).
    ReportingMatrix,
    /// A rollup of a period: one row per group (section, subsection, agency and role, or
    /// province) with its task statuses, obligation states, mean percent complete, on-time
    /// rate and pending reviews.
    Rollup,
}

/// The file format of a spreadsheet export.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::export::ExportFormat")]
pub(crate) enum ExportFormat {
    /// Comma-separated values, UTF-8 with a byte-order mark so Excel reads Chinese names
    /// correctly; times in RFC 3339 with +08:00.
    Csv,
    /// An Excel workbook: a bold, frozen header row, numbers as numbers and times as
    /// date-times in China Standard Time.
    Xlsx,
}

/// Spreadsheet export links.
#[derive(Default)]
pub(crate) struct ExportQueryRoot;

/// Spreadsheet export links.
#[Object]
impl ExportQueryRoot {
    /// A signed, relative URL that downloads a spreadsheet of a scheduled period, e.g.
    /// `/export/reporting-matrix.xlsx?period=2016-Q4&expires=…&token=…&sig=…`: for links
    /// opened in a browser, which send no bearer header (API clients can also call
    /// `GET /export/…` with their bearer token). The link works for 5 minutes, with the rights
    /// of the caller who asked for it — checked again at download, so a revoked or expired
    /// token's links stop working — or as an anonymous caller when an anonymous caller asked
    /// (the matrix then shows a report's ID only when it is ACCEPTED). It is signed over every
    /// parameter: changing the kind, format, period, dimension, expiry or token makes it
    /// fail. A malformed period or a missing or extra `by` is BAD_USER_INPUT; a period that is
    /// not scheduled is NOT_FOUND.
    async fn export_url(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to export.")] kind: ExportKind,
        #[graphql(desc = "The scheduled period's key, e.g. \"2016-Q4\".")] period: String,
        #[graphql(desc = "What a rollup groups by: required for ROLLUP, refused for REPORTING_MATRIX.")] by: Option<
            RollupDimension,
        >,
        #[graphql(desc = "CSV or XLSX.")] format: ExportFormat,
    ) -> async_graphql::Result<String> {
        // Anyone who may read may export; anonymous callers only while public reading is on.
        scope(ctx)?;
        let by = by.map(|b| workplan_domain::supervision::RollupDimension::from(b).as_str().to_ascii_lowercase());
        let request = ExportRequest::new(kind.into(), format.into(), Some(&period), by.as_deref()).gql()?;
        let period = scheduled(periods(ctx)?.as_ref(), &request.period, "period").await.gql()?.period.to_string();
        let key = ctx.data::<ApiConfig>().map_err(|_| internal())?.export_signing_key().gql()?;
        let signer = match viewer(ctx) {
            Viewer::Token(p) => Some(Signer { name: &p.name, token: p.token }),
            Viewer::Anonymous => None,
        };
        let link = Link {
            kind: request.kind,
            format: request.format,
            period: &period,
            by: by.as_deref(),
            expires: expiry(clock(ctx).now()),
            signer,
        };
        Ok(link.url(&key))
    }
}
