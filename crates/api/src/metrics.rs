//! Prometheus metrics (`GET /metrics`, OpenMetrics text): requests by operation and outcome,
//! latency histograms, requests rejected by limit, the parsed-document cache and persisted
//! queries, the database pool, and sync items by outcome.

use std::collections::HashSet;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use workplan_domain::ports::PoolStats;

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

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    rejected: Family<LimitLabels, Counter>,
    sync_items: Family<OutcomeLabels, Counter>,
    documents: Family<ResultLabels, Counter>,
    persisted: Family<ResultLabels, Counter>,
    pool: Family<PoolLabels, Gauge>,
    statements: Counter,
    write_retries: Counter,
    names: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("workplan");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("graphql_requests", "GraphQL requests by operation and outcome", requests.clone());
        let latency = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 15))
        });
        registry.register("graphql_request_duration_seconds", "GraphQL request latency", latency.clone());
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
        Self {
            registry,
            requests,
            latency,
            rejected,
            sync_items,
            documents,
            persisted,
            pool,
            statements,
            write_retries,
            names: Mutex::new(HashSet::new()),
        }
    }
}

impl Metrics {
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

    /// The OpenMetrics text, with the pool's current state.
    pub fn render(&self, pool: PoolStats) -> String {
        let idle = i64::from(pool.idle);
        self.pool.get_or_create(&PoolLabels { state: "idle".into() }).set(idle);
        self.pool.get_or_create(&PoolLabels { state: "in_use".into() }).set(i64::from(pool.size) - idle);
        for (counter, total) in [(&self.statements, pool.statements), (&self.write_retries, pool.write_retries)] {
            let seen = counter.get();
            if total > seen {
                counter.inc_by(total - seen);
            }
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
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
        let text = m.render(PoolStats { size: 4, idle: 3, statements: 10, write_retries: 2 });
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
    }
}
