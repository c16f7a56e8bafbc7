//! Each setting's flag checked and turned into what the server uses: numbers in their range,
//! rate limits, CORS origins as browsers send them, the connection limits and the operation
//! bound, the export-link key. A setting that cannot work is an error naming its flag (the
//! binary prints it on one line and exits 2).

use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use axum::http::HeaderValue;
use workplan_api::admission::AdmissionLimit;
use workplan_api::export::signed::{ExportKey, MIN_KEY_BYTES};
use workplan_api::rate::RateLimit;

use crate::cli::{Cli, ServerArgs};
use crate::listener::ConnectionLimits;

/// The longest `--request-timeout-secs` may be: a day.
const MAX_REQUEST_TIMEOUT_SECS: u64 = 24 * 3600;

/// Refuses numbers out of their range: each of these would make every request fail, or every
/// connection wait.
pub(super) fn check_limits(cli: &Cli) -> anyhow::Result<()> {
    ensure!(
        cli.db_max_connections > 0,
        "--db-max-connections (WORKPLAN_DB_MAX_CONNECTIONS) must be at least 1: with no connections every request would wait and fail"
    );
    let limits = &cli.limits;
    for (value, flag) in [
        (limits.max_body_bytes, "--max-body-bytes (WORKPLAN_MAX_BODY_BYTES)"),
        (limits.max_document_bytes, "--max-document-bytes (WORKPLAN_MAX_DOCUMENT_BYTES)"),
        (limits.max_tokens, "--max-tokens (WORKPLAN_MAX_TOKENS)"),
        (limits.max_nesting, "--max-nesting (WORKPLAN_MAX_NESTING)"),
        (limits.max_depth, "--max-depth (WORKPLAN_MAX_DEPTH)"),
        (limits.max_complexity, "--max-complexity (WORKPLAN_MAX_COMPLEXITY)"),
        (limits.max_root_fields, "--max-root-fields (WORKPLAN_MAX_ROOT_FIELDS)"),
    ] {
        ensure!(value > 0, "{flag} must be at least 1: at 0 every request would be refused");
    }
    ensure!(
        (1..=MAX_REQUEST_TIMEOUT_SECS).contains(&limits.request_timeout_secs),
        "--request-timeout-secs (WORKPLAN_REQUEST_TIMEOUT_SECS) must be from 1 to {MAX_REQUEST_TIMEOUT_SECS} (it is {})",
        limits.request_timeout_secs
    );
    let server = &cli.server;
    for (value, flag) in [
        (limits.body_timeout_secs, "--body-timeout-secs (WORKPLAN_BODY_TIMEOUT_SECS)"),
        (server.header_read_timeout_secs, "--header-read-timeout-secs (WORKPLAN_HEADER_READ_TIMEOUT_SECS)"),
        (server.keep_alive_timeout_secs, "--keep-alive-timeout-secs (WORKPLAN_KEEP_ALIVE_TIMEOUT_SECS)"),
    ] {
        ensure!(
            (1..=MAX_REQUEST_TIMEOUT_SECS).contains(&value),
            "{flag} must be from 1 to {MAX_REQUEST_TIMEOUT_SECS} (it is {value}): at 0 every connection would be closed at once"
        );
    }
    ensure!(
        server.max_connections != Some(0),
        "--max-connections (WORKPLAN_MAX_CONNECTIONS) must be at least 1: at 0 no connection would be served"
    );
    ensure!(server.listen_backlog > 0, "--listen-backlog (WORKPLAN_LISTEN_BACKLOG) must be at least 1");
    Ok(())
}

/// A rate limit of `capacity` (0: off) refilled at `refill` a second, or an error naming `flags`.
/// The refill must be valid even when the limit is off: a typo should not wait to be found
/// until someone turns the limit on.
pub(super) fn rate_limit(capacity: u32, refill: f64, flags: &str) -> anyhow::Result<Option<RateLimit>> {
    let limit = RateLimit::new(capacity.max(1), refill)
        .with_context(|| format!("{flags}: capacity {capacity}, refill {refill} a second"))?;
    Ok((capacity > 0).then_some(limit))
}

