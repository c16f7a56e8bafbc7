//! Trace export failures, logged once: the first failed export is a warning with its reason;
//! later failures are quiet until an export succeeds again, which is logged too. Without this
//! a collector that is down or refuses the spans goes unnoticed (the SDK's own diagnostics are
//! off: they would log every failed batch).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// A span exporter that says when exporting starts failing and when it works again.
#[derive(Debug)]
pub struct ReportingExporter<E> {
    inner: E,
    /// Where the spans go, for the log line (never holds credentials: headers are not part of it).
    target: String,
    failing: AtomicBool,
}

impl<E> ReportingExporter<E> {
    /// Wraps `inner`, which sends to `target`.
    pub fn new(inner: E, target: String) -> Self {
        Self { inner, target, failing: AtomicBool::new(false) }
    }
}

impl<E: SpanExporter> SpanExporter for ReportingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Err(e) if !self.failing.swap(true, Ordering::Relaxed) => {
                tracing::warn!(
                    target = %self.target,
                    spans,
                    error = %e,
                    "exporting traces failed; spans are dropped, and further failures are not logged until an export succeeds"
                );
            }
            Ok(()) if self.failing.swap(false, Ordering::Relaxed) => {
                tracing::info!(target = %self.target, "exporting traces works again");
            }
            _ => {}
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
