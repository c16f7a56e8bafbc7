//! The command line: flags, their environment variables and defaults, and the subcommands. Only
//! shapes live here; [`crate::config::Settings`] turns the global flags into one settings value
//! and [`crate::commands`] runs the subcommands.
//!
//! The doc comments on these items are also the `--help` text, which is why a few of them read as
//! plain text rather than Markdown.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use workplan_api::admission::DEFAULT_QUEUE_WAIT;
use workplan_api::config::Introspection;
use workplan_api::export::ExportFormat;
use workplan_api::limits::Limits;
use workplan_api::rate::RateLimit;
use workplan_domain::token::AccessRole;

use crate::config::{DEFAULT_DATABASE_URL, DEFAULT_DB_MAX_CONNECTIONS, DEFAULT_LISTEN, LISTEN_ENV};
use crate::listener::{DEFAULT_BACKLOG, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT};
use crate::telemetry::LogFormat;

/// workplan: who must do what in a government work plan, and how far along it is.
#[derive(Parser, Debug)]
#[command(name = "workplan", version, about)]
pub struct Cli {
    /// The database: sqlite://FILE?mode=rwc or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,

    /// Log format.
    #[arg(long, env = "WORKPLAN_LOG_FORMAT", value_enum, default_value = "human", global = true)]
    pub log_format: LogFormat,

    /// Let anonymous callers read the plan and accepted reports.
    #[arg(long, env = "WORKPLAN_PUBLIC_READ", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub public_read: bool,

    /// The production profile: introspection for token holders only and no "did you mean"
    /// suggestions (GraphiQL keeps working with a token). Overrides the two settings below.
    #[arg(long, env = "WORKPLAN_PRODUCTION", global = true)]
    pub production: bool,

    /// Who may introspect the schema: everyone, tokens or off.
    #[arg(long, env = "WORKPLAN_INTROSPECTION", value_enum, default_value = "everyone", global = true)]
    pub introspection: IntrospectionArg,

    /// Suggest field names in errors ("did you mean …").
    #[arg(long, env = "WORKPLAN_SUGGESTIONS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub suggestions: bool,

    /// The request limits.
    #[command(flatten)]
    pub limits: LimitArgs,

    /// Rate limit by cost: the cost units (query complexity) a caller may spend at once; 0
    /// turns this limit off. Callers are tokens, or client addresses for anonymous callers.
    #[arg(long, env = "WORKPLAN_RATE_LIMIT_CAPACITY", default_value_t = RateLimit::default_cost().capacity(), global = true)]
    pub rate_limit_capacity: u32,

    /// Rate limit by cost: units returned to each caller per second (above 0).
    #[arg(long, env = "WORKPLAN_RATE_LIMIT_REFILL", default_value_t = RateLimit::default_cost().refill_per_second(), global = true)]
    pub rate_limit_refill: f64,

    /// Rate limit by request count: the requests a caller may send at once (every request to
    /// /graphql, /graphql/ws and /export costs 1, refused ones included); 0 turns this limit
    /// off.
    #[arg(long, env = "WORKPLAN_RATE_LIMIT_REQUESTS", default_value_t = RateLimit::default_requests().capacity(), global = true)]
    pub rate_limit_requests: u32,

    /// Rate limit by request count: requests returned to each caller per second (above 0).
    #[arg(long, env = "WORKPLAN_RATE_LIMIT_REQUESTS_PER_SECOND", default_value_t = RateLimit::default_requests().refill_per_second(), global = true)]
    pub rate_limit_requests_per_second: f64,

    /// A reverse proxy (CIDR such as 10.0.0.0/8, or one address) whose X-Forwarded-For names
    /// the client: the rightmost address in it that is not a trusted proxy is the client's.
    /// Repeat or comma-separate. None by default: the header is ignored and the client is the
    /// TCP peer.
    #[arg(long = "trusted-proxy", env = "WORKPLAN_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<String>,

