//! Write transactions: how one begins (the SQLite writer lock, `BEGIN IMMEDIATE`), and how a
//! transaction that PostgreSQL ended to break a deadlock runs again.

use std::sync::atomic::Ordering;

use sea_orm::{DatabaseBackend, DatabaseTransaction, SqliteTransactionMode, TransactionOptions, TransactionTrait};
use workplan_domain::Result;

use crate::error::{DbResultExt, is_deadlock};
use crate::store::SeaStore;

/// How many times a write transaction runs when PostgreSQL keeps ending it to break deadlocks
/// (see [`SeaStore::retrying`]).
const WRITE_ATTEMPTS: u32 = 3;

/// An open write transaction, holding the SQLite writer lock on SQLite (see
/// [`SeaStore::begin_write`]).
pub(crate) struct WriteTx {
    pub(crate) txn: DatabaseTransaction,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SeaStore {
    /// On SQLite, the process-wide writer lock: SQLite has one writer at a time, so the writes
    /// of this process take turns here, in order, rather than in SQLite's busy handler, which
    /// sleeps and polls ([`SeaStore::begin_writing`] covers writers in other connections).
    /// `None` on PostgreSQL.
    pub(crate) async fn sqlite_writer(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => Some(self.writer.clone().lock_owned().await),
            _ => None,
        }
    }

    /// Opens a write transaction. On SQLite it holds the process's writer lock until it ends
    /// (see [`SeaStore::sqlite_writer`]). On PostgreSQL writers run in parallel, each in its own
    /// READ COMMITTED transaction, and every guarantee is kept by the statements themselves,
    /// not by a lock that makes writers queue: see `write.rs` for reports (row locks, versions
    /// checked by the UPDATE, `INSERT … ON CONFLICT DO NOTHING` on the unique keys), `periods.rs`
    /// and `adjustments.rs`; and `reports.rs` for why the change feed still never skips a change
    /// that commits late.
    pub(crate) async fn begin_write(&self) -> Result<WriteTx> {
        let guard = self.sqlite_writer().await;
        let txn = self.begin_writing().await?;
        Ok(WriteTx { txn, _guard: guard })
    }

    /// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: it takes the
    /// database's write lock at once, waiting for another connection's writer up to the busy
    /// timeout. A deferred transaction would take it at its first write, and when it has read
    /// first and another connection — another process, or a second store on the same file —
    /// wrote meanwhile, SQLite fails it at once ("database is locked") rather than wait, since
    /// waiting could not make its reads current again. Within one store the writer lock
    /// ([`SeaStore::sqlite_writer`]) already has writers take turns; this covers the others.
    pub(crate) async fn begin_writing(&self) -> Result<DatabaseTransaction> {
        let options = match self.db.get_database_backend() {
            DatabaseBackend::Sqlite => TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            },
            _ => TransactionOptions::default(),
        };
        self.db.begin_with_options(options).await.db()
    }

    /// Runs `write` — one whole write transaction, from [`SeaStore::begin_write`] to its commit —
    /// and runs it again, up to [`WRITE_ATTEMPTS`] times in all, when PostgreSQL ended it to
    /// break a deadlock. Writers that wait on each other's rows and keys in opposite orders can
    /// deadlock now that they run in parallel — say an edit that moves a report onto a key
    /// another transaction holds while that one waits for the edited report (batches of one
    /// reporter, which would do it all the time, take turns: see `write/sync.rs`). PostgreSQL
    /// rolls one back whole and lets the other finish, so the victim can simply start again and
    /// decide on what the winner committed.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut write: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 1;
        loop {
            match write().await {
                Err(error) if attempt < WRITE_ATTEMPTS && is_deadlock(&error) => {
                    tracing::info!(attempt, "a write transaction was ended to break a deadlock; running it again");
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::ConnectionTrait;

    use crate::store::{SeaStore, StoreOptions};

    /// A write transaction that has read must still be able to write what it decided: on
    /// SQLite no other connection may write in between. Begun deferred, it would not: the
    /// other connection's write would go through at once, and this transaction's write then
    /// fail with "database is locked" (SQLITE_BUSY_SNAPSHOT, no busy wait).
    #[tokio::test]
    async fn on_sqlite_a_write_transaction_holds_the_write_lock_from_its_begin() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let this = SeaStore::connect(&url, &StoreOptions::default()).await.expect("this store");
        let other = SeaStore::connect(&url, &StoreOptions::default()).await.expect("another store");
        this.db.execute_unprepared("CREATE TABLE t (x INTEGER)").await.expect("table");

        let txn = this.begin_writing().await.expect("begin");
        txn.execute_unprepared("SELECT COUNT(*) FROM t").await.expect("this transaction reads");
        let writer = tokio::spawn(async move { other.db.execute_unprepared("INSERT INTO t VALUES (2)").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!writer.is_finished(), "the other connection's write waits for this transaction");
        txn.execute_unprepared("INSERT INTO t VALUES (1)").await.expect("this transaction writes");
        txn.commit().await.expect("commit");
        writer.await.expect("join").expect("then the other connection writes");
    }
}
