//! Prometheus metrics (`GET /metrics`, in OpenMetrics text or the Prometheus text format 0.0.4 as
//! the scraper asks: `metrics/exposition.rs`): requests by operation and outcome, latency histograms,
//! HTTP responses by route and status, requests rejected by limit, the parsed-document cache and
//! persisted queries, the database pool and statements, sync items by outcome, the build and
//! the process (`metrics/process.rs`). Every series whose labels are known in advance is there from
//! start-up at zero, so a dashboard or an alert on it never starts from a missing series.

mod exposition;
mod process;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use workplan_domain::ports::PoolStats;

pub use exposition::Exposition;

/// The limits a request can be refused by (`workplan_requests_rejected_total{limit}`); each
/// series is there at zero from start-up.
const LIMITS: [&str; 13] = [
    "requests",
    "maxOperations",
    "bodyTimeout",
    "maxBodyBytes",
    "maxDocumentBytes",
    "maxTokens",
    "maxNesting",
    "noNul",
    "maxAliases",
    "maxRootFields",
    "webSocketMessage",
    "webSocketOperations",
    "webSocketSubscriptions",
];
/// Batch sync outcomes (`workplan_sync_items_total{outcome}`).
const SYNC_OUTCOMES: [&str; 4] = ["CREATED", "UPDATED", "UNCHANGED", "REJECTED"];
/// Parsed-document cache results.
const DOCUMENT_RESULTS: [&str; 2] = ["hit", "miss"];
/// Apollo persisted-query results.
const PERSISTED_RESULTS: [&str; 4] = ["hit", "not_found", "registered", "mismatch"];
/// GraphQL operation types, and the outcomes of a request (`http/respond.rs`'s `classify`).
const OPERATION_TYPES: [&str; 3] = ["query", "mutation", "subscription"];
const OUTCOMES: [&str; 4] = ["ok", "error", "invalid", "rate_limited"];
/// The statuses `/graphql` answers with, there at zero from start-up; others appear when first
/// answered.
const GRAPHQL_STATUSES: [u16; 8] = [200, 400, 401, 405, 413, 415, 429, 504];

/// Most distinct operation names tracked; later ones are counted as "other".
const MAX_OPERATION_NAMES: usize = 200;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation_type: String,
    operation_name: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation_type: String,
    operation_name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    /// The matched route (`/graphql`, `/export/{file}`), or "unmatched".
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// The process's figures, set from [`process::read`] at each scrape.
#[derive(Default)]
struct ProcessMetrics {
    cpu_seconds: Counter<f64, AtomicU64>,
    resident_bytes: Gauge,
    virtual_bytes: Gauge,
    open_fds: Gauge,
    max_fds: Gauge,
    start_time_seconds: Gauge,
}

