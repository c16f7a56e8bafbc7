//! [`SeaStore`]: the connection pool, the schema migrations, write transactions and the health of
//! the database. The ports it implements live in rooms of their own: `plan.rs`, `reports.rs`,
//! `write.rs`, `tokens.rs`, `periods.rs`, `supervision.rs` and `adjustments.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, EntityTrait,
    IntoActiveModel, TryInsertResult,
};
use workplan_domain::ports::{Health, Leadership, Lease, Notice, Notifier, PoolStats, Topic};
use workplan_domain::{Error, Result};
use workplan_migration::{Migrator, MigratorTrait};

use crate::error::DbResultExt;
use crate::leadership::{PgLeadership, SoloLeadership};
use crate::live_facts::LiveFacts;
use crate::live_plan::LivePlan;
use crate::live_tokens::LiveTokens;
use crate::notify::{LocalNotifier, PgNotifier};
use crate::plan::SqlPlan;

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
    /// Write transactions run again after a deadlock (see [`SeaStore::retrying`]).
    pub(crate) retries: Arc<AtomicU64>,
    /// The plan in memory (`live_plan.rs`).
    pub(crate) plan: Arc<LivePlan>,
    /// The API tokens in memory (`live_tokens.rs`).
    pub(crate) tokens: Arc<LiveTokens>,
    /// The report facts supervision reads, in memory (`live_facts.rs`).
    pub(crate) facts: Arc<LiveFacts>,
    /// Woken after reports changed here: the keeper announces [`Topic::Reports`] (once for
    /// however many changes came since it last did).
    reports_dirty: Arc<tokio::sync::Notify>,
    /// Tells the other replicas what this store changed.
    notifier: Arc<dyn Notifier>,
    /// Which replica runs the due-date timer (`leadership.rs`).
    leadership: Arc<dyn Leadership>,
    /// Serialises writes within this process on SQLite, which has one writer at a time anyway
    /// (PostgreSQL writers run in parallel). See `write.rs`.
    pub(crate) writer: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for SeaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaStore").field("backend", &self.db.get_database_backend()).finish_non_exhaustive()
    }
}

/// Opens one connection to the PostgreSQL server at `url` and closes it again. The pool would
/// take a refused connection for a server still starting and try again until its acquire
/// timeout, then say only "pool timed out"; at start-up the real reason, at once, is better.
async fn probe_postgres(url: &str, timeout: Duration) -> Result<()> {
    use sea_orm::sqlx::ConnectOptions as _;
    let options: sea_orm::sqlx::postgres::PgConnectOptions = url.parse().map_err(Error::internal)?;
    match tokio::time::timeout(timeout, options.connect()).await {
        Ok(Ok(connection)) => {
            // Closing politely is a courtesy; the probe has done its work either way.
            let _ = sea_orm::sqlx::Connection::close(connection).await;
            Ok(())
        }
        Ok(Err(error)) => Err(Error::internal(error)),
        Err(_) => Err(Error::internal(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer from the server within {} s", timeout.as_secs_f32()),
        ))),
    }
}

/// The store is the notifier it announces through (so [`workplan_domain::ports::Ports::of`]
/// finds every port on it).
#[async_trait]
impl Notifier for SeaStore {
    async fn notify(&self, topic: Topic) -> Result<()> {
        self.notifier.notify(topic).await
    }

    fn subscribe(&self) -> Box<dyn workplan_domain::ports::Subscription> {
        self.notifier.subscribe()
    }
}

