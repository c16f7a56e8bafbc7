//! Traces and metrics of the real binary, to the conventions: a stand-in OTLP/HTTP collector on
//! an ephemeral port decodes the exported spans (protobuf) and checks that the server span
//! continues the caller's `traceparent`, with the GraphQL span and database spans beneath it;
//! `/metrics` lists the documented metrics at zero right after start, with the process and
//! build metrics, counts responses by status, and negotiates its format by `Accept`.
//!
//! The database is SQLite, or a fresh PostgreSQL database when `WORKPLAN_TEST_POSTGRES_URL` is
//! set (created and dropped with `psql`).

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{collector, free_port};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message as _;

/// A fresh database: SQLite in `dir`, or PostgreSQL when asked for (dropped on drop).
struct Db {
    url: String,
    pg: Option<(String, String)>,
}

impl Db {
    fn create(dir: &std::path::Path) -> Self {
        match std::env::var("WORKPLAN_TEST_POSTGRES_URL").ok().filter(|s| !s.is_empty()) {
            Some(server) => {
                let server = server.trim_end_matches('/').to_owned();
                let name = format!("wp_otlp_{}_{}", std::process::id(), free_port());
                psql(&server, &format!("CREATE DATABASE \"{name}\""));
                Self { url: format!("{server}/{name}"), pg: Some((server, name)) }
            }
            None => Self { url: format!("sqlite://{}?mode=rwc", dir.join("t.db").display()), pg: None },
        }
    }
}

