//! Traces go out over OTLP when an endpoint is configured (and only then).

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{collector, free_port};

fn run_once(dir: &std::path::Path, endpoint: Option<&str>) {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workplan"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.join("t.db").display()))
        .env("RUST_LOG", "info")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(e) = endpoint {
        cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", e);
    }
    let mut child = cmd.spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = r#"{"query":"query Traced { plan { taskCount } }"}"#;
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let req = format!(
                "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(req.as_bytes());
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            assert!(out.contains("\"taskCount\":106"), "{out}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill").success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
}

#[test]
fn spans_are_exported_over_otlp_when_configured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (endpoint, seen) = collector();
    run_once(dir.path(), Some(&endpoint));
    let seen = seen.lock().expect("lock").clone();
    let traces: Vec<_> = seen.iter().filter(|(path, _)| path == "/v1/traces").collect();
    assert!(
        !traces.is_empty(),
        "no OTLP export reached the collector: {:?}",
        seen.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    let all: Vec<u8> = traces.iter().flat_map(|(_, body)| body.clone()).collect();
    let has = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"workplan"), "the service name is in the spans");
    assert!(has(b"graphql.operation.name") && has(b"Traced"), "the GraphQL span carries the operation name");
}

#[test]
fn nothing_is_exported_without_an_endpoint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_endpoint, seen) = collector();
    run_once(dir.path(), None);
    assert!(seen.lock().expect("lock").is_empty());
}
