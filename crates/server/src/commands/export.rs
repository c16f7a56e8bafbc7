//! `workplan export reporting-matrix|rollup`: the spreadsheets of `GET /export/…`, written
//! from the host with full rights (every report ID shown), through the same code, so the same
//! request at the same moment gives the same bytes.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use workplan_api::export::{ExportKind, ExportRequest, export};
use workplan_domain::access::ReportScope;
use workplan_domain::ports::Ports;

use crate::cli::{ExportArgs, ExportCommand, RollupExportArgs};
use crate::config::Settings;
use crate::prepare_database;

/// Runs one export against the configured database, as of now.
pub(super) async fn run(settings: &Settings, command: ExportCommand) -> anyhow::Result<()> {
    let (kind, args, by) = match &command {
        ExportCommand::ReportingMatrix(args) => (ExportKind::ReportingMatrix, args, None),
        ExportCommand::Rollup(RollupExportArgs { by, export }) => (ExportKind::Rollup, export, Some(by.as_str())),
    };
    let ExportArgs { period, format, out } = args;
    let request = ExportRequest::new(kind, (*format).into(), Some(period), by)?;
    let store = prepare_database(&settings.database_url, &settings.store_options()).await?;
    let ports = Ports::of(Arc::new(store));
    let file = export(&ports, &request, &ReportScope::All, chrono::Utc::now())
        .await
        .with_context(|| format!("exporting {} for {period} failed", kind.slug()))?;
    let out = out.clone().unwrap_or_else(|| PathBuf::from(&file.filename));
    if out.as_os_str() == "-" {
        std::io::stdout().lock().write_all(&file.bytes).context("writing to stdout failed")?;
    } else {
        std::fs::write(&out, &file.bytes).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {} rows to {}", file.rows, out.display());
    }
    Ok(())
}
