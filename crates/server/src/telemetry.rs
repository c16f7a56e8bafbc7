//! Logging and tracing through `tracing`: human-readable by default, JSON on request; `RUST_LOG`
//! filters the logs. Spans follow the OpenTelemetry conventions (the HTTP server span is made
//! in `workplan_api::http`, database spans by SeaORM) and carry W3C trace context: an incoming
//! `traceparent` is continued, and every span has a trace id, which JSON logs show (the HTTP
//! span's `trace_id` field). The standard `OTEL_*` variables decide where spans go
//! ([`otel_env`]): over OTLP/HTTP with protobuf when an endpoint is configured (or
//! `OTEL_TRACES_EXPORTER=otlp`), nowhere otherwise, and with `OTEL_SDK_DISABLED=true` there is no
//! OpenTelemetry at all. async-graphql's own spans — one per resolved field, one per DataLoader
//! call — are there only with `--trace-fields` ([`library_spans`]).

mod export_errors;
pub mod otel_env;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::filter::{FilterExt as _, FilterFn, LevelFilter, Targets, filter_fn};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

pub use export_errors::ReportingExporter;
pub use otel_env::{OtelEnvError, OtelMode};

/// The target of the HTTP server span (`workplan_api::http`'s `observe.rs`).
const HTTP_SPAN_TARGET: &str = axum_tracing_opentelemetry::tracing_opentelemetry_instrumentation_sdk::TRACING_TARGET;

/// The log filter when `RUST_LOG` is not set.
const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// For people.
    Human,
    /// One JSON object per line, for collectors.
    Json,
}

/// Keeps the tracer provider alive; flushes the exporter when dropped.
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

/// Which spans may reach the subscriber: async-graphql's own only when `trace_fields` asks for
/// them, whatever `RUST_LOG` says. Besides the field spans of its `Tracing` extension (which
/// the schema registers only then), its DataLoader opens a span on every `load_one` — hundreds
/// for one dashboard —, each costing CPU whenever the level lets it through. Refused here, their
/// callsites are never enabled, which costs nothing per call. Every other span and event is
/// left to the log filter.
pub fn library_spans(trace_fields: bool) -> FilterFn<impl Fn(&tracing::Metadata<'_>) -> bool + Clone> {
    filter_fn(move |meta| trace_fields || !(meta.is_span() && meta.target().starts_with("async_graphql")))
}

/// Where OTLP spans go, for log lines: the traces endpoint as the exporter resolves it, without
/// any user and password.
fn export_target() -> String {
    let var = |k: &str| std::env::var(k).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let target = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT").map(|e| format!("{}/v1/traces", e.trim_end_matches('/'))))
        .unwrap_or_else(|| "http://localhost:4318/v1/traces".into());
    match (target.find("://"), target.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…@{}", &target[..scheme], &target[at + 1..]),
        _ => target,
    }
}

/// The tracer provider for `mode`: exporting over OTLP, or only handing out trace ids (a
/// sampler that records nothing: trace ids in logs and the propagated context cost no export).
fn provider(mode: OtelMode) -> anyhow::Result<Option<SdkTracerProvider>> {
    let mut resource = opentelemetry_sdk::Resource::builder()
        .with_attribute(opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if !otel_env::service_name_from_env() {
        resource = resource.with_service_name("workplan");
    }
    let builder = SdkTracerProvider::builder().with_resource(resource.build());
    Ok(match mode {
        OtelMode::Disabled => None,
        OtelMode::NotExported => Some(builder.with_sampler(Sampler::AlwaysOff).build()),
        OtelMode::Otlp => {
            let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().build()?;
            let exporter = ReportingExporter::new(exporter, export_target());
            Some(builder.with_batch_exporter(exporter).build())
        }
    })
}

/// Installs the global subscriber, writing logs to stderr (stdout is for command output), with
/// OpenTelemetry as `mode` says (see [`OtelMode::from_env`]); async-graphql's spans only with
/// `trace_fields` ([`library_spans`]).
///
/// `RUST_LOG` filters the logs only: the spans that reach OpenTelemetry are those at INFO and
/// above when exporting (HTTP, GraphQL and database spans), and only the HTTP server span —
/// which carries the trace id into the logs — when not.
///
/// # Errors
/// When the OTLP exporter cannot be built from the `OTEL_*` variables.
pub fn init(format: LogFormat, trace_fields: bool, mode: OtelMode) -> anyhow::Result<Telemetry> {
    // The OTLP exporter's HTTP client needs the TLS provider (see `install_crypto_provider`).
    workplan_api::webhook::client::install_crypto_provider();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    // The HTTP server span whatever the level: it writes no line of its own, and it carries the
    // trace id and request id into every line logged while a request runs.
    let filter = match format!("{HTTP_SPAN_TARGET}=info").parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    };
    let provider = provider(mode)?;
    if provider.is_some() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    }
    let otel = provider.as_ref().map(|p| {
        let spans = if mode == OtelMode::Otlp {
            Targets::new().with_default(LevelFilter::INFO)
        } else {
            Targets::new().with_target(HTTP_SPAN_TARGET, LevelFilter::INFO)
        };
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("workplan"))
            .with_filter(spans.and(library_spans(trace_fields)))
    });
    // Each layer has its own filter, and nothing else: a span no layer wants is never created
    // (a global filter layer passing everything would create every TRACE span of every crate).
    let logs = filter.and(library_spans(trace_fields));
    let registry = tracing_subscriber::registry().with(otel);
    let result = match format {
        LogFormat::Human => {
            registry.with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(logs)).try_init()
        }
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().with_writer(std::io::stderr).with_filter(logs))
            .try_init(),
    };
    // A subscriber is already set (e.g. in tests): keep it.
    drop(result);
    if mode == OtelMode::Otlp {
        tracing::info!(target = %export_target(), "exporting traces over OTLP/HTTP");
    }
    Ok(Telemetry { provider })
}
