//! Logging and tracing through `tracing`: human-readable by default, JSON on request; `RUST_LOG`
//! wins. Spans go to OpenTelemetry over OTLP (HTTP/protobuf) when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, and nowhere when it is not. async-graphql's
//! own spans — one per resolved field, one per DataLoader call — are there only with
//! `--trace-fields` ([`library_spans`]).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterFn, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people.
    Human,
    /// One JSON object per line, for collectors.
    Json,
}

/// Keeps the trace exporter alive; flushes it when dropped.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("flushing traces failed: {e}");
        }
    }
}

fn otlp_configured() -> bool {
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| !v.trim().is_empty()))
}

/// Which spans may reach the subscriber: async-graphql's own only when `trace_fields` asks for
/// them, whatever `RUST_LOG` says. Besides the field spans of its `Tracing` extension (which
/// the schema registers only then), its DataLoader opens a span on every `load_one` — hundreds
/// for one dashboard —, each costing CPU whenever the level lets it through. Refused here, their
/// callsites are never enabled, which costs nothing per call. Every other span and event is
/// left to the log filter.
pub fn library_spans(trace_fields: bool) -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool + Clone> {
    filter_fn(move |meta| trace_fields || !(meta.is_span() && meta.target().starts_with("async_graphql")))
}

/// Installs the global subscriber, writing logs to stderr (stdout is for command output), and
/// the OTLP trace exporter when an endpoint is configured; async-graphql's spans only with
/// `trace_fields` ([`library_spans`]).
///
/// # Errors
/// When the OTLP exporter cannot be built from the `OTEL_*` variables.
pub fn init(format: LogFormat, trace_fields: bool) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let provider = if otlp_configured() {
        let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
        let resource = opentelemetry_sdk::Resource::builder().with_service_name("workplan").build();
        Some(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
    } else {
        None
    };
    let otel = provider.as_ref().map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("workplan")));
    let registry = tracing_subscriber::registry().with(library_spans(trace_fields)).with(filter).with(otel);
    let result = match format {
        LogFormat::Human => registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)).try_init(),
        LogFormat::Json => {
            registry.with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr)).try_init()
        }
    };
    // A subscriber is already set (e.g. in tests): keep it.
    drop(result);
    if provider.is_some() {
        tracing::info!("exporting traces over OTLP");
    }
    Ok(Telemetry { provider })
}
