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
use workplan_domain::ports::{Health, Notice, Notifier, PoolStats, Topic};
use workplan_domain::{Error, Result};
use workplan_migration::{Migrator, MigratorTrait};

use crate::error::DbResultExt;
use crate::live_plan::LivePlan;
use crate::live_tokens::LiveTokens;
use crate::notify::{LocalNotifier, PgNotifier};
use crate::plan::SqlPlan;

/// The advisory lock key report writers share on PostgreSQL ("workplan" in ASCII, truncated).
const WRITE_LOCK_KEY: i64 = 0x776f_726b_706c_616e;

/// How long a write transaction's statements (including the wait for the lock) may take on
/// PostgreSQL, in milliseconds: under the 10 s request timeout.
const WRITE_TIMEOUT_MS: u32 = 9_000;

tokio::task_local! {
    /// Set while the keeper ([`SeaStore::keep_fresh`]) runs: its statements (the plan's
    /// fingerprint, reloads) belong to no request, so [`SeaStore::statement_count`] leaves them
    /// out and the statements a request costs can be measured exactly.
    static BACKGROUND: ();
}

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
#[derive(Clone)]
pub struct SeaStore {
    pub(crate) db: DatabaseConnection,
    statements: Arc<AtomicU64>,
    /// The plan in memory (`live_plan.rs`).
    pub(crate) plan: Arc<LivePlan>,
    /// The API tokens in memory (`live_tokens.rs`).
    pub(crate) tokens: Arc<LiveTokens>,
    /// Tells the other replicas what this store changed.
    notifier: Arc<dyn Notifier>,
    /// Serialises report writes within this process on SQLite (PostgreSQL uses an advisory
    /// lock, which also holds across replicas). See `write.rs`.
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for SeaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaStore").field("backend", &self.db.get_database_backend()).finish_non_exhaustive()
    }
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
            let params = info.statement.values.as_ref().map_or(0, |v| v.0.len());
            tracing::trace!(target: "workplan::sql", elapsed = ?info.elapsed, failed = info.failed, params, sql = %info.statement.sql);
            // Statements of the background keeper are not any request's (see `BACKGROUND`).
            if BACKGROUND.try_with(|()| ()).is_err() {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        if db.get_database_backend() == DatabaseBackend::Sqlite {
            // WAL lets readers proceed while one writer commits.
            db.execute_unprepared("PRAGMA journal_mode=WAL").await.db()?;
        }
        let notifier: Arc<dyn Notifier> = match db.get_database_backend() {
            DatabaseBackend::Postgres => Arc::new(PgNotifier::new(db.get_postgres_connection_pool().clone(), url)),
            _ => Arc::new(LocalNotifier::default()),
        };
        Ok(Self {
            db,
            statements,
            plan: Arc::default(),
            tokens: Arc::default(),
            notifier,
            writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The notifier this store announces its changes through; subscribe to it to hear every
    /// replica's.
    pub fn notifier(&self) -> Arc<dyn Notifier> {
        self.notifier.clone()
    }

    /// Announces that `topic` changed, after the write committed. A failure is logged, not
    /// returned: the write stands, and the other replicas' periodic catch-up covers it.
    pub(crate) async fn announce(&self, topic: Topic) {
        if let Err(error) = self.notifier.notify(topic).await {
            tracing::warn!(error = %error, topic = topic.as_str(), "could not announce a change");
        }
    }

    /// The plan read with SQL on every call, bypassing the snapshot (it loads the snapshot,
    /// and tests compare the two).
    pub fn sql_plan(&self) -> SqlPlan {
        SqlPlan(self.clone())
    }

    /// Keeps this store's caches (the plan, the tokens) in step with the other replicas until
    /// the returned task is aborted: reloads on every announcement, catches up after a lost
    /// one, and compares the plan's fingerprint every `every` in case an announcement never
    /// came (a writer in another process on SQLite cannot announce to this one).
    pub fn keep_fresh(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        let mut notices = self.notifier.subscribe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let work = tokio::select! {
                    notice = notices.next() => Some(notice),
                    _ = tick.tick() => None,
                };
                let outcome = BACKGROUND
                    .scope((), async {
                        match work {
                            Some(Notice::Changed(Topic::Plan)) => store.plan.reload(&store).await,
                            Some(Notice::Changed(Topic::Tokens)) => {
                                store.tokens.invalidate();
                                Ok(())
                            }
                            Some(Notice::Missed) => {
                                store.tokens.invalidate();
                                store.plan.refresh_if_changed(&store).await.map(|_| ())
                            }
                            None => store.plan.refresh_if_changed(&store).await.map(|_| ()),
                        }
                    })
                    .await;
                if let Err(error) = outcome {
                    tracing::warn!(error = %error, "could not refresh the plan snapshot; will retry");
                }
            }
        })
    }

    /// Brings the schema up to date.
    pub async fn migrate(&self) -> Result<()> {
        Migrator::up(&self.db, None).await.db()
    }

    /// How many SQL statements this store has run for callers (for tests and metrics); the
    /// keeper's background statements are not counted.
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