impl SeaStore {
    /// Connects to `url` (`sqlite://...` or `postgres://...`).
    ///
    /// # Errors
    /// When the database cannot be reached: on PostgreSQL the reason the first connection
    /// failed (e.g. "connection refused"), at once.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self> {
        if url.starts_with("postgres") {
            probe_postgres(url, options.acquire_timeout).await?;
        }
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .sqlx_logging(false)
            // SeaORM's statement spans carry the operation and the table (`db_spans.rs`), never
            // the statement's text.
            .record_stmt_in_spans(false);
        if url.starts_with("postgres") {
            opts.statement_timeout(options.statement_timeout);
        }
        let mut db = Database::connect(opts).await.map_err(Error::internal)?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        let backend = db.get_database_backend();
        db.set_metric_callback(move |info| {
            crate::db_spans::name_current(&info.statement.sql, backend);
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
        let (notifier, leadership): (Arc<dyn Notifier>, Arc<dyn Leadership>) = match db.get_database_backend() {
            DatabaseBackend::Postgres => (
                Arc::new(PgNotifier::new(db.get_postgres_connection_pool().clone(), url)),
                Arc::new(PgLeadership::new(url)),
            ),
            _ => (Arc::new(LocalNotifier::default()), Arc::new(SoloLeadership)),
        };
        Ok(Self {
            db,
            statements,
            retries: Arc::default(),
            plan: Arc::default(),
            tokens: Arc::default(),
            facts: Arc::default(),
            reports_dirty: Arc::default(),
            notifier,
            leadership,
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

    /// Reports changed through this store (or may have: the write failed or was abandoned):
    /// forgets the report facts at once, and has the keeper announce it to the other replicas.
    pub(crate) fn reports_changed(&self) {
        self.facts.invalidate();
        self.reports_dirty.notify_one();
    }

    /// The plan read with SQL on every call, bypassing the snapshot (it loads the snapshot,
    /// and tests compare the two).
    pub fn sql_plan(&self) -> SqlPlan {
        SqlPlan(self.clone())
    }

    /// Keeps this store's caches (the plan, the tokens, the report facts) in step with the
    /// other replicas until the returned task is aborted: reloads on every announcement,
    /// catches up after a lost one, and compares the plan's fingerprint every `every` in case
    /// an announcement never came (a writer in another process on SQLite cannot announce to
    /// this one). It also announces this store's report changes, coalesced: one announcement
    /// for every burst of writes, sent after they returned.
    pub fn keep_fresh(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        let mut notices = self.notifier.subscribe();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let work = tokio::select! {
                    notice = notices.next() => Some(notice),
                    () = store.reports_dirty.notified() => {
                        store.announce(Topic::Reports).await;
                        continue;
                    }
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
                            Some(Notice::Changed(Topic::Reports)) => {
                                store.facts.invalidate();
                                Ok(())
                            }
                            // Adjustments and due-date events are read afresh by whoever needs them.
                            Some(Notice::Changed(Topic::Obligations)) => Ok(()),
                            Some(Notice::Missed) => {
                                store.tokens.invalidate();
                                store.facts.invalidate();
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

    /// Runs `work` as background work of this store (the due-date timer, the webhook worker):
    /// like the keeper's, its statements belong to no request, so
    /// [`SeaStore::statement_count`] leaves them out.
    pub fn background<F: Future>(&self, work: F) -> impl Future<Output = F::Output> + use<F> {
        BACKGROUND.scope((), work)
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

    /// How many write transactions this store has run again because PostgreSQL ended them to
    /// break a deadlock (for tests and metrics).
    pub fn write_retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl Leadership for SeaStore {
    async fn lead(&self) -> Box<dyn Lease> {
        self.leadership.lead().await
    }
}

/// Inserts `row` with `ON CONFLICT … DO NOTHING` (`on_conflict` names the key, or none for
/// every unique key); the stored row, or `None` when the key was taken. A key that a concurrent
/// transaction is inserting makes this wait for it to end: then it inserts (the other rolled
/// back) or does nothing (the other committed) — never a unique violation, which would abort
/// the whole transaction on PostgreSQL.
pub(crate) async fn insert_unless_taken<A, C>(
    db: &C,
    row: A,
    on_conflict: OnConflict,
) -> Result<Option<<A::Entity as EntityTrait>::Model>>
where
    A: ActiveModelTrait,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    C: ConnectionTrait,
{
    // `exec_with_returning` would report the row not inserted as "not found"; the `_many`
    // form returns what was inserted: one row, or none.
    let insert = <A::Entity as EntityTrait>::insert(row).on_conflict(on_conflict).try_insert();
    match insert.exec_with_returning_many(db).await.db()? {
        TryInsertResult::Inserted(rows) => Ok(rows.into_iter().next()),
        TryInsertResult::Conflicted | TryInsertResult::Empty => Ok(None),
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
        PoolStats { size, idle, statements: self.statement_count(), write_retries: self.write_retries() }
    }
}
