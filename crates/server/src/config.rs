//! One [`Settings`] value for the whole process: the defaults written here, then the environment,
//! then the flags (clap applies those two, see [`crate::cli`]), validated once at start. The API's
//! [`ApiConfig`] and the store's [`StoreOptions`] are built from it, nowhere else.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use workplan_api::admission::AdmissionLimit;
use workplan_api::client_address::TrustedProxies;
use workplan_api::config::{ApiConfig, Introspection};
use workplan_api::export::signed::ExportKey;
use workplan_api::limits::Limits;
use workplan_api::rate::RateLimit;
use workplan_api::webhook::WebhookSettings;
use workplan_domain::webhook::AddressRule;
use workplan_persistence::StoreOptions;

use crate::cli::Cli;
use crate::listener::ConnectionLimits;
use crate::redact;

mod flags;

use crate::telemetry::LogFormat;
use flags::{admission, check_limits, connection_limits, cors_origins, export_key, rate_limit};

/// The database used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://workplan.db?mode=rwc";
/// The environment variable for `serve --listen`.
pub const LISTEN_ENV: &str = "WORKPLAN_LISTEN";
/// The address `serve` listens on when neither `--listen` nor `WORKPLAN_LISTEN` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Largest number of pooled database connections, by default.
pub const DEFAULT_DB_MAX_CONNECTIONS: u32 = 10;
/// Longest a single PostgreSQL statement may run (a write waiting for another one's row or key
/// included).
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest to wait for a pooled connection before the request fails.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything the process is configured with.
#[derive(Clone)]
pub struct Settings {
    /// Where the data lives; may hold a password, so [`Settings`]' `Debug` redacts it.
    pub database_url: String,
    /// How logs are written.
    pub log_format: LogFormat,
    /// Largest number of pooled database connections.
    pub db_max_connections: u32,
    /// Longest a single PostgreSQL statement may run. Not a flag yet.
    pub statement_timeout: Duration,
    /// Longest to wait for a pooled connection. Not a flag yet.
    pub acquire_timeout: Duration,
    /// Whether anonymous callers may read the plan and accepted reports.
    pub public_read: bool,
    /// The production profile; overrides `introspection` and `suggestions`.
    pub production: bool,
    /// Who may introspect the schema (unless `production`).
    pub introspection: Introspection,
    /// Whether errors suggest field names (unless `production`).
    pub suggestions: bool,
    /// Request limits.
    pub limits: Limits,
    /// The per-caller rate limit by cost; `None` turns it off.
    pub rate_limit: Option<RateLimit>,
    /// The per-caller rate limit by request count; `None` turns it off.
    pub request_limit: Option<RateLimit>,
    /// Peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Browser origins allowed to call the API (CORS).
    pub cors_origins: Vec<String>,
    /// The key export links are signed with; `None`: a random key per process.
    pub export_key: Option<ExportKey>,
    /// A tracing span for every resolved object field (off: one per operation).
    pub trace_fields: bool,
    /// The parsed-document cache's budget in bytes; 0 turns it off.
    pub document_cache_bytes: usize,
    /// The HTTP server's timeouts and caps.
    pub connections: ConnectionLimits,
    /// The bound on GraphQL operations executing at once; `None` turns it off.
    pub admission: Option<AdmissionLimit>,
    /// How many days before its due date an unreported obligation is due soon.
    pub due_soon_days: u32,
    /// How webhooks are sent (`--allow-private-webhooks`).
    pub webhooks: WebhookSettings,
}

