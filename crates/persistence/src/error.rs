//! Classifies database errors into domain errors, once, before they leave this crate.

use sea_orm::{DbErr, RuntimeErr, SqlErr};
use workplan_domain::Error;

/// PostgreSQL's SQLSTATE for `deadlock_detected`.
const DEADLOCK_DETECTED: &str = "40P01";

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

/// The SQLSTATE the database answered with, if the error came from the database.
fn sqlstate(err: &DbErr) -> Option<String> {
    match err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            e.as_database_error().and_then(sea_orm::sqlx::error::DatabaseError::code).map(std::borrow::Cow::into_owned)
        }
        _ => None,
    }
}

/// Whether PostgreSQL ended this transaction to break a deadlock with another one. The
/// transaction was rolled back whole, the other went on, so running it again from the start
/// is safe (see `SeaStore::retrying`).
pub(crate) fn is_deadlock(err: &Error) -> bool {
    match err {
        Error::Internal(source) => {
            source.downcast_ref::<DbErr>().and_then(sqlstate).is_some_and(|code| code == DEADLOCK_DETECTED)
        }
        _ => false,
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