impl ProcessMetrics {
    /// Registered without the service's prefix, under the names every Prometheus client uses.
    fn register(&self, registry: &mut Registry) {
        registry.register("process_cpu_seconds", "User and system CPU time spent", self.cpu_seconds.clone());
        registry.register("process_resident_memory_bytes", "Resident memory size", self.resident_bytes.clone());
        registry.register("process_virtual_memory_bytes", "Virtual memory size", self.virtual_bytes.clone());
        registry.register("process_open_fds", "Open file descriptors", self.open_fds.clone());
        registry.register("process_max_fds", "Most open file descriptors allowed", self.max_fds.clone());
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch",
            self.start_time_seconds.clone(),
        );
    }

    fn update(&self) {
        let Some(now) = process::read() else { return };
        let seen = self.cpu_seconds.get();
        if now.cpu_seconds > seen {
            self.cpu_seconds.inc_by(now.cpu_seconds - seen);
        }
        self.resident_bytes.set(now.resident_bytes);
        self.virtual_bytes.set(now.virtual_bytes);
        self.open_fds.set(now.open_fds);
        self.max_fds.set(now.max_fds);
        self.start_time_seconds.set(now.start_time_seconds);
    }
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    http: Family<HttpLabels, Counter>,
    rejected: Family<LimitLabels, Counter>,
    sync_items: Family<OutcomeLabels, Counter>,
    documents: Family<ResultLabels, Counter>,
    persisted: Family<ResultLabels, Counter>,
    pool: Family<PoolLabels, Gauge>,
    statements: Counter,
    write_retries: Counter,
    process: ProcessMetrics,
    names: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut root = Registry::default();
        let registry = root.sub_registry_with_prefix("workplan");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("graphql_requests", "GraphQL requests by operation and outcome", requests.clone());
        let latency = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register("graphql_request_duration_seconds", "GraphQL request latency", latency.clone());
        let http = Family::<HttpLabels, Counter>::default();
        registry.register("http_responses", "HTTP responses by route and status code", http.clone());
        let rejected = Family::<LimitLabels, Counter>::default();
        registry.register("requests_rejected", "Requests refused by a limit", rejected.clone());
        let sync_items = Family::<OutcomeLabels, Counter>::default();
        registry.register("sync_items", "Batch sync items by outcome", sync_items.clone());
        let documents = Family::<ResultLabels, Counter>::default();
        registry.register(
            "graphql_document_cache",
            "GraphQL documents looked up in the parsed-document cache: hit, or miss (parsed)",
            documents.clone(),
        );
        let persisted = Family::<ResultLabels, Counter>::default();
        registry.register(
            "graphql_persisted_queries",
            "Apollo persisted-query requests: hit, not_found, registered, mismatch",
            persisted.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register("db_pool_connections", "Database pool connections by state", pool.clone());
        let statements = Counter::default();
        registry.register("db_statements", "SQL statements run", statements.clone());
        let write_retries = Counter::default();
        registry.register(
            "db_write_retries",
            "Write transactions run again after the database ended them to break a deadlock",
            write_retries.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        registry.register("build_info", "The running build: 1, labelled with its version", build.clone());
        build.get_or_create(&BuildLabels { version: env!("CARGO_PKG_VERSION").into() }).set(1);
        let process = ProcessMetrics::default();
        process.register(&mut root);
        let metrics = Self {
            registry: root,
            requests,
            latency,
            http,
            rejected,
            sync_items,
            documents,
            persisted,
            pool,
            statements,
            write_retries,
            process,
            names: Mutex::new(HashSet::new()),
        };
        metrics.zeros();
        metrics
    }
}

impl Metrics {
    /// Creates every series whose labels are known in advance, at zero.
    fn zeros(&self) {
        let label = |v: &str| v.to_owned();
        for operation_type in OPERATION_TYPES {
            let operation_name = label("anonymous");
            for outcome in OUTCOMES {
                drop(self.requests.get_or_create(&RequestLabels {
                    operation_type: label(operation_type),
                    operation_name: operation_name.clone(),
                    outcome: label(outcome),
                }));
            }
            drop(
                self.latency.get_or_create(&OperationLabels { operation_type: label(operation_type), operation_name }),
            );
        }
        for status in GRAPHQL_STATUSES {
            drop(self.http.get_or_create(&HttpLabels { route: label("/graphql"), status: status.to_string() }));
        }
        for limit in LIMITS {
            drop(self.rejected.get_or_create(&LimitLabels { limit: label(limit) }));
        }
        for outcome in SYNC_OUTCOMES {
            drop(self.sync_items.get_or_create(&OutcomeLabels { outcome: label(outcome) }));
        }
        for result in DOCUMENT_RESULTS {
            drop(self.documents.get_or_create(&ResultLabels { result: label(result) }));
        }
        for result in PERSISTED_RESULTS {
            drop(self.persisted.get_or_create(&ResultLabels { result: label(result) }));
        }
        for state in ["idle", "in_use"] {
            drop(self.pool.get_or_create(&PoolLabels { state: label(state) }));
        }
    }

    /// Records an HTTP response: `route` is the matched route (`None`: no route matched).
    pub fn http_response(&self, route: Option<&str>, status: u16) {
        let route = route.unwrap_or("unmatched").to_owned();
        self.http.get_or_create(&HttpLabels { route, status: status.to_string() }).inc();
    }