    /// A browser origin allowed to call the API (CORS), e.g. https://dashboard.example.gov.cn;
    /// repeat or comma-separate. None by default: no cross-origin access.
    #[expect(rustdoc::bare_urls, reason = "this doc comment is --help text, where <…> would be printed as is")]
    #[arg(long = "cors-origin", env = "WORKPLAN_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,

    /// The secret export links (GraphQL exportUrl) are signed with: at least 32 bytes, e.g. the
    /// output of `openssl rand -hex 32`. Unset: a random key per process, so links work only on
    /// the replica that made them; replicas behind one balancer must share this key.
    #[arg(long, env = "WORKPLAN_EXPORT_KEY", hide_env_values = true, global = true)]
    pub export_key: Option<String>,

    /// A tracing span for every resolved field of an object type (thousands on a dashboard;
    /// costs CPU even when filtered out). Off: one span per GraphQL operation.
    #[arg(long, env = "WORKPLAN_TRACE_FIELDS", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub trace_fields: bool,

    /// Let webhooks go to private, loopback and link-local addresses and over plain http
    /// (tests, closed networks). Off: webhook URLs must be https and resolve to public
    /// addresses only, checked at registration and at every delivery.
    #[arg(long, env = "WORKPLAN_ALLOW_PRIVATE_WEBHOOKS", global = true)]
    pub allow_private_webhooks: bool,

    /// Most memory for GraphQL documents kept parsed for reuse (and as Apollo persisted
    /// queries), in bytes, each counted at 512 bytes a token plus 1 KiB; 0 turns the cache off.
    #[arg(long, env = "WORKPLAN_DOCUMENT_CACHE_BYTES", default_value_t = workplan_api::documents::DEFAULT_BUDGET, global = true)]
    pub document_cache_bytes: usize,

    /// How many days before its due date an unreported obligation is "due soon": the
    /// `obligationDueSoon` reminder is sent then (0: no reminders).
    #[arg(long, env = "WORKPLAN_DUE_SOON_DAYS", default_value_t = workplan_api::config::DEFAULT_DUE_SOON_DAYS, value_parser = clap::value_parser!(u32).range(0..=366), global = true)]
    pub due_soon_days: u32,

    /// Largest number of pooled database connections.
    #[arg(long, env = "WORKPLAN_DB_MAX_CONNECTIONS", default_value_t = DEFAULT_DB_MAX_CONNECTIONS, global = true)]
    pub db_max_connections: u32,

    /// The HTTP server's timeouts and caps, and the bound on operations executing at once.
    #[command(flatten)]
    pub server: ServerArgs,

    /// What to do; `serve` when none is given.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Request limits (see README "Limits").
#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    /// Largest request body in bytes (413 beyond).
    #[arg(long, env = "WORKPLAN_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes, global = true)]
    pub max_body_bytes: usize,
    /// Longest GraphQL document in bytes.
    #[arg(long, env = "WORKPLAN_MAX_DOCUMENT_BYTES", default_value_t = Limits::default().max_document_bytes, global = true)]
    pub max_document_bytes: usize,
    /// Most tokens in a document.
    #[arg(long, env = "WORKPLAN_MAX_TOKENS", default_value_t = Limits::default().max_tokens, global = true)]
    pub max_tokens: usize,
    /// Deepest nesting of brackets in a document or variables.
    #[arg(long, env = "WORKPLAN_MAX_NESTING", default_value_t = Limits::default().max_nesting, global = true)]
    pub max_nesting: usize,
    /// Deepest selection.
    #[arg(long, env = "WORKPLAN_MAX_DEPTH", default_value_t = Limits::default().max_depth, global = true)]
    pub max_depth: usize,
    /// Highest query complexity.
    #[arg(long, env = "WORKPLAN_MAX_COMPLEXITY", default_value_t = Limits::default().max_complexity, global = true)]
    pub max_complexity: usize,
    /// Most aliases in a document.
    #[arg(long, env = "WORKPLAN_MAX_ALIASES", default_value_t = Limits::default().max_aliases, global = true)]
    pub max_aliases: usize,
    /// Most root fields in an operation.
    #[arg(long, env = "WORKPLAN_MAX_ROOT_FIELDS", default_value_t = Limits::default().max_root_fields, global = true)]
    pub max_root_fields: usize,
    /// Most directives on one field.
    #[arg(long, env = "WORKPLAN_MAX_DIRECTIVES", default_value_t = Limits::default().max_directives, global = true)]
    pub max_directives: usize,
    /// Longest a request may run, in seconds.
    #[arg(long, env = "WORKPLAN_REQUEST_TIMEOUT_SECS", default_value_t = Limits::default().request_timeout.as_secs(), global = true)]
    pub request_timeout_secs: u64,
    /// Longest the client may take to send a request body, in seconds (408 beyond).
    #[arg(long, env = "WORKPLAN_BODY_TIMEOUT_SECS", default_value_t = Limits::default().body_timeout.as_secs(), global = true)]
    pub body_timeout_secs: u64,
}

