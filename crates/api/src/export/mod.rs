//! Spreadsheet exports of supervision: the reporting matrix (`matrix.rs`) and rollups
//! (`rollup.rs`) of a scheduled period, as CSV (`csv.rs`) or XLSX (`xlsx.rs`), computed by the
//! domain with a constant number of port calls. The HTTP routes (`GET /export/…`, in
//! `http/export.rs`), the signed links GraphQL hands out ([`signed`]) and the
//! `workplan export` command all go through [`export`], so they write the same bytes.

mod csv;
mod matrix;
mod rollup;
pub mod signed;
mod table;
mod xlsx;

use chrono::{DateTime, Utc};
use workplan_domain::access::ReportScope;
use workplan_domain::ports::Ports;
use workplan_domain::report::Period;
use workplan_domain::supervision::RollupDimension;
use workplan_domain::{Error, Result};

/// What is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// One row per obligation of a period.
    ReportingMatrix,
    /// One row per group of a period's rollup.
    Rollup,
}

impl ExportKind {
    /// The kind's name in the export's path (`/export/reporting-matrix.csv`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::ReportingMatrix => "reporting-matrix",
            Self::Rollup => "rollup",
        }
    }

    /// The kind named `slug` in a path.
    pub fn from_slug(slug: &str) -> Option<Self> {
        [Self::ReportingMatrix, Self::Rollup].into_iter().find(|k| k.slug() == slug)
    }
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values, UTF-8 with a byte-order mark.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

impl ExportFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    /// The format a file extension names (lower case, without the dot).
    pub fn from_extension(extension: &str) -> Option<Self> {
        [Self::Csv, Self::Xlsx].into_iter().find(|f| f.extension() == extension)
    }

    /// The media type of the file.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// A checked export request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRequest {
    /// What to export.
    pub kind: ExportKind,
    /// In which format.
    pub format: ExportFormat,
    /// The period's key as given (checked against the calendar when the export runs).
    pub period: String,
    /// What a rollup groups by; `None` for the reporting matrix.
    pub by: Option<RollupDimension>,
}

impl ExportRequest {
    /// A request from its parts as a query string or a command line gives them: `period` is
    /// required; `by` (section, subsection, agency or province, in any case) is required for
    /// a rollup and refused for the matrix. Errors name the parameter.
    pub fn new(kind: ExportKind, format: ExportFormat, period: Option<&str>, by: Option<&str>) -> Result<Self> {
        let period = period
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| Error::validation("period", "required: a scheduled period such as 2016-Q4"))?;
        let by = match (kind, by) {
            (ExportKind::ReportingMatrix, None) => None,
            (ExportKind::ReportingMatrix, Some(_)) => {
                return Err(Error::validation("by", "only a rollup is grouped: leave `by` out of the matrix"));
            }
            (ExportKind::Rollup, by) => Some(parse_dimension(by)?),
        };
        Ok(Self { kind, format, period: period.to_owned(), by })
    }
}

/// A rollup dimension as a query string or command line spells it, in any case.
pub fn parse_dimension(by: Option<&str>) -> Result<RollupDimension> {
    let message = "required for a rollup: section, subsection, agency or province";
    let by = by.map(str::trim).filter(|b| !b.is_empty()).ok_or_else(|| Error::validation("by", message))?;
    RollupDimension::parse(&by.to_ascii_uppercase())
        .ok_or_else(|| Error::validation("by", format!("{by:?} is not one of section, subsection, agency or province")))
}

/// An exported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// Its name, e.g. `reporting-matrix-2016-Q4.csv` or `rollup-2016-Q4-by-section.xlsx`.
    pub filename: String,
    /// Its media type.
    pub media_type: &'static str,
    /// Its rows, the header not counted.
    pub rows: usize,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// Runs `request` at `now` for a caller who may read the reports in `scope` (the matrix shows
/// an obligation's report only when `scope` may read it). A malformed period is BAD_USER_INPUT
/// and an unscheduled one NOT_FOUND, both on `period`.
pub async fn export(ports: &Ports, request: &ExportRequest, scope: &ReportScope, now: DateTime<Utc>) -> Result<Export> {
    let (period, table) = match (request.kind, request.by) {
        (ExportKind::ReportingMatrix, _) => matrix::table(ports, &request.period, scope, now).await?,
        (ExportKind::Rollup, Some(by)) => rollup::table(ports, &request.period, by, now).await?,
        (ExportKind::Rollup, None) => return Err(Error::validation("by", "required for a rollup")),
    };
    let bytes = match request.format {
        ExportFormat::Csv => csv::write(&table)?,
        ExportFormat::Xlsx => xlsx::write(&table, now)?,
    };
    Ok(Export {
        filename: filename(request, period),
        media_type: request.format.media_type(),
        rows: table.rows.len(),
        bytes,
    })
}

/// The file's name: the kind, the period and (for a rollup) the dimension.
fn filename(request: &ExportRequest, period: Period) -> String {
    let by = request.by.map(|b| format!("-by-{}", b.as_str().to_ascii_lowercase())).unwrap_or_default();
    format!("{}-{period}{by}.{}", request.kind.slug(), request.format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_the_parameter_at_fault() {
        let field = |r: Result<ExportRequest>| match r {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a validation error: {other:?}"),
        };
        let (m, r, csv) = (ExportKind::ReportingMatrix, ExportKind::Rollup, ExportFormat::Csv);
        assert_eq!(field(ExportRequest::new(m, csv, None, None)), "period");
        assert_eq!(field(ExportRequest::new(m, csv, Some("  "), None)), "period");
        assert_eq!(field(ExportRequest::new(m, csv, Some("2016-Q4"), Some("section"))), "by");
        assert_eq!(field(ExportRequest::new(r, csv, Some("2016-Q4"), None)), "by");
        assert_eq!(field(ExportRequest::new(r, csv, Some("2016-Q4"), Some("county"))), "by");
        let ok = ExportRequest::new(r, ExportFormat::Xlsx, Some(" 2016-Q4 "), Some("SubSection")).expect("valid");
        assert_eq!((ok.period.as_str(), ok.by), ("2016-Q4", Some(RollupDimension::Subsection)));
        let period = Period::parse("2016-Q4").expect("key");
        assert_eq!(filename(&ok, period), "rollup-2016-Q4-by-subsection.xlsx");
        let matrix = ExportRequest::new(m, csv, Some("2016-Q4"), None).expect("valid");
        assert_eq!(filename(&matrix, period), "reporting-matrix-2016-Q4.csv");
    }

    #[test]
    fn paths_name_kinds_and_formats_exactly() {
        assert_eq!(ExportKind::from_slug("reporting-matrix"), Some(ExportKind::ReportingMatrix));
        assert_eq!(ExportKind::from_slug("matrix"), None);
        assert_eq!(ExportFormat::from_extension("xlsx"), Some(ExportFormat::Xlsx));
        assert_eq!(ExportFormat::from_extension("xls"), None);
    }
}