    /// A bounded-cardinality label for a client-chosen operation name.
    fn name_label(&self, name: Option<&str>) -> String {
        let Some(name) = name.filter(|n| n.len() <= 64 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        else {
            return "anonymous".into();
        };
        let mut names = self.names.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if names.contains(name) || (names.len() < MAX_OPERATION_NAMES && names.insert(name.to_owned())) {
            name.to_owned()
        } else {
            "other".into()
        }
    }

    /// Records a finished GraphQL request.
    pub fn request(&self, operation_type: &str, operation_name: Option<&str>, outcome: &str, seconds: f64) {
        let operation_name = self.name_label(operation_name);
        let operation_type = operation_type.to_owned();
        self.requests
            .get_or_create(&RequestLabels {
                operation_type: operation_type.clone(),
                operation_name: operation_name.clone(),
                outcome: outcome.into(),
            })
            .inc();
        self.latency.get_or_create(&OperationLabels { operation_type, operation_name }).observe(seconds);
    }

    /// Records a request refused by `limit`.
    pub fn rejected(&self, limit: &str) {
        self.rejected.get_or_create(&LimitLabels { limit: limit.into() }).inc();
    }

    /// Records a document lookup in the parsed-document cache: `hit` or `miss`.
    pub fn document(&self, result: &str) {
        self.documents.get_or_create(&ResultLabels { result: result.into() }).inc();
    }

    /// Records an Apollo persisted-query request by its result.
    pub fn persisted(&self, result: &str) {
        self.persisted.get_or_create(&ResultLabels { result: result.into() }).inc();
    }

    /// Records batch sync items.
    pub fn sync_items(&self, outcome: &str, n: u64) {
        self.sync_items.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc_by(n);
    }

    /// The metrics in `format`, with the pool's and the process's current state.
    pub fn render(&self, pool: PoolStats, format: Exposition) -> String {
        let idle = i64::from(pool.idle);
        self.pool.get_or_create(&PoolLabels { state: "idle".into() }).set(idle);
        self.pool.get_or_create(&PoolLabels { state: "in_use".into() }).set(i64::from(pool.size) - idle);
        for (counter, total) in [(&self.statements, pool.statements), (&self.write_retries, pool.write_retries)] {
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
        self.process.update();
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        match format {
            Exposition::OpenMetrics => out,
            Exposition::Prometheus => exposition::to_prometheus_004(&out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_bounds_names() {
        let m = Metrics::default();
        m.request("query", Some("Dashboard"), "ok", 0.01);
        m.request("query", Some("bad name!"), "ok", 0.01);
        for i in 0..300 {
            m.request("query", Some(&format!("Op{i}")), "ok", 0.01);
        }
        m.rejected("maxNesting");
        m.sync_items("CREATED", 3);
        m.document("hit");
        m.persisted("not_found");
        let text = m.render(PoolStats { size: 4, idle: 3, statements: 10, write_retries: 2 }, Exposition::OpenMetrics);
        assert!(
            text.contains(
                r#"workplan_graphql_requests_total{operation_type="query",operation_name="Dashboard",outcome="ok"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"operation_name="anonymous""#));
        assert!(text.contains(r#"operation_name="other""#));
        assert!(text.contains(r#"workplan_requests_rejected_total{limit="maxNesting"} 1"#));
        assert!(text.contains(r#"workplan_sync_items_total{outcome="CREATED"} 3"#));
        assert!(text.contains(r#"workplan_graphql_document_cache_total{result="hit"} 1"#), "{text}");
        assert!(text.contains(r#"workplan_graphql_persisted_queries_total{result="not_found"} 1"#));
        assert!(text.contains(r#"workplan_db_pool_connections{state="in_use"} 1"#));
        assert!(text.contains("workplan_graphql_request_duration_seconds_bucket"));
        assert!(text.contains("workplan_db_write_retries_total 2"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn known_series_start_at_zero() {
        let m = Metrics::default();
        let text = m.render(PoolStats { size: 0, idle: 0, statements: 0, write_retries: 0 }, Exposition::Prometheus);
        for series in [
            r#"workplan_requests_rejected_total{limit="maxNesting"} 0"#,
            r#"workplan_sync_items_total{outcome="REJECTED"} 0"#,
            r#"workplan_graphql_persisted_queries_total{result="mismatch"} 0"#,
            r#"workplan_http_responses_total{route="/graphql",status="429"} 0"#,
            r#"workplan_graphql_requests_total{operation_type="mutation",operation_name="anonymous",outcome="ok"} 0"#,
            r#"workplan_build_info{version=""#,
            "# TYPE workplan_db_statements_total counter",
            "process_open_fds ",
        ] {
            assert!(text.contains(series), "{series} in {text}");
        }
        assert!(!text.contains("# EOF"));
    }
}