/// The CORS origins `--cors-origin` (`WORKPLAN_CORS_ORIGINS`) names, spaces around each and
/// empty entries left out (`WORKPLAN_CORS_ORIGINS=` means none).
pub(super) fn cors_origins(items: &[String]) -> anyhow::Result<Vec<String>> {
    let flag = "--cors-origin (WORKPLAN_CORS_ORIGINS)";
    let mut origins = Vec::new();
    for origin in items.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        // The CORS layer refuses `*` in a list by panicking, and would drop an origin that is
        // not a valid header value without a word.
        if origin == "*" {
            bail!("{flag} takes origins such as https://dashboard.example.gov.cn, not \"*\"");
        }
        HeaderValue::from_str(origin).with_context(|| format!("{flag}: {origin:?} is not an origin"))?;
        // A browser sends `Origin: scheme://host[:port]`, nothing more: anything else would
        // never match, and the dashboard it was meant for would fail without a word.
        if !is_origin(origin) {
            bail!(
                "{flag}: {origin:?} is not an origin: write it as a browser sends it, e.g. https://dashboard.example.gov.cn (scheme, host, optional port; no path)"
            );
        }
        origins.push(origin.to_owned());
    }
    Ok(origins)
}

/// The HTTP server's timeouts and caps the flags ask for (checked by [`check_limits`]); the
/// connection cap derived from the open-file limit and a pool of `pool_size` unless given.
pub(super) fn connection_limits(args: &ServerArgs, pool_size: u32) -> ConnectionLimits {
    ConnectionLimits {
        max_connections: args
            .max_connections
            .unwrap_or_else(|| crate::listener::max_connections_for_open_files(pool_size))
            .max(1),
        header_read_timeout: Duration::from_secs(args.header_read_timeout_secs),
        keep_alive_timeout: Duration::from_secs(args.keep_alive_timeout_secs),
        backlog: args.listen_backlog,
    }
}

/// The bound on operations the flags ask for: twice the pool unless given, off at 0.
pub(super) fn admission(args: &ServerArgs, pool_size: u32) -> Option<AdmissionLimit> {
    let queue_wait = Duration::from_millis(args.operation_queue_ms);
    match args.max_operations {
        Some(0) => None,
        Some(max_operations) => Some(AdmissionLimit { max_operations, queue_wait }),
        None => Some(AdmissionLimit { queue_wait, ..AdmissionLimit::for_pool(pool_size) }),
    }
}

/// The export-link key `--export-key` (`WORKPLAN_EXPORT_KEY`) gives, if any.
pub(super) fn export_key(text: Option<&str>) -> anyhow::Result<Option<ExportKey>> {
    text.map(|text| {
        ExportKey::new(text.as_bytes()).with_context(|| {
            format!(
                "--export-key (WORKPLAN_EXPORT_KEY) must be at least {MIN_KEY_BYTES} bytes (it has {}): use e.g. `openssl rand -hex 32`",
                text.len()
            )
        })
    })
    .transpose()
}

/// Whether `text` is an origin as a browser sends it: `http` or `https`, `://`, a host (letters,
/// digits, `-`, `.`, or a bracketed IPv6 address) and an optional numeric port, nothing after.
fn is_origin(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://")) else {
        return false;
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else { return false };
        if !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return false;
        }
        match after.strip_prefix(':') {
            Some(port) => (addr, Some(port)),
            None if after.is_empty() => (addr, None),
            None => return false,
        }
    } else {
        let (host, port) = rest.split_once(':').map_or((rest, None), |(h, p)| (h, Some(p)));
        if !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') {
            return false;
        }
        (host, port)
    };
    !host.is_empty() && port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::is_origin;

    #[test]
    fn origins_are_what_browsers_send() {
        for ok in ["https://a.example", "http://localhost:3000", "https://[::1]:8443", "http://10.0.0.1"] {
            assert!(is_origin(ok), "{ok}");
        }
        for bad in [
            "a.example",
            "https://",
            "https://a.example/",
            "https://a.example:",
            "https://a b",
            "https://[::1",
            "https://a:99999999",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
