//! Classifies database errors into domain errors, once, before they leave this crate.

use sea_orm::{DbErr, SqlErr};
use workplan_domain::Error;

/// Turns a database error into the domain error a client can act on. The database's own
/// message (which may quote SQL or values) only travels inside `Internal`, for the logs.
pub(crate) fn classify(err: DbErr) -> Error {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::Conflict("a record with the same key already exists".to_owned())
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
            Error::validation("input", "refers to a record that does not exist")
        }
        _ => match err {
            DbErr::RecordNotFound(_) => Error::not_found("record", None),
            other => Error::internal(other),
        },
    }
}

/// Shorthand for `map_err(classify)`.
pub(crate) trait DbResultExt<T> {
    fn db(self) -> Result<T, Error>;
}

impl<T> DbResultExt<T> for Result<T, DbErr> {
    fn db(self) -> Result<T, Error> {
        self.map_err(classify)
    }
}
