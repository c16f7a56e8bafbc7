//! The one mapping from domain errors to GraphQL errors. Every client-visible error carries a
//! stable `extensions.code`; internal errors are logged here, once, and reach the client only
//! as a generic message.

use async_graphql::ErrorExtensions;
use workplan_domain::Error;

/// Stable error codes, as sent in `extensions.code`.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
}

/// Converts a domain error into a GraphQL error with `extensions.code` (and `field` where the
/// input is at fault).
pub fn to_graphql(err: &Error) -> async_graphql::Error {
    match err {
        Error::Validation { field, message } => {
            async_graphql::Error::new(format!("{field}: {message}")).extend_with(|_, e| {
                e.set("code", code::BAD_USER_INPUT);
                e.set("field", field.as_str());
            })
        }
        Error::NotFound { what, field } => {
            async_graphql::Error::new(format!("{what} not found")).extend_with(|_, e| {
                e.set("code", code::NOT_FOUND);
                if let Some(field) = field {
                    e.set("field", field.as_str());
                }
            })
        }
        Error::Conflict(m) => async_graphql::Error::new(m.as_str()).extend_with(|_, e| e.set("code", code::CONFLICT)),
        Error::StaleVersion { current, .. } => async_graphql::Error::new(err.to_string()).extend_with(|_, e| {
            e.set("code", code::CONFLICT);
            e.set("currentVersion", *current);
        }),
        Error::Forbidden(m) => async_graphql::Error::new(m.as_str()).extend_with(|_, e| e.set("code", code::FORBIDDEN)),
        Error::Unauthenticated(m) => {
            async_graphql::Error::new(m.as_str()).extend_with(|_, e| e.set("code", code::UNAUTHENTICATED))
        }
        Error::Internal(cause) => {
            tracing::error!(error = %cause, "internal error");
            internal()
        }
    }
}

/// The message clients see when something broke on our side.
pub const INTERNAL_MESSAGE: &str = "internal error; it has been logged";

/// The generic error clients see when something broke on our side.
pub fn internal() -> async_graphql::Error {
    async_graphql::Error::new(INTERNAL_MESSAGE).extend_with(|_, e| e.set("code", code::INTERNAL))
}

/// A bad-input error on `field`, for checks made in the API layer (IDs, cursors).
pub fn bad_input(field: &str, message: impl Into<String>) -> async_graphql::Error {
    to_graphql(&Error::validation(field, message))
}

/// `.gql()` on domain results: the only way resolvers turn domain errors into GraphQL errors.
pub trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, Error> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(&e))
    }
}

impl<T> GqlResultExt<T> for Result<T, std::sync::Arc<Error>> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(&e))
    }
}
