//! One replica at a time prepares the database: replicas started together (two containers of
//! one deployment, say) would otherwise both create the same tables and load the same plan,
//! and the loser would fail with "relation already exists" or a unique violation.
//!
//! On PostgreSQL a session advisory lock, held on a connection taken out of the pool for the
//! purpose, covers migrating and loading; the next replica waits for it, then finds everything
//! done and changes nothing. Ending the connection ends the lock, so a replica that dies while
//! preparing cannot leave it held. SQLite is one process's file: nothing to coordinate.

use sea_orm::DatabaseBackend;
use sea_orm::sqlx::{Connection as _, PgConnection};

use crate::SeaStore;
use workplan_domain::{Error, Result};

/// The advisory lock's key: "workplan" in ASCII, so it stays apart from other users' keys.
const PREPARATION_KEY: i64 = 0x776f_726b_706c_616e;

/// Held while this replica prepares the database; dropping it lets the next one in.
#[must_use = "the lock is released when this is dropped"]
pub struct PreparationLock(Option<PgConnection>);

impl PreparationLock {
    /// Releases the lock now (dropping does too, by closing its connection).
    pub async fn release(mut self) {
        if let Some(connection) = self.0.take() {
            let _ = connection.close().await;
        }
    }
}

impl SeaStore {
    /// Waits until no other replica is preparing this database, then holds it until the
    /// returned lock is dropped (a no-op on SQLite).
    ///
    /// # Errors
    /// When no connection can be had or the lock cannot be taken.
    pub async fn preparation_lock(&self) -> Result<PreparationLock> {
        let db = &self.db;
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(PreparationLock(None));
        }
        // Out of the pool: closed, not returned, when the lock is dropped, so the session lock
        // can never outlive this replica's preparation on a pooled connection.
        let mut connection = db.get_postgres_connection_pool().acquire().await.map_err(Error::internal)?.detach();
        sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(PREPARATION_KEY)
            .execute(&mut connection)
            .await
            .map_err(Error::internal)?;
        Ok(PreparationLock(Some(connection)))
    }
}
