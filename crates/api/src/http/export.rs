//! `GET /export/{reporting-matrix|rollup}.{csv|xlsx}?period=…[&by=…]`: supervision as a
//! spreadsheet download, with GraphQL's read rules — a bearer token, an anonymous caller
//! while public reading is on, or a signed link from `exportUrl` ([`crate::export::signed`]).
//! Errors are GraphQL-shaped JSON bodies with the status their code calls for.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tracing::Instrument as _;
use workplan_domain::access::Viewer;
use workplan_domain::{Error, Result};

use super::AppState;
use super::caller::{Caller, too_many_requests};
use super::respond::JSON;
use super::respond::{domain_error_response, error_response};
use crate::error::code;
use crate::export::signed::{Presented, signer_of};
use crate::export::{ExportFormat, ExportKind, ExportRequest, export};
use crate::rate::RateKey;

/// What an export costs the caller's rate-limit bucket: about what reading the whole matrix
/// of a period page by page through GraphQL costs.
const EXPORT_COST: u64 = 50_000;

/// The query string of an export.
#[derive(Debug, serde::Deserialize)]
struct ExportParams {
    period: Option<String>,
    by: Option<String>,
    expires: Option<String>,
    token: Option<String>,
    sig: Option<String>,
}

/// `GET /export/{file}`.
pub(super) async fn download(State(state): State<AppState>, caller: Caller, headers: HeaderMap, uri: Uri) -> Response {
    let file = uri.path().strip_prefix("/export/").unwrap_or_default();
    let Some((kind, format)) = parse_file(file) else {
        let message = "no such export: use /export/reporting-matrix.csv, /export/reporting-matrix.xlsx, \
                       /export/rollup.csv or /export/rollup.xlsx";
        return error_response(StatusCode::NOT_FOUND, code::NOT_FOUND, message);
    };
    let params = match Query::<ExportParams>::try_from_uri(&uri) {
        Ok(Query(p)) => p,
        Err(e) => {
            let message = format!("the query string is malformed: {}", e.body_text());
            return error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &message);
        }
    };
    // An export reads as much as a large query: it takes a turn among the operations executing
    // at once, as a GraphQL request does.
    let _turn = match &state.admission {
        Some(admission) => {
            let Ok(permit) = admission.enter().await else {
                state.metrics.rejected("maxOperations");
                return super::graphql::overloaded();
            };
            Some(permit)
        }
        None => None,
    };
    let span = tracing::info_span!("export", kind = kind.slug(), format = format.extension());
    async move {
        match run(&state, &caller, &headers, kind, format, &params).await {
            Ok(response) => response,
            Err(e) => domain_error_response(&e),
        }
    }
    .instrument(span)
    .await
}

/// `reporting-matrix.csv` → (matrix, CSV); `None` for any other file.
fn parse_file(file: &str) -> Option<(ExportKind, ExportFormat)> {
    let (name, extension) = file.rsplit_once('.')?;
    Some((ExportKind::from_slug(name)?, ExportFormat::from_extension(extension)?))
}

/// Authenticates, checks the input, charges the rate limit and exports.
async fn run(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    kind: ExportKind,
    format: ExportFormat,
    params: &ExportParams,
) -> Result<Response> {
    let now = state.clock.now();
    let viewer = who_asks(state, caller, headers, kind, format, params, now).await?;
    let scope = viewer.report_scope(state.config.public_read)?;
    let request = ExportRequest::new(kind, format, params.period.as_deref(), params.by.as_deref())?;
    if let Some(limiter) = &state.limiter
        && let Err(wait) = limiter.take(&RateKey::of(&viewer, caller.client), EXPORT_COST)
    {
        return Ok(too_many_requests(wait, JSON));
    }
    let timeout = state.config.limits.request_timeout;
    let Ok(file) = tokio::time::timeout(timeout, export(&state.ports, &request, &scope, now)).await else {
        tracing::warn!(?timeout, "export timed out");
        let message = format!("the export took longer than {} s and was stopped", timeout.as_secs_f32());
        return Ok(error_response(StatusCode::GATEWAY_TIMEOUT, code::INTERNAL, &message));
    };
    let file = file?;
    tracing::info!(rows = file.rows, bytes = file.bytes.len(), "exported");
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.filename))
        .map_err(|e| Error::internal(std::io::Error::other(e.to_string())))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(file.media_type)),
            (header::CONTENT_DISPOSITION, disposition),
            // What a caller may see depends on who asked: never shared, never kept.
            (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        file.bytes,
    )
        .into_response())
}

/// Who is asking at `now`: the signer of a signed link, else the bearer token, else an
/// anonymous caller.
async fn who_asks(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    kind: ExportKind,
    format: ExportFormat,
    params: &ExportParams,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Viewer> {
    let Some(sig) = params.sig.as_deref() else {
        if params.expires.is_some() || params.token.is_some() {
            let field = if params.expires.is_some() { "expires" } else { "token" };
            return Err(Error::validation(field, "belongs to a signed link, which needs its `sig`"));
        }
        return caller.viewer.clone();
    };
    if headers.contains_key(header::AUTHORIZATION) {
        return Err(Error::validation("sig", "send a signed link or an Authorization header, not both"));
    }
    let key = state.config.export_signing_key()?;
    let link = Presented {
        kind,
        format,
        period: params.period.as_deref().unwrap_or_default(),
        by: params.by.as_deref(),
        expires: params.expires.as_deref(),
        token: params.token.as_deref(),
        sig,
    };
    signer_of(state.ports.tokens.as_ref(), &key, link, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_four_files_exist() {
        assert_eq!(parse_file("reporting-matrix.csv"), Some((ExportKind::ReportingMatrix, ExportFormat::Csv)));
        assert_eq!(parse_file("rollup.xlsx"), Some((ExportKind::Rollup, ExportFormat::Xlsx)));
        for bad in ["rollup", "rollup.", "rollup.xls", "rollup.CSV", "matrix.csv", "a/rollup.csv", ""] {
            assert_eq!(parse_file(bad), None, "{bad}");
        }
    }
}