fn psql(server: &str, sql: &str) {
    let out = Command::new("psql").args([&format!("{server}/postgres"), "-qc", sql]).output().expect("psql");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.pg {
            psql(server, &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

struct Server {
    child: Child,
    base: String,
    client: reqwest::blocking::Client,
}

impl Server {
    fn start(db: &Db, env: &[(&str, &str)]) -> Self {
        Self::start_logging(db, env, Stdio::null())
    }

    /// [`Self::start`], with the server's stderr (its logs) going to `logs`.
    fn start_logging(db: &Db, env: &[(&str, &str)], logs: Stdio) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_workplan"));
        cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--rate-limit-capacity", "0"])
            .env("DATABASE_URL", &db.url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(logs);
        for var in [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_TRACES_EXPORTER",
            "OTEL_SDK_DISABLED",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        let child = cmd.spawn().expect("spawn");
        let base = format!("http://127.0.0.1:{port}");
        workplan_api::webhook::client::install_crypto_provider();
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while client.get(format!("{base}/healthz")).send().is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, base, client }
    }

    fn stop(mut self) {
        assert!(Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill").success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "{status}");
    }

    fn metrics(&self, accept: Option<&str>) -> (String, String) {
        let mut request = self.client.get(format!("{}/metrics", self.base));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().expect("metrics");
        assert!(response.status().is_success());
        let media = response.headers()["content-type"].to_str().expect("ascii").to_owned();
        (media, response.text().expect("text"))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref()?.value.as_ref()).map(|v| match v {
        AnyValue::StringValue(s) => s.clone(),
        AnyValue::IntValue(i) => i.to_string(),
        other => format!("{other:?}"),
    })
}

#[test]
fn the_server_span_continues_the_callers_trace_with_graphql_and_database_spans_beneath() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::create(dir.path());
    let (endpoint, received) = collector();
    let server =
        Server::start(&db, &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("OTEL_SERVICE_NAME", "workplan-otlp-test")]);
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let response = server
        .client
        .post(format!("{}/graphql", server.base))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&serde_json::json!({ "query": "query Traced { progressReports(first: 1) { totalCount } }" }))
        .send()
        .expect("graphql");
    assert!(response.status().is_success());
    let body: serde_json::Value = response.json().expect("json");
    assert_eq!(body["data"]["progressReports"]["totalCount"], 0, "{body}");
    // SIGTERM flushes the batch exporter.
    server.stop();

    // What the collector received on `/v1/traces`.
    let bodies: Vec<Vec<u8>> = received
        .lock()
        .expect("lock")
        .iter()
        .filter(|(path, _)| path.contains("/v1/traces"))
        .map(|(_, body)| body.clone())
        .collect();
    let mut spans: Vec<Span> = Vec::new();
    let mut services = Vec::new();
    for body in &bodies {
        let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
        for resource in request.resource_spans {
            if let Some(r) = &resource.resource {
                services.extend(
                    r.attributes.iter().filter(|kv| kv.key == "service.name").map(|kv| format!("{:?}", kv.value)),
                );
            }
            spans.extend(resource.scope_spans.into_iter().flat_map(|s| s.spans));
        }
    }
    assert!(services.iter().all(|s| s.contains("workplan-otlp-test")) && !services.is_empty(), "{services:?}");
    let traced: Vec<&Span> = spans.iter().filter(|s| hex(&s.trace_id) == trace_id).collect();
    let names: Vec<&str> = traced.iter().map(|s| s.name.as_str()).collect();

    let server_span = traced
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .unwrap_or_else(|| panic!("no server span in {names:?}"));
    assert_eq!(server_span.name, "POST /graphql");
    assert_eq!(hex(&server_span.parent_span_id), caller_span, "the caller's span is the parent");
    assert_eq!(attribute(server_span, "http.request.method").as_deref(), Some("POST"));
    assert_eq!(attribute(server_span, "http.route").as_deref(), Some("/graphql"));
    assert_eq!(attribute(server_span, "http.response.status_code").as_deref(), Some("200"));
    assert_eq!(attribute(server_span, "url.path").as_deref(), Some("/graphql"));
    assert_eq!(attribute(server_span, "client.address").as_deref(), Some("127.0.0.1"));

    let graphql = traced.iter().find(|s| s.name == "graphql").unwrap_or_else(|| panic!("no graphql span in {names:?}"));
    assert_eq!(graphql.parent_span_id, server_span.span_id, "the GraphQL span is the server span's child");
    assert_eq!(attribute(graphql, "graphql.operation.name").as_deref(), Some("Traced"));

    // Database spans: clients, beneath the GraphQL span, named after the statement kind and table.
    let by_id: HashMap<Vec<u8>, &Span> = traced.iter().map(|s| (s.span_id.clone(), *s)).collect();
    let under_graphql = |span: &Span| {
        let mut parent = span.parent_span_id.clone();
        while let Some(p) = by_id.get(&parent) {
            if p.span_id == graphql.span_id {
                return true;
            }
            parent = p.parent_span_id.clone();
        }
        false
    };
    let db_spans: Vec<&&Span> = traced.iter().filter(|s| attribute(s, "db.system.name").is_some()).collect();
    assert!(!db_spans.is_empty(), "no database span in {names:?}");
    let system = if db.pg.is_some() { "postgresql" } else { "sqlite" };
    for span in &db_spans {
        assert_eq!(span.kind, SpanKind::Client as i32, "{}", span.name);
        assert!(under_graphql(span), "{} is not under the GraphQL span", span.name);
        assert_eq!(attribute(span, "db.system.name").as_deref(), Some(system));
        assert!(
            span.attributes.iter().all(|kv| !kv.key.starts_with("db.statement") && kv.key != "db.query.text"),
            "no statement text"
        );
    }
    assert!(
        db_spans.iter().any(|s| s.name == "SELECT progress_reports"
            && attribute(s, "db.operation.name").as_deref() == Some("SELECT")
            && attribute(s, "db.collection.name").as_deref() == Some("progress_reports")),
        "{:?}",
        db_spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
}

#[test]
fn json_logs_carry_the_trace_id_without_any_exporter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::create(dir.path());
    let log_path = dir.path().join("stderr.log");
    let logs = std::fs::File::create(&log_path).expect("log file");
    // The store's statement events (`workplan::sql`, TRACE) are logged inside the request.
    let env = [("WORKPLAN_LOG_FORMAT", "json"), ("RUST_LOG", "warn,workplan::sql=trace")];
    let server = Server::start_logging(&db, &env, logs.into());
    let trace_id = "5bf92f3577b34da6a3ce929d0e0e4737";
    let response = server
        .client
        .post(format!("{}/graphql", server.base))
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b8-01"))
        .json(&serde_json::json!({ "query": "{ progressReports(first: 1) { totalCount } }" }))
        .send()
        .expect("graphql");
    assert!(response.status().is_success());
    server.stop();
    let logs = std::fs::read_to_string(&log_path).expect("logs");
    let in_request: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "workplan::sql" && l["spans"].is_array())
        .collect();
    assert!(!in_request.is_empty(), "no statement logged inside a request:\n{logs}");
    assert!(
        in_request.iter().all(|l| l["spans"][0]["trace_id"] == trace_id),
        "every line of the request names the caller's trace: {in_request:?}"
    );
}

