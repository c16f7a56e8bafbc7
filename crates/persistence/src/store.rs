//! [`SeaStore`]: the connection pool, the schema migrations, the write lock and the health of
//! the database. The ports it implements live in rooms of their own: `plan.rs`, `reports.rs`,
//! `write.rs`, `tokens.rs`, `periods.rs`, `supervision.rs` and `adjustments.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    TransactionTrait,
};
use workplan_domain::ports::{Health, PoolStats};
use workplan_domain::{Error, Result};
use workplan_migration::{Migrator, MigratorTrait};

use crate::error::DbResultExt;

/// The advisory lock key report writers share on PostgreSQL ("workplan" in ASCII, truncated).
const WRITE_LOCK_KEY: i64 = 0x776f_726b_706c_616e;

/// How long a write transaction's statements (including the wait for the lock) may take on
/// PostgreSQL, in milliseconds: under the 10 s request timeout.
const WRITE_TIMEOUT_MS: u32 = 9_000;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// Longest a single statement may run (PostgreSQL).
    pub statement_timeout: Duration,
    /// Longest to wait for a pooled connection.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { max_connections: 10, statement_timeout: Duration::from_secs(5), acquire_timeout: Duration::from_secs(5) }
    }
}

/// The plan store on a SQLite or PostgreSQL database.
#[derive(Clone, Debug)]
pub struct SeaStore {
    pub(crate) db: DatabaseConnection,
    statements: Arc<AtomicU64>,
    /// Serialises report writes within this process on SQLite (PostgreSQL uses an advisory
    /// lock, which also holds across replicas). See `write.rs`.
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// An open write transaction holding the write lock (see [`SeaStore::begin_write`]).
pub(crate) struct WriteTx {
    pub(crate) txn: DatabaseTransaction,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SeaStore {
    /// Connects to `url` (`sqlite://...` or `postgres://...`).
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(options.max_connections).acquire_timeout(options.acquire_timeout).sqlx_logging(false);
        if url.starts_with("postgres") {
            opts.statement_timeout(options.statement_timeout);
        }
        let mut db = Database::connect(opts).await.map_err(Error::internal)?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |info| {
            tracing::trace!(target: "workplan::sql", elapsed = ?info.elapsed, failed = info.failed, sql = %info.statement.sql);
            counter.fetch_add(1, Ordering::Relaxed);
        });
        if db.get_database_backend() == DatabaseBackend::Sqlite {
            // WAL lets readers proceed while one writer commits.
            db.execute_unprepared("PRAGMA journal_mode=WAL").await.db()?;
        }
        Ok(Self { db, statements, writer: Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await.db()
    }

    /// How many SQL statements this store has run (for tests and metrics).
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// On SQLite, the process-wide writer lock: SQLite has one writer at a time, and a
    /// transaction that read before writing fails at once (no busy wait) if another connection
    /// wrote in between, so every write in this process takes turns. `None` on PostgreSQL.
    pub(crate) async fn sqlite_writer(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => Some(self.writer.clone().lock_owned().await),
            _ => None,
        }
    }

    /// Opens a report-write transaction that holds the write lock until it ends: the SQLite
    /// writer lock, or on PostgreSQL a transaction-scoped advisory lock that every replica
    /// shares. Holding it is what keeps change-feed ids in commit order (see `write.rs`).
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        let backend = self.db.get_database_backend();
        let guard = self.sqlite_writer().await;
        let txn = self.db.begin().await.db()?;
        if backend == DatabaseBackend::Postgres {
            // Waiting for the lock counts against the statement timeout; writers queue behind
            // each other, so give them longer than readers get.
            txn.execute_unprepared(&format!("SET LOCAL statement_timeout = {WRITE_TIMEOUT_MS}")).await.db()?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")).await.db()?;
        }
        Ok(WriteTx { txn, _guard: guard })
    }
}

#[async_trait]
impl Health for SeaStore {
    async fn ping(&self) -> Result<()> {
        self.db.ping().await.db()
    }

    fn pool_stats(&self) -> PoolStats {
        let (size, idle) = match self.db.get_database_backend() {
            DatabaseBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
            }
            DatabaseBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
            }
            _ => (0, 0),
        };
        PoolStats { size, idle, statements: self.statement_count() }
    }
}