/// The HTTP server's timeouts and caps (see README "Connections and load").
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// Most connections open at once; beyond them new ones wait in the listen backlog. By
    /// default the open-file limit less the database pool and 64 reserved files, at most 10000.
    #[arg(long, env = "WORKPLAN_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,
    /// Longest, in seconds, from the server waiting for a request's headers to having all of
    /// them; also closes a kept-alive connection that sends nothing for as long.
    #[arg(long, env = "WORKPLAN_HEADER_READ_TIMEOUT_SECS", default_value_t = DEFAULT_HEADER_READ_TIMEOUT.as_secs(), global = true)]
    pub header_read_timeout_secs: u64,
    /// Longest, in seconds, a connection stays open after an answer with no request in
    /// progress (a new connection has the header-read timeout to send its first request).
    #[arg(long, env = "WORKPLAN_KEEP_ALIVE_TIMEOUT_SECS", default_value_t = DEFAULT_KEEP_ALIVE_TIMEOUT.as_secs(), global = true)]
    pub keep_alive_timeout_secs: u64,
    /// The listen backlog: connections the kernel holds while the server accepts none (the
    /// kernel caps it at net.core.somaxconn).
    #[arg(long, env = "WORKPLAN_LISTEN_BACKLOG", default_value_t = DEFAULT_BACKLOG, global = true)]
    pub listen_backlog: u32,
    /// Most GraphQL operations executing at once; 0 turns the bound off. By default twice
    /// --db-max-connections.
    #[arg(long, env = "WORKPLAN_MAX_OPERATIONS", global = true)]
    pub max_operations: Option<usize>,
    /// Longest, in milliseconds, an operation waits for its turn before it is turned away with
    /// 503 and RATE_LIMITED.
    #[arg(long, env = "WORKPLAN_OPERATION_QUEUE_MS", default_value_t = u64::try_from(DEFAULT_QUEUE_WAIT.as_millis()).unwrap_or(250), global = true)]
    pub operation_queue_ms: u64,
}

/// `message` on one line: its lines joined by spaces, up to clap's usage hint ("Usage: …",
/// "For more information, try '--help'."), which a person who mistyped a flag does not need
/// to find the mistake.
pub fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the GraphQL API and GraphiQL (the default). Migrates and loads the plan first.
    Serve {
        /// Address to listen on.
        #[arg(long, env = LISTEN_ENV, default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
    },
    /// Bring the database schema up to date and load the plan if it is missing.
    Migrate,
    /// Parse a division-of-work document into the plan data file the service loads.
    ImportPlan(ImportPlanArgs),
    /// Generate sample data. Only demo data: real reports come through the API.
    Seed(SeedArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write the reporting matrix or a rollup of a scheduled period as CSV or XLSX, with full
    /// rights (every report ID shown): the same file GET /export/… serves.
    #[command(subcommand)]
    Export(ExportCommand),
}

/// `workplan import-plan`.
#[derive(clap::Args, Debug)]
pub struct ImportPlanArgs {
    /// The source text (e.g. seeds/division-of-work-2016-66.txt).
    pub file: PathBuf,
    /// The agency registry; the built-in one by default.
    #[arg(long)]
    pub registry: Option<PathBuf>,
    /// Where to write the plan; "-" for stdout.
    #[arg(long, default_value = "seeds/plan-2016-66.json")]
    pub out: PathBuf,
    /// Write nothing; fail if the output file differs from what the source gives.
    #[arg(long)]
    pub check: bool,
}

