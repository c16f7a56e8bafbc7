//! The one error type of the domain layer. Every variant is something a client can act on,
//! except [`Error::Internal`], which carries the cause for the logs and nothing for clients.

use std::sync::Arc;

/// A domain result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, classified so that every layer above can map it once.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The input broke a rule. `field` is the input path (e.g. `summary`, `patch.summary`, `filter.period`).
    #[error("{field}: {message}")]
    Validation {
        /// The input field at fault, as the client named it.
        field: String,
        /// What is wrong and how to put it right.
        message: String,
    },
    /// A referenced thing does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. `task 107`.
        what: String,
        /// The input field that referenced it, if any.
        field: Option<String>,
    },
    /// The write conflicts with the current state (e.g. a duplicate).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Another live (not withdrawn) report already holds the reporter, task, period and kind.
    #[error("conflict: report {} (version {version}, {}) is already the live report for this reporter, task, period and kind", id.0, state.as_str())]
    DuplicateReport {
        /// The report that holds the key.
        id: crate::ids::ReportId,
        /// Its version.
        version: i32,
        /// Its state.
        state: crate::report::ReportState,
    },
    /// The write was based on a version that is no longer current.
    #[error("conflict: the report is at version {current}, not {expected}")]
    StaleVersion {
        /// The version the caller based its write on.
        expected: i32,
        /// The report's current version.
        current: i32,
    },
    /// The caller is known but may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The caller must authenticate first.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// Something broke that the client cannot fix. The cause is for logs only.
    #[error("internal error: {0}")]
    Internal(Arc<dyn std::error::Error + Send + Sync>),
}

impl Error {
    /// A validation error on `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation { field: field.into(), message: message.into() }
    }

    /// A not-found error for `what`, referenced by input `field`.
    pub fn not_found(what: impl Into<String>, field: Option<&str>) -> Self {
        Self::NotFound { what: what.into(), field: field.map(str::to_owned) }
    }

    /// The CONFLICT naming `existing`, the live report that holds a key.
    pub fn duplicate_of(existing: &crate::report::ProgressReport) -> Self {
        Self::DuplicateReport { id: existing.id, version: existing.version, state: existing.state }
    }

    /// Wraps any error as internal.
    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Arc::new(err))
    }
}
