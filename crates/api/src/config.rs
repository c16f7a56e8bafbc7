//! Request-independent API settings: access, introspection, limits, CORS, rate limiting,
//! trusted proxies, the export-link key and how webhooks are sent.

use workplan_domain::access::Viewer;

use crate::admission::AdmissionLimit;
use crate::client_address::TrustedProxies;
use crate::export::signed::ExportKey;
use crate::limits::Limits;
use crate::rate::RateLimit;
use crate::socket_limits::SocketLimits;
use crate::webhook::WebhookSettings;

/// Request-independent API settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Whether anonymous callers may read the plan and accepted reports.
    pub public_read: bool,
    /// Who may introspect the schema.
    pub introspection: Introspection,
    /// Whether errors suggest field names ("did you mean …").
    pub suggestions: bool,
    /// Request limits.
    pub limits: Limits,
    /// Browser origins allowed to call the API cross-origin (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// Per-caller rate limit by cost; `None` turns it off.
    pub rate_limit: Option<RateLimit>,
    /// Per-caller rate limit by request count (every request to `/graphql`, `/graphql/ws` and
    /// `/export/…` costs 1, refused ones included); `None` turns it off.
    pub request_limit: Option<RateLimit>,
    /// Peers whose `X-Forwarded-For` names the client (rate limiting counts callers by it);
    /// none by default.
    pub trusted_proxies: TrustedProxies,
    /// The key export links are signed with; `None`: a random key made once per process
    /// (fine for one replica; replicas behind one balancer must share a configured key).
    pub export_key: Option<ExportKey>,
    /// Whether every resolved field of an object type gets its own tracing span
    /// (async-graphql's `Tracing` extension, with its parse, validation and execution spans).
    /// Off by default: a dashboard resolves thousands of fields, and the extension costs CPU on
    /// each of them even when the spans are filtered out. The `graphql` span of each operation
    /// is there either way.
    pub trace_fields: bool,
    /// Most memory the parsed-document cache may hold, in bytes, each parse counted at the most
    /// it can take (512 bytes a token plus 1 KiB); 0 turns the cache off, and with it Apollo's
    /// persisted queries.
    pub document_cache_bytes: usize,
    /// The global bound on GraphQL operations executing at once (see [`crate::admission`]);
    /// `None` (the default here, for embedding and tests) leaves them unbounded. The server
    /// sizes it from its database pool.
    pub admission: Option<AdmissionLimit>,
    /// How many days before its due date an unreported obligation is due soon: the timer
    /// records a DUE_SOON event then, and `obligationDueSoon` tells its reporter.
    pub due_soon_days: u32,
    /// How often the due-date timer looks at the clock, at most (it also wakes at the next due
    /// date or window opening it knows of); the subscriptions' watchers catch up as often.
    pub due_date_tick: std::time::Duration,
    /// The limits of each GraphQL WebSocket connection.
    pub socket: SocketLimits,
    /// How webhooks are sent: which addresses they may go to (`--allow-private-webhooks`),
    /// the retry schedule's base, the timeout of an attempt.
    pub webhooks: WebhookSettings,
}

/// The default of [`ApiConfig::due_soon_days`].
pub const DEFAULT_DUE_SOON_DAYS: u32 = 3;

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            public_read: true,
            introspection: Introspection::Everyone,
            suggestions: true,
            limits: Limits::default(),
            cors_origins: Vec::new(),
            rate_limit: Some(RateLimit::default_cost()),
            request_limit: Some(RateLimit::default_requests()),
            trusted_proxies: TrustedProxies::default(),
            export_key: None,
            trace_fields: false,
            document_cache_bytes: crate::documents::DEFAULT_BUDGET,
            admission: None,
            due_soon_days: DEFAULT_DUE_SOON_DAYS,
            due_date_tick: std::time::Duration::from_secs(2),
            socket: SocketLimits::default(),
            webhooks: WebhookSettings::default(),
        }
    }
}

/// Who may introspect the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Introspection {
    /// Anyone (development).
    Everyone,
    /// Token holders only (the production profile): GraphiQL keeps working for staff.
    Tokens,
    /// No one.
    Off,
}

impl Introspection {
    /// Whether `viewer` may introspect the schema.
    pub fn allows(self, viewer: &Viewer) -> bool {
        match self {
            Self::Everyone => true,
            Self::Tokens => *viewer != Viewer::Anonymous,
            Self::Off => false,
        }
    }
}

impl ApiConfig {
    /// The key export links are signed with: the configured one, else this process's own.
    ///
    /// # Errors
    /// INTERNAL when no key is configured and the process has no random source.
    pub fn export_signing_key(&self) -> workplan_domain::Result<ExportKey> {
        self.export_key.clone().map_or_else(ExportKey::per_process, Ok)
    }

    /// The production profile: introspection for token holders only, no suggestions.
    pub fn production(self) -> Self {
        Self { introspection: Introspection::Tokens, suggestions: false, ..self }
    }
}
