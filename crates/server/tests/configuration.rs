//! Bad configuration, run as a real process: refused before anything starts, with one line on
//! stderr that names the setting, exit code 2, and never a panic. A database that refuses the
//! connection says so at once, without the password.

use std::process::{Command, Output};

/// Runs `workplan` with `args` and `env` (and a backtrace asked for, so a panic or an error
/// printed with its backtrace would show).
fn workplan(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_workplan"));
    command
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}?mode=rwc", dir.path().join("x.db").display()))
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "1");
    for var in [
        "WORKPLAN_CORS_ORIGINS",
        "WORKPLAN_TRUSTED_PROXIES",
        "WORKPLAN_LISTEN",
        "WORKPLAN_RATE_LIMIT_REFILL",
        "WORKPLAN_RATE_LIMIT_REQUESTS_PER_SECOND",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    command.output().expect("run workplan")
}

/// Asserts `output` is a refusal: exit code 2, one line on stderr containing `named`.
fn assert_refused(output: &Output, named: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{what}: one line, not {stderr:?}");
    assert!(stderr.contains(named), "{what}: {stderr:?} does not name {named}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{what}: {stderr}");
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    for (args, named) in [
        (&["--rate-limit-refill=-1"][..], "--rate-limit-refill"),
        (&["--rate-limit-refill", "0"], "--rate-limit-refill"),
        (&["--rate-limit-requests-per-second", "0"], "--rate-limit-requests-per-second"),
        (&["--rate-limit-requests-per-second", "NaN"], "--rate-limit-requests-per-second"),
        (&["--rate-limit-capacity=-5"], "--rate-limit-capacity"),
        (&["--cors-origin", "*"], "--cors-origin"),
        (&["--cors-origin", "dashboard.example.gov.cn"], "--cors-origin"),
        (&["--trusted-proxy", "10.0.0.0/33"], "--trusted-proxy"),
        (&["--trusted-proxy", "10.0.0.0/8,proxy.example"], "--trusted-proxy"),
        (&["--db-max-connections", "0"], "--db-max-connections"),
        (&["--db-max-connections=-1"], "--db-max-connections"),
        (&["--max-body-bytes", "0"], "--max-body-bytes"),
        (&["--max-complexity", "0"], "--max-complexity"),
        (&["--request-timeout-secs", "0"], "--request-timeout-secs"),
        (&["--request-timeout-secs", "99999999999999999999"], "--request-timeout-secs"),
        (&["--header-read-timeout-secs", "0"], "--header-read-timeout-secs"),
        (&["--keep-alive-timeout-secs", "0"], "--keep-alive-timeout-secs"),
        (&["--body-timeout-secs", "0"], "--body-timeout-secs"),
        (&["--max-connections", "0"], "--max-connections"),
        (&["--listen-backlog", "0"], "--listen-backlog"),
        (&["--export-key", "short"], "--export-key"),
        (&["--log-format", "xml"], "--log-format"),
    ] {
        let output = workplan(&[args, &["serve", "--listen", "127.0.0.1:0"]].concat(), &[]);
        assert_refused(&output, named, &format!("{args:?}"));
    }
}

#[test]
fn bad_environment_exits_2_with_one_line() {
    for (var, value, named) in [
        ("WORKPLAN_CORS_ORIGINS", "*", "WORKPLAN_CORS_ORIGINS"),
        ("WORKPLAN_CORS_ORIGINS", "https://a.example,*", "WORKPLAN_CORS_ORIGINS"),
        ("WORKPLAN_CORS_ORIGINS", "a.example", "WORKPLAN_CORS_ORIGINS"),
        ("WORKPLAN_TRUSTED_PROXIES", "10.0.0.0/8,nonsense", "WORKPLAN_TRUSTED_PROXIES"),
        ("WORKPLAN_RATE_LIMIT_REFILL", "-2", "WORKPLAN_RATE_LIMIT_REFILL"),
        ("WORKPLAN_RATE_LIMIT_REQUESTS_PER_SECOND", "0", "WORKPLAN_RATE_LIMIT_REQUESTS_PER_SECOND"),
    ] {
        let output = workplan(&["serve", "--listen", "127.0.0.1:0"], &[(var, value)]);
        assert_refused(&output, named, &format!("{var}={value}"));
    }
    // `workplan` alone serves on WORKPLAN_LISTEN.
    assert_refused(&workplan(&[], &[("WORKPLAN_LISTEN", "nowhere")]), "WORKPLAN_LISTEN", "WORKPLAN_LISTEN");
}

#[test]
fn good_settings_pass() {
    let output = workplan(
        &[
            "--trusted-proxy",
            "10.0.0.0/8",
            "--trusted-proxy",
            "fd00::/8,192.0.2.1",
            "--rate-limit-requests",
            "0",
            "schema",
        ],
        &[("WORKPLAN_CORS_ORIGINS", "https://a.example, https://b.example:8443"), ("WORKPLAN_TRUSTED_PROXIES", "")],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("type Query"));
}

#[test]
fn a_database_that_refuses_the_connection_says_so_at_once() {
    // A port nothing listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let url = format!("postgres://workplan:s3cr3tpw@127.0.0.1:{port}/workplan");
    let started = std::time::Instant::now();
    let output = workplan(&["serve", "--listen", "127.0.0.1:0"], &[("DATABASE_URL", &url)]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, not {stderr:?}");
    assert!(stderr.to_lowercase().contains("connection refused"), "{stderr}");
    assert!(!stderr.contains("timed out"), "the real reason, not the pool's timeout: {stderr}");
    assert!(!stderr.contains("s3cr3tpw") && stderr.contains("workplan:***@"), "{stderr}");
    eprintln!("refused in {:?}: {stderr}", started.elapsed());
}