impl Default for Settings {
    fn default() -> Self {
        let api = ApiConfig::default();
        Self {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            log_format: LogFormat::Human,
            db_max_connections: DEFAULT_DB_MAX_CONNECTIONS,
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            public_read: api.public_read,
            production: false,
            introspection: api.introspection,
            suggestions: api.suggestions,
            limits: api.limits,
            rate_limit: api.rate_limit,
            request_limit: api.request_limit,
            trusted_proxies: api.trusted_proxies,
            cors_origins: api.cors_origins,
            export_key: api.export_key,
            trace_fields: api.trace_fields,
            document_cache_bytes: api.document_cache_bytes,
            connections: ConnectionLimits::default(),
            admission: Some(AdmissionLimit::for_pool(DEFAULT_DB_MAX_CONNECTIONS)),
            due_soon_days: api.due_soon_days,
            webhooks: api.webhooks,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact(&self.database_url))
            .field("log_format", &self.log_format)
            .field("db_max_connections", &self.db_max_connections)
            .field("statement_timeout", &self.statement_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("public_read", &self.public_read)
            .field("production", &self.production)
            .field("introspection", &self.introspection)
            .field("suggestions", &self.suggestions)
            .field("limits", &self.limits)
            .field("rate_limit", &self.rate_limit)
            .field("request_limit", &self.request_limit)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("cors_origins", &self.cors_origins)
            .field("export_key", &self.export_key)
            .field("trace_fields", &self.trace_fields)
            .field("document_cache_bytes", &self.document_cache_bytes)
            .field("connections", &self.connections)
            .field("admission", &self.admission)
            .field("due_soon_days", &self.due_soon_days)
            .field("webhooks", &self.webhooks)
            .finish()
    }
}

impl Settings {
    /// The settings the command line (flags over environment over defaults) asks for, or an
    /// error naming the first setting that cannot work.
    ///
    /// # Errors
    /// A setting that would only fail later or be ignored: a number out of its range (no pool
    /// connections, a zero limit, a rate that is not above 0), a CORS origin that is `*` or not
    /// an origin, a trusted proxy that is not a CIDR, a short export key.
    pub fn from_cli(cli: &Cli) -> anyhow::Result<Self> {
        let limits = &cli.limits;
        check_limits(cli)?;
        let settings = Self {
            database_url: cli.database_url.clone(),
            log_format: cli.log_format,
            db_max_connections: cli.db_max_connections,
            public_read: cli.public_read,
            production: cli.production,
            introspection: cli.introspection.into(),
            suggestions: cli.suggestions,
            limits: Limits {
                max_body_bytes: limits.max_body_bytes,
                max_document_bytes: limits.max_document_bytes,
                max_tokens: limits.max_tokens,
                max_nesting: limits.max_nesting,
                max_depth: limits.max_depth,
                max_complexity: limits.max_complexity,
                max_aliases: limits.max_aliases,
                max_root_fields: limits.max_root_fields,
                max_directives: limits.max_directives,
                request_timeout: Duration::from_secs(limits.request_timeout_secs),
                body_timeout: Duration::from_secs(limits.body_timeout_secs),
            },
            rate_limit: rate_limit(
                cli.rate_limit_capacity,
                cli.rate_limit_refill,
                "--rate-limit-capacity and --rate-limit-refill (WORKPLAN_RATE_LIMIT_CAPACITY, WORKPLAN_RATE_LIMIT_REFILL)",
            )?,
            request_limit: rate_limit(
                cli.rate_limit_requests,
                cli.rate_limit_requests_per_second,
                "--rate-limit-requests and --rate-limit-requests-per-second (WORKPLAN_RATE_LIMIT_REQUESTS, WORKPLAN_RATE_LIMIT_REQUESTS_PER_SECOND)",
            )?,
            trusted_proxies: TrustedProxies::parse(&cli.trusted_proxies)
                .context("--trusted-proxy (WORKPLAN_TRUSTED_PROXIES)")?,
            cors_origins: cors_origins(&cli.cors_origins)?,
            export_key: export_key(cli.export_key.as_deref())?,
            trace_fields: cli.trace_fields,
            document_cache_bytes: cli.document_cache_bytes,
            connections: connection_limits(&cli.server, cli.db_max_connections),
            admission: admission(&cli.server, cli.db_max_connections),
            due_soon_days: cli.due_soon_days,
            webhooks: WebhookSettings {
                addresses: if cli.allow_private_webhooks { AddressRule::AllowPrivate } else { AddressRule::PublicOnly },
                ..WebhookSettings::default()
            },
            ..Self::default()
        };
        Ok(settings)
    }

