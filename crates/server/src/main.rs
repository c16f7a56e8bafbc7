//! The `workplan` command.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use workplan_api::auth::{ApiConfig, Introspection};
use workplan_api::limits::Limits;
use workplan_api::rate::RateLimit;
use workplan_domain::model::AccessRole;
use workplan_domain::ports::{PlanReader, TokenStore};
use workplan_domain::seed::AgencyRegistry;
use workplan_persistence::SeaStore;
use workplan_server::telemetry::{self, LogFormat};
use workplan_server::{
    AGENCIES_JSON, Application, DEFAULT_DATABASE_URL, prepare_database, shutdown_signal, store_options,
};

/// workplan: who must do what in a government work plan, and how far along it is.
#[derive(Parser, Debug)]
#[command(name = "workplan", version, about)]
struct Cli {
    /// The database: sqlite://FILE?mode=rwc or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    database_url: String,

    /// Log format.
    #[arg(long, env = "WORKPLAN_LOG_FORMAT", value_enum, default_value = "human", global = true)]
    log_format: LogFormat,

    /// Let anonymous callers read the plan and accepted reports.
    #[arg(long, env = "WORKPLAN_PUBLIC_READ", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    public_read: bool,

    /// The production profile: introspection for token holders only and no "did you mean"
    /// suggestions (GraphiQL keeps working with a token). Overrides the two settings below.
    #[arg(long, env = "WORKPLAN_PRODUCTION", global = true)]
    production: bool,

    /// Who may introspect the schema: everyone, tokens or off.
    #[arg(long, env = "WORKPLAN_INTROSPECTION", value_enum, default_value = "everyone", global = true)]
    introspection: IntrospectionArg,

    /// Suggest field names in errors ("did you mean …").
    #[arg(long, env = "WORKPLAN_SUGGESTIONS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    suggestions: bool,

    #[command(flatten)]
    limits: LimitArgs,

    /// Rate limit: the cost units (query complexity) a caller may spend at once; 0 turns
    /// rate limiting off. Callers are tokens, or client IPs for anonymous callers.
    #[arg(long, env = "WORKPLAN_RATE_LIMIT_CAPACITY", default_value_t = RateLimit::default().capacity, global = true)]
    rate_limit_capacity: f64,

    /// Rate limit: cost units returned to each caller per second.
    #[arg(long, env = "WORKPLAN_RATE_LIMIT_REFILL", default_value_t = RateLimit::default().refill_per_second, global = true)]
    rate_limit_refill: f64,

    /// A browser origin allowed to call the API (CORS), e.g. https://dashboard.example.gov.cn;
    /// repeat or comma-separate. None by default: no cross-origin access.
    #[arg(long = "cors-origin", env = "WORKPLAN_CORS_ORIGINS", value_delimiter = ',', global = true)]
    cors_origins: Vec<String>,

    /// Largest number of pooled database connections.
    #[arg(long, env = "WORKPLAN_DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    db_max_connections: u32,

    #[command(subcommand)]
    command: Option<Command>,
}