#[test]
fn metrics_are_there_from_the_start_and_negotiated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::create(dir.path());
    let server = Server::start(&db, &[]);
    let (media, text) = server.metrics(None);
    assert_eq!(media, "text/plain; version=0.0.4; charset=utf-8");
    assert!(!text.contains("# EOF"), "{text}");
    // Every metric the README documents, with a sample right after start.
    for series in [
        r#"workplan_graphql_requests_total{operation_type="query",operation_name="anonymous",outcome="ok"} 0"#,
        r#"workplan_graphql_request_duration_seconds_count{operation_type="query",operation_name="anonymous"} 0"#,
        r#"workplan_requests_rejected_total{limit="maxNesting"} 0"#,
        r#"workplan_sync_items_total{outcome="CREATED"} 0"#,
        r#"workplan_graphql_document_cache_total{result="miss"} 0"#,
        r#"workplan_graphql_persisted_queries_total{result="not_found"} 0"#,
        r#"workplan_http_responses_total{route="/graphql",status="200"} 0"#,
        "workplan_db_pool_connections{state=\"idle\"} ",
        "workplan_db_statements_total ",
        "workplan_db_write_retries_total 0",
        "# TYPE workplan_db_statements_total counter",
        "workplan_build_info{version=\"",
        "process_cpu_seconds_total ",
        "process_resident_memory_bytes ",
        "process_open_fds ",
        "process_max_fds ",
        "process_start_time_seconds ",
    ] {
        assert!(text.contains(series), "{series} missing from\n{text}");
    }
    let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (media, open_metrics) = server.metrics(Some(prometheus));
    assert_eq!(media, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert!(open_metrics.ends_with("# EOF\n"));
    assert!(open_metrics.contains("# TYPE workplan_db_statements counter"));
    let (media, _) = server.metrics(Some("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5"));
    assert_eq!(media, "text/plain; version=0.0.4; charset=utf-8");

    for _ in 0..3 {
        let ok = server
            .client
            .post(format!("{}/graphql", server.base))
            .json(&serde_json::json!({ "query": "{ __typename }" }))
            .send()
            .expect("post");
        assert_eq!(ok.status(), 200);
    }
    let missing = server.client.get(format!("{}/nowhere", server.base)).send().expect("get");
    assert_eq!(missing.status(), 404);
    let (_, text) = server.metrics(None);
    assert!(text.contains(r#"workplan_http_responses_total{route="/graphql",status="200"} 3"#), "{text}");
    assert!(text.contains(r#"workplan_http_responses_total{route="unmatched",status="404"} 1"#), "{text}");
    assert!(text.contains(r#"workplan_http_responses_total{route="/metrics",status="200"} "#), "{text}");
    server.stop();
}

#[test]
fn unsupported_otel_settings_stop_the_start_with_one_line_and_exit_2() {
    for (var, value) in [("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"), ("OTEL_TRACES_EXPORTER", "zipkin")] {
        let out = Command::new(env!("CARGO_BIN_EXE_workplan"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("DATABASE_URL", "sqlite::memory:")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
            .env(var, value)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(var) && !stderr.contains("panicked"), "{stderr}");
    }
}