    /// The API's configuration.
    pub fn api_config(&self) -> ApiConfig {
        let config = ApiConfig {
            public_read: self.public_read,
            introspection: self.introspection,
            suggestions: self.suggestions,
            limits: self.limits,
            cors_origins: self.cors_origins.clone(),
            rate_limit: self.rate_limit,
            request_limit: self.request_limit,
            trusted_proxies: self.trusted_proxies.clone(),
            export_key: self.export_key.clone(),
            trace_fields: self.trace_fields,
            document_cache_bytes: self.document_cache_bytes,
            admission: self.admission,
            due_soon_days: self.due_soon_days,
            socket: workplan_api::socket_limits::SocketLimits::default(),
            webhooks: self.webhooks,
            ..ApiConfig::default()
        };
        if self.production { config.production() } else { config }
    }

    /// The store's connection settings.
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.db_max_connections,
            statement_timeout: self.statement_timeout,
            acquire_timeout: self.acquire_timeout,
        }
    }
}

/// The address `workplan` with no subcommand serves on: `WORKPLAN_LISTEN`, else the default, as
/// `serve --listen` would have it.
///
/// # Errors
/// When `WORKPLAN_LISTEN` is not a socket address.
pub fn default_listen() -> anyhow::Result<SocketAddr> {
    let text = std::env::var(LISTEN_ENV).unwrap_or_else(|_| DEFAULT_LISTEN.to_owned());
    text.parse().with_context(|| format!("{LISTEN_ENV}={text:?} is not an address"))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    fn settings(args: &[&str]) -> anyhow::Result<Settings> {
        let cli = Cli::try_parse_from(std::iter::once("workplan").chain(args.iter().copied()))?;
        Settings::from_cli(&cli)
    }

    #[test]
    fn defaults_match_the_api_and_store_defaults() {
        let settings = settings(&["schema"]).expect("valid");
        let api = settings.api_config();
        let defaults = ApiConfig::default();
        assert_eq!(api.limits, defaults.limits);
        assert_eq!(api.rate_limit, defaults.rate_limit);
        assert_eq!(api.request_limit, defaults.request_limit);
        assert_eq!(api.trusted_proxies, defaults.trusted_proxies);
        assert_eq!(api.introspection, defaults.introspection);
        assert!(!api.trace_fields, "no span per field unless asked for");
        assert_eq!(api.document_cache_bytes, defaults.document_cache_bytes);
        assert_eq!(api.due_soon_days, 3);
        let store = settings.store_options();
        assert_eq!(store.max_connections, DEFAULT_DB_MAX_CONNECTIONS);
        assert_eq!(store.statement_timeout, Duration::from_secs(5));
        assert_eq!(store.acquire_timeout, Duration::from_secs(5));
        assert!(DEFAULT_LISTEN.parse::<SocketAddr>().is_ok());
    }

    #[test]
    fn flags_reach_the_api_config() {
        let settings = settings(&[
            "--production",
            "--rate-limit-capacity",
            "0",
            "--rate-limit-requests",
            "0",
            "--request-timeout-secs",
            "7",
            "--trusted-proxy",
            "10.0.0.0/8, 192.0.2.1",
            "--cors-origin",
            " https://a.example, ,https://b.example:8443",
            "--trace-fields",
            "true",
            "--document-cache-bytes",
            "0",
            "--due-soon-days",
            "7",
            "schema",
        ])
        .expect("valid");
        let api = settings.api_config();
        assert_eq!(api.due_soon_days, 7);
        assert!(self::settings(&["--due-soon-days", "400", "schema"]).is_err(), "at most a year");
        assert!(api.trace_fields);
        assert_eq!(api.document_cache_bytes, 0);
        assert_eq!(api.introspection, Introspection::Tokens);
        assert!(!api.suggestions);
        assert!(api.rate_limit.is_none(), "capacity 0 turns the limit by cost off");
        assert!(api.request_limit.is_none(), "0 requests turns the limit by count off");
        assert_eq!(api.limits.request_timeout, Duration::from_secs(7));
        assert_eq!(api.trusted_proxies.networks().collect::<Vec<_>>(), ["10.0.0.0/8", "192.0.2.1/32"]);
        assert_eq!(api.cors_origins, ["https://a.example", "https://b.example:8443"]);
    }

    #[test]
    fn connection_limits_and_the_operation_bound_follow_the_flags_and_the_pool() {
        let defaults = settings(&["--db-max-connections", "4", "schema"]).expect("valid");
        assert_eq!(defaults.admission.map(|a| a.max_operations), Some(8), "twice the pool");
        assert_eq!(defaults.api_config().admission, defaults.admission);
        assert!(defaults.connections.max_connections >= 1);
        assert_eq!(defaults.connections.header_read_timeout, Duration::from_secs(10));
        let set = settings(&[
            "--max-connections",
            "50",
            "--header-read-timeout-secs",
            "2",
            "--keep-alive-timeout-secs",
            "3",
            "--listen-backlog",
            "16",
            "--max-operations",
            "7",
            "--operation-queue-ms",
            "40",
            "--body-timeout-secs",
            "4",
            "schema",
        ])
        .expect("valid");
        let c = set.connections;
        assert_eq!((c.max_connections, c.backlog), (50, 16));
        assert_eq!(c.header_read_timeout, Duration::from_secs(2));
        assert!(settings(&["--header-read-timeout-secs", "0", "schema"]).is_err(), "0 would close every connection");
        assert_eq!(c.keep_alive_timeout, Duration::from_secs(3));
        assert_eq!(set.limits.body_timeout, Duration::from_secs(4));
        let admission = set.admission.expect("bounded");
        assert_eq!((admission.max_operations, admission.queue_wait), (7, Duration::from_millis(40)));
        assert!(settings(&["--max-operations", "0", "schema"]).expect("valid").admission.is_none(), "0 turns it off");
    }

    #[test]
    fn settings_that_cannot_work_are_refused_with_the_flag_named() {
        for args in [
            &["--db-max-connections", "0"][..],
            &["--rate-limit-refill", "NaN"],
            &["--rate-limit-refill=-1"],
            &["--rate-limit-refill=0"],
            &["--rate-limit-requests-per-second=0"],
            &["--rate-limit-requests-per-second=-3"],
            &["--rate-limit-requests-per-second=inf"],
            &["--rate-limit-capacity=4294967295", "--rate-limit-refill=1"],
            &["--max-body-bytes=0"],
            &["--max-depth=0"],
            &["--request-timeout-secs=0"],
            &["--request-timeout-secs=86401"],
            &["--trusted-proxy", "10.0.0.0/33"],
            &["--trusted-proxy", "proxy.example"],
            &["--cors-origin", "*"],
            &["--cors-origin", "https://a.example,*"],
            &["--cors-origin", "https://a.\u{7f}example"],
            &["--cors-origin", "dashboard.example.gov.cn"],
            &["--cors-origin", "https://a.example/path"],
            &["--cors-origin", "ftp://a.example"],
            &["--export-key", "too short"],
        ] {
            let error = settings(&[args, &["schema"]].concat()).expect_err("refused").to_string();
            let flag = args[0].split('=').next().unwrap_or_default();
            assert!(error.contains(flag), "{args:?}: {error}");
        }
    }

    #[test]
    fn debug_hides_the_database_password_and_the_export_key() {
        let key = "k".repeat(32) + "-secret";
        let settings = Settings {
            database_url: "postgres://u:secret@h/db".to_owned(),
            export_key: ExportKey::new(key.as_bytes()),
            ..Settings::default()
        };
        let text = format!("{settings:?}");
        assert!(!text.contains("secret") && text.contains("u:***@h"), "{text}");
        assert!(settings.api_config().export_key.is_some(), "the key reaches the API");
    }
}