/// Request limits (see README "Limits").
#[derive(clap::Args, Debug)]
struct LimitArgs {
    /// Largest request body in bytes (413 beyond).
    #[arg(long, env = "WORKPLAN_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes, global = true)]
    max_body_bytes: usize,
    /// Longest GraphQL document in bytes.
    #[arg(long, env = "WORKPLAN_MAX_DOCUMENT_BYTES", default_value_t = Limits::default().max_document_bytes, global = true)]
    max_document_bytes: usize,
    /// Most tokens in a document.
    #[arg(long, env = "WORKPLAN_MAX_TOKENS", default_value_t = Limits::default().max_tokens, global = true)]
    max_tokens: usize,
    /// Deepest nesting of brackets in a document or variables.
    #[arg(long, env = "WORKPLAN_MAX_NESTING", default_value_t = Limits::default().max_nesting, global = true)]
    max_nesting: usize,
    /// Deepest selection.
    #[arg(long, env = "WORKPLAN_MAX_DEPTH", default_value_t = Limits::default().max_depth, global = true)]
    max_depth: usize,
    /// Highest query complexity.
    #[arg(long, env = "WORKPLAN_MAX_COMPLEXITY", default_value_t = Limits::default().max_complexity, global = true)]
    max_complexity: usize,
    /// Most aliases in a document.
    #[arg(long, env = "WORKPLAN_MAX_ALIASES", default_value_t = Limits::default().max_aliases, global = true)]
    max_aliases: usize,
    /// Most root fields in an operation.
    #[arg(long, env = "WORKPLAN_MAX_ROOT_FIELDS", default_value_t = Limits::default().max_root_fields, global = true)]
    max_root_fields: usize,
    /// Most directives on one field.
    #[arg(long, env = "WORKPLAN_MAX_DIRECTIVES", default_value_t = Limits::default().max_directives, global = true)]
    max_directives: usize,
    /// Longest a request may run, in seconds.
    #[arg(long, env = "WORKPLAN_REQUEST_TIMEOUT_SECS", default_value_t = 10, global = true)]
    request_timeout_secs: u64,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes,
            max_document_bytes: self.max_document_bytes,
            max_tokens: self.max_tokens,
            max_nesting: self.max_nesting,
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            max_aliases: self.max_aliases,
            max_root_fields: self.max_root_fields,
            max_directives: self.max_directives,
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs.max(1)),
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the GraphQL API and GraphiQL (the default). Migrates and loads the plan first.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "WORKPLAN_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Bring the database schema up to date and load the plan if it is missing.
    Migrate,
    /// Parse a division-of-work document into the plan data file the service loads.
    ImportPlan {
        /// The source text (e.g. seeds/division-of-work-2016-66.txt).
        file: PathBuf,
        /// The agency registry; the built-in one by default.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Where to write the plan; "-" for stdout.
        #[arg(long, default_value = "seeds/plan-2016-66.json")]
        out: PathBuf,
        /// Write nothing; fail if the output file differs from what the source gives.
        #[arg(long)]
        check: bool,
    },
    /// Generate sample data. Only demo data: real reports come through the API.
    Seed {
        /// Generate demo progress reports (flagged isDemo, summaries start with "[DEMO]").
        #[arg(long)]
        demo: bool,
        /// How many demo reports.
        #[arg(long, default_value_t = 1000)]
        reports: usize,
        /// The random seed: the same seed gives the same reports.
        #[arg(long, default_value_t = 2016)]
        seed: u64,
        /// Add demo reports even though the database holds real ones.
        #[arg(long)]
        allow_mixed: bool,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create a token; its secret is printed once, on the last line of stdout.
    Create {
        /// A unique name, e.g. guangdong-sync.
        #[arg(long)]
        name: String,
        /// admin, supervisor, agency-reporter, province-reporter or reader.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// For agency-reporter: the agency's name, alias or abbreviation.
        #[arg(long)]
        agency: Option<String>,
        /// For province-reporter: the province's GB/T 2260 code.
        #[arg(long)]
        province: Option<String>,
        /// Expire after this many days.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name.
    Revoke {
        /// The token's name.
        name: String,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum IntrospectionArg {
    Everyone,
    Tokens,
    Off,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RoleArg {
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry = telemetry::init(cli.log_format)?;
    let options = store_options(cli.db_max_connections);
    match cli.command.unwrap_or(Command::Serve { listen: default_listen()? }) {
        Command::Serve { listen } => {
            let config = ApiConfig {
                public_read: cli.public_read,
                introspection: match cli.introspection {
                    IntrospectionArg::Everyone => Introspection::Everyone,
                    IntrospectionArg::Tokens => Introspection::Tokens,
                    IntrospectionArg::Off => Introspection::Off,
                },
                suggestions: cli.suggestions,
                limits: cli.limits.limits(),
                cors_origins: cli.cors_origins.clone(),
                rate_limit: (cli.rate_limit_capacity > 0.0).then_some(RateLimit {
                    capacity: cli.rate_limit_capacity,
                    refill_per_second: cli.rate_limit_refill,
                }),
            };
            let config = if cli.production { config.production() } else { config };
            let app = Application::build(&cli.database_url, listen, &options, config).await?;
            let addr = app.local_addr()?;
            tracing::info!(%addr, "serving GraphQL at http://{addr}/graphql and GraphiQL at http://{addr}/");
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate => {
            prepare_database(&cli.database_url, &options).await?;
            tracing::info!("the database is up to date");
            Ok(())
        }
        Command::ImportPlan { file, registry, out, check } => import_plan(&file, registry.as_deref(), &out, check),
        Command::Seed { demo, reports, seed, allow_mixed } => {
            if !demo {
                bail!("only demo data can be generated: pass --demo (real reports come through the API)");
            }
            let store = prepare_database(&cli.database_url, &options).await?;
            let (real, existing_demo) = store.report_counts().await?;
            if real > 0 && !allow_mixed {
                bail!(
                    "the database holds {real} real reports; refusing to mix in demo data (pass --allow-mixed to do it anyway)"
                );
            }
            let (tasks, provinces) = store.demo_inputs().await?;
            let generated = workplan_domain::demo::generate(&tasks, &provinces, reports, seed);
            let n = store.insert_demo_reports(generated).await?;
            println!(
                "inserted {n} demo reports (seed {seed}); the database now holds {} demo and {real} real reports",
                existing_demo + n as u64
            );
            Ok(())
        }
        Command::Schema => {
            print!("{}", workplan_api::sdl());
            Ok(())
        }
        Command::Token(command) => {
            let store = prepare_database(&cli.database_url, &options).await?;
            token(&store, command).await
        }
    }
}

fn default_listen() -> anyhow::Result<SocketAddr> {
    let text = std::env::var("WORKPLAN_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".to_owned());
    text.parse().with_context(|| format!("WORKPLAN_LISTEN={text:?} is not an address"))
}

fn import_plan(
    file: &std::path::Path,
    registry: Option<&std::path::Path>,
    out: &std::path::Path,
    check: bool,
) -> anyhow::Result<()> {
    let source = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let registry_text = match registry {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => AGENCIES_JSON.to_owned(),
    };
    let registry = AgencyRegistry::from_json(&registry_text)?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let plan = workplan_domain::importer::import_plan(&source, &name, &registry)
        .with_context(|| format!("cannot import {}", file.display()))?;
    let json = plan.to_json()?;
    let summary = format!(
        "{}: {} sections, {} subsections, {} tasks, {} agencies",
        plan.document.document_number,
        plan.sections.len(),
        plan.sections.iter().map(|s| s.subsections.len()).sum::<usize>(),
        plan.tasks().count(),
        plan.agencies.len()
    );
    if check {
        let current = std::fs::read_to_string(out).with_context(|| format!("cannot read {}", out.display()))?;
        if current != json {
            bail!(
                "{} is out of date with {}; run `workplan import-plan {}`",
                out.display(),
                file.display(),
                file.display()
            );
        }
        eprintln!("{summary}; {} is up to date", out.display());
    } else if out.as_os_str() == "-" {
        print!("{json}");
    } else {
        std::fs::write(out, json).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("{summary}; wrote {}", out.display());
    }
    Ok(())
}

async fn token(store: &SeaStore, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { name, role, agency, province, expires_in_days } => {
            let agency = match agency {
                Some(a) => {
                    Some(store.agency_by_name(&a).await?.with_context(|| format!("no agency is named {a:?}"))?.id)
                }
                None => None,
            };
            let expires_at =
                expires_in_days.map(|d| chrono_now() + std::time::Duration::from_secs(u64::from(d) * 86_400));
            let secret = workplan_api::auth::new_secret()?;
            let issued = workplan_domain::service::create_token(
                store,
                &name,
                role.into(),
                agency,
                province.as_deref(),
                expires_at,
                secret,
            )
            .await?;
            eprintln!(
                "created token {:?} ({}); the secret is shown once:",
                issued.token.name,
                issued.token.role.as_str()
            );
            println!("{}", issued.secret);
            Ok(())
        }
        TokenCommand::List => {
            for t in store.tokens().await? {
                let status = match (t.revoked_at, t.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(at)) => format!("expires {at}"),
                    (None, None) => "active".to_owned(),
                };
                let used = t.last_used_at.map_or("never used".to_owned(), |at| format!("last used {at}"));
                println!("{}\t{}\t{}\t{}", t.name, t.role.as_str(), status, used);
            }
            Ok(())
        }
        TokenCommand::Revoke { name } => {
            let token = store.token_by_name(&name).await?.with_context(|| format!("no token is named {name:?}"))?;
            store.revoke_token(token.id).await?;
            eprintln!("revoked token {name:?}");
            Ok(())
        }
    }
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
