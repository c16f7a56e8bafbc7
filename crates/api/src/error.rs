//! The one mapping from domain errors to GraphQL errors. Every client-visible error carries a
//! stable `extensions.code`; internal errors are logged here, once, and reach the client only
//! as a generic message.

use async_graphql::ErrorExtensions;
use workplan_domain::Error;
use workplan_domain::report::sync::RejectReason;

/// Stable error codes, as sent in `extensions.code`.
pub mod code {
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const CONFLICT: &str = "CONFLICT";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const INTERNAL: &str = "INTERNAL";
    /// A batch-sync item names a report that is accepted or withdrawn (item results only).
    pub const LOCKED: &str = "LOCKED";
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
        Error::DuplicateReport { id, version, state } => {
            async_graphql::Error::new(duplicate_message(err)).extend_with(|_, e| {
                e.set("code", code::CONFLICT);
                let mut existing = async_graphql::indexmap::IndexMap::new();
                existing.insert(
                    async_graphql::Name::new("id"),
                    async_graphql::Value::from(crate::ids::encode(crate::ids::Kind::ProgressReport, id.0).to_string()),
                );
                existing.insert(async_graphql::Name::new("version"), async_graphql::Value::from(*version));
                existing.insert(async_graphql::Name::new("state"), async_graphql::Value::from(state.as_str()));
                e.set("existingReport", async_graphql::Value::Object(existing));
            })
        }
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

/// The message of a duplicate-key CONFLICT, naming the live report by its global ID.
fn duplicate_message(err: &Error) -> String {
    match err {
        Error::DuplicateReport { id, version, state } => format!(
            "report {} (version {version}, {}) is already the live report for this reporter, task, period and kind; \
             edit it instead",
            crate::ids::encode(crate::ids::Kind::ProgressReport, id.0).as_str(),
            state.as_str()
        ),
        other => other.to_string(),
    }
}

/// The message clients see when something broke on our side.
pub const INTERNAL_MESSAGE: &str = "internal error; it has been logged";

/// The code and message of a rejected batch-sync item: the same codes as [`to_graphql`], plus
/// LOCKED. The message names the field, as the item has no `extensions` to carry it.
pub fn sync_rejection(reason: &RejectReason) -> (&'static str, String) {
    match reason {
        RejectReason::Locked(_) => (code::LOCKED, reason.to_string()),
        RejectReason::Invalid(err) => match err {
            Error::Validation { .. } => (code::BAD_USER_INPUT, err.to_string()),
            Error::NotFound { field, .. } => {
                (code::NOT_FOUND, format!("{}{err}", field.as_deref().map(|f| format!("{f}: ")).unwrap_or_default()))
            }
            Error::Forbidden(m) => (code::FORBIDDEN, m.clone()),
            Error::Conflict(m) => (code::CONFLICT, m.clone()),
            Error::StaleVersion { .. } => (code::CONFLICT, err.to_string()),
            Error::DuplicateReport { .. } => (code::CONFLICT, duplicate_message(err)),
            Error::Unauthenticated(m) => (code::UNAUTHENTICATED, m.clone()),
            Error::Internal(cause) => {
                tracing::error!(error = %cause, "internal error in a sync item");
                (code::INTERNAL, INTERNAL_MESSAGE.to_owned())
            }
        },
    }
}

/// The input field a rejected batch-sync item is about, when the error names one.
pub fn sync_rejection_field(reason: &RejectReason) -> Option<String> {
    match reason {
        RejectReason::Invalid(Error::Validation { field, .. }) => Some(field.clone()),
        RejectReason::Invalid(Error::NotFound { field, .. }) => field.clone(),
        _ => None,
    }
}

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

#[cfg(test)]
mod tests {
    use workplan_domain::report::ReportState;

    use super::*;

    #[test]
    fn sync_rejections_keep_their_codes_and_never_leak_internal_text() {
        let cases = [
            (
                RejectReason::Invalid(Error::validation("summary", "must not be empty")),
                "BAD_USER_INPUT",
                "summary: must not be empty",
            ),
            (
                RejectReason::Invalid(Error::not_found("task 107", Some("taskNumber"))),
                "NOT_FOUND",
                "taskNumber: task 107 not found",
            ),
            (RejectReason::Invalid(Error::Forbidden("not yours".into())), "FORBIDDEN", "not yours"),
            (RejectReason::Invalid(Error::Conflict("twice".into())), "CONFLICT", "twice"),
            (RejectReason::Locked(ReportState::Accepted), "LOCKED", "the report was accepted and is locked"),
            (RejectReason::Locked(ReportState::Withdrawn), "LOCKED", "the report was withdrawn"),
        ];
        for (reason, code, message) in cases {
            assert_eq!(sync_rejection(&reason), (code, message.to_owned()));
        }
        let db = std::io::Error::other("relation \"progress_reports\" does not exist");
        let (code, message) = sync_rejection(&RejectReason::Invalid(Error::internal(db)));
        assert_eq!(code, "INTERNAL");
        assert!(!message.contains("progress_reports"), "{message}");
    }
}
