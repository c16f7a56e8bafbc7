//! Who is calling: bearer tokens on HTTP (and, later, the graphql-ws `connection_init` payload).

use axum::http::{HeaderMap, header};
use workplan_domain::auth::{SECRET_PREFIX, Viewer};
use workplan_domain::ports::Store;
use workplan_domain::{Error, Result, service};

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
    pub limits: crate::limits::Limits,
    /// Browser origins allowed to call the API cross-origin (CORS); none by default.
    pub cors_origins: Vec<String>,
    /// Per-caller rate limit by cost; `None` turns it off.
    pub rate_limit: Option<crate::rate::RateLimit>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            public_read: true,
            introspection: Introspection::Everyone,
            suggestions: true,
            limits: crate::limits::Limits::default(),
            cors_origins: Vec::new(),
            rate_limit: Some(crate::rate::RateLimit::default()),
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

impl ApiConfig {
    /// The production profile: introspection for token holders only, no suggestions.
    pub fn production(self) -> Self {
        Self { introspection: Introspection::Tokens, suggestions: false, ..self }
    }
}

/// A fresh token secret: the prefix and 32 random bytes in hex.
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::internal(std::io::Error::other(e.to_string())))?;
    Ok(format!("{SECRET_PREFIX}{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// The viewer an `Authorization` header names: anonymous without one, UNAUTHENTICATED for a
/// malformed, unknown, revoked or expired token.
pub async fn viewer_from_headers(store: &dyn Store, headers: &HeaderMap) -> Result<Viewer> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(Viewer::Anonymous) };
    let value = value.to_str().map_err(|_| Error::Unauthenticated("the Authorization header is not text".into()))?;
    let secret = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .ok_or_else(|| Error::Unauthenticated("use Authorization: Bearer <token>".into()))?;
    service::authenticate(store, secret).await.map(Viewer::Token)
}
