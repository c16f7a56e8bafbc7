//! Which document an HTTP request runs: its text, through the parsed-document cache
//! ([`crate::documents`]), or the hash of a text sent before — Apollo's automatic persisted
//! queries (APQ, `extensions.persistedQuery { version: 1, sha256Hash }`).
//!
//! The APQ protocol: a client first sends only the hash. An unknown hash is answered with the
//! error `PersistedQueryNotFound` (`extensions.code` `PERSISTED_QUERY_NOT_FOUND`, status 200 and
//! not cacheable, as Apollo Server answers), and the client sends the hash again with the text;
//! the text is checked against the hash (a mismatch is `BAD_USER_INPUT`), checked against the
//! limits, parsed, kept under its hash and run. Later requests send the hash alone, by POST or
//! by GET (`?extensions={"persistedQuery":…}`), until the cache lets the document go.
//!
//! Why not async-graphql's `ApolloPersistedQueries` extension: it swaps the document in only
//! inside execution, after the checks that must see it here — the limits pre-check, the
//! operation's name and type for the span and the metrics, and GET's refusal of mutations (a
//! mutation registered by POST would run by GET) —, its errors carry no `extensions.code`
//! (`PERSISTED_QUERY_NOT_FOUND`, and `BAD_USER_INPUT` for a hash mismatch), it keeps a second
//! map beside the parse cache and parses the registered text itself, and it would bring a
//! second major version of `sha2`. The persisted documents live in the parse cache: the key is
//! the same SHA-256 of the same text.

use std::sync::Arc;

use async_graphql::ServerError;
use async_graphql::parser::types::ExecutableDocument;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::AppState;
use super::respond::error_response;
use crate::documents::{DocumentError, QueryHash, Source};
use crate::error::code;
use crate::limits::LimitExceeded;

/// The `extensions.code` of an unknown persisted-query hash, as Apollo's clients expect it.
pub(super) const PERSISTED_QUERY_NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";

/// The document a request runs, or why it has none.
pub(super) enum Resolved {
    /// Parsed (now or before) and within the limits.
    Ready(Arc<ExecutableDocument>),
    /// Not GraphQL: reported after authentication, in the answer execution would have given.
    Invalid(ServerError),
}

/// Why a request is answered without running.
pub(super) enum Refusal {
    /// Malformed: 400, BAD_USER_INPUT with this message.
    BadRequest(String),
    /// Over a limit.
    Limit(LimitExceeded),
    /// An unknown persisted-query hash.
    PersistedQueryNotFound,
}

impl Refusal {
    /// The answer, counted in the metrics when it is a limit.
    pub(super) fn respond(self, state: &AppState) -> Response {
        match self {
            Self::BadRequest(message) => error_response(StatusCode::BAD_REQUEST, code::BAD_USER_INPUT, &message),
            Self::Limit(e) => state.refuse(&e),
            Self::PersistedQueryNotFound => not_found(),
        }
    }
}

/// The `persistedQuery` entry of a request's `extensions`, if any.
///
/// # Errors
/// A bad request for an entry that is not `{ "version": 1, "sha256Hash": "<64 hex>" }`.
fn persisted_hash(extensions: Option<&serde_json::Value>) -> Result<Option<QueryHash>, Refusal> {
    let Some(entry) = extensions.and_then(|e| e.get("persistedQuery")) else {
        return Ok(None);
    };
    let bad = |message: &str| Refusal::BadRequest(message.to_owned());
    if entry.get("version").and_then(serde_json::Value::as_i64) != Some(1) {
        return Err(bad("extensions.persistedQuery.version must be 1"));
    }
    let hash = entry.get("sha256Hash").and_then(serde_json::Value::as_str).unwrap_or_default();
    QueryHash::from_hex(hash)
        .map(Some)
        .ok_or_else(|| bad("extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits"))
}

/// The document of a request with `query` (`None` when none was sent) and `extensions`. `missing` is the message for a request with neither a query nor a hash.
///
/// # Errors
/// Why nothing may run: a limit exceeded, a malformed or unknown persisted query, a hash that
/// does not match the text, or no query at all.
pub(super) fn resolve(
    state: &AppState,
    query: Option<&str>,
    extensions: Option<&serde_json::Value>,
    missing: &str,
) -> Result<Resolved, Refusal> {
    let hash = persisted_hash(extensions)?;
    let limits = &state.config.limits;
    let found = match (query, hash) {
        (None, None) => return Err(Refusal::BadRequest(missing.to_owned())),
        (None, Some(hash)) => {
            let Some(document) = state.documents.get(&hash) else {
                state.metrics.persisted("not_found");
                return Err(Refusal::PersistedQueryNotFound);
            };
            state.metrics.persisted("hit");
            Ok((document, Source::Cached))
        }
        (Some(query), Some(hash)) => {
            if QueryHash::of(query) != hash {
                state.metrics.persisted("mismatch");
                return Err(Refusal::BadRequest("provided sha does not match query".to_owned()));
            }
            let found = state.documents.document_with_hash(hash, query, limits);
            if found.is_ok() {
                state.metrics.persisted("registered");
            }
            found
        }
        (Some(query), None) => state.documents.document(query, limits),
    };
    match found {
        Ok((document, source)) => {
            state.metrics.document(source.label());
            Ok(Resolved::Ready(document))
        }
        Err(DocumentError::Limit(e)) => Err(Refusal::Limit(e)),
        Err(DocumentError::Syntax(e)) => {
            state.metrics.document(Source::Parsed.label());
            Ok(Resolved::Invalid(e))
        }
    }
}

/// The answer to an unknown hash: Apollo's `PersistedQueryNotFound`, with status 200 (a client
/// that sees an error status may give up instead of sending the text) and never cached (the
/// same request will succeed once the text is registered).
fn not_found() -> Response {
    let mut response = error_response(StatusCode::OK, PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound");
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache, must-revalidate"));
    response
}