/// `workplan seed`.
#[derive(clap::Args, Debug)]
pub struct SeedArgs {
    /// Generate demo progress reports (flagged isDemo, summaries start with "[DEMO]").
    #[expect(
        rustdoc::broken_intra_doc_links,
        reason = "this doc comment is --help text, where \\[ would be printed as is"
    )]
    #[arg(long)]
    pub demo: bool,
    /// How many demo reports.
    #[arg(long, default_value_t = 1000)]
    pub reports: usize,
    /// The random seed: the same seed gives the same reports.
    #[arg(long, default_value_t = 2016)]
    pub seed: u64,
    /// Add demo reports even though the database holds real ones.
    #[arg(long)]
    pub allow_mixed: bool,
}

/// `workplan token …`.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once, on the last line of stdout.
    Create(TokenCreateArgs),
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// `workplan token create`.
#[derive(clap::Args, Debug)]
pub struct TokenCreateArgs {
    /// A unique name, e.g. guangdong-sync.
    #[arg(long)]
    pub name: String,
    /// admin, supervisor, agency-reporter, province-reporter or reader.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// For agency-reporter: the agency's name, alias or abbreviation.
    #[arg(long)]
    pub agency: Option<String>,
    /// For province-reporter: the province's GB/T 2260 code.
    #[arg(long)]
    pub province: Option<String>,
    /// Expire after this many days.
    #[arg(long)]
    pub expires_in_days: Option<u32>,
}

/// `workplan export …`.
#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The reporting matrix: one row per obligation of the period.
    ReportingMatrix(ExportArgs),
    /// A rollup: one row per group (per agency and role when by agency).
    Rollup(RollupExportArgs),
}

/// What every export takes.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The scheduled period, e.g. 2016-Q4.
    #[arg(long)]
    pub period: String,
    /// csv (UTF-8 with a byte-order mark) or xlsx.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormatArg,
    /// Where to write the file; "-" for stdout. By default the name the download would have
    /// (e.g. reporting-matrix-2016-Q4.csv), in the current directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `workplan export rollup`.
#[derive(clap::Args, Debug)]
pub struct RollupExportArgs {
    /// What to group by: section, subsection, agency or province.
    #[arg(long)]
    pub by: String,
    /// The period, format and output file.
    #[command(flatten)]
    pub export: ExportArgs,
}

/// `export --format`.
// No doc comments on the variants, as for `IntrospectionArg`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormatArg {
    Csv,
    Xlsx,
}

impl From<ExportFormatArg> for ExportFormat {
    fn from(arg: ExportFormatArg) -> Self {
        match arg {
            ExportFormatArg::Csv => Self::Csv,
            ExportFormatArg::Xlsx => Self::Xlsx,
        }
    }
}

/// `--introspection`: who may introspect the schema.
// The variants carry no doc comments: clap would print them beside each value in --help.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum IntrospectionArg {
    Everyone,
    Tokens,
    Off,
}

impl From<IntrospectionArg> for Introspection {
    fn from(arg: IntrospectionArg) -> Self {
        match arg {
            IntrospectionArg::Everyone => Self::Everyone,
            IntrospectionArg::Tokens => Self::Tokens,
            IntrospectionArg::Off => Self::Off,
        }
    }
}

/// `token create --role`: the role a token is issued for.
// No doc comments on the variants, as for `IntrospectionArg`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Admin,
    Supervisor,
    AgencyReporter,
    ProvinceReporter,
    Reader,
}

impl From<RoleArg> for AccessRole {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Self::Admin,
            RoleArg::Supervisor => Self::Supervisor,
            RoleArg::AgencyReporter => Self::AgencyReporter,
            RoleArg::ProvinceReporter => Self::ProvinceReporter,
            RoleArg::Reader => Self::Reader,
        }
    }
}
