//! [`Leadership`]: which replica runs the due-date timer.
//!
//! On PostgreSQL a replica leads while it holds a **session** advisory lock
//! (`pg_try_advisory_lock`) on a connection of its own — not one of the pool's, which go back
//! to the pool between statements, and not through PgBouncer in transaction mode, which hands
//! the server connection (and with it the lock) to other clients between transactions. The
//! others try again every [`RETRY`]. The leader checks its connection every [`CHECK`]: when
//! it drops, PostgreSQL releases the lock (another replica takes over), and the leader stops
//! leading and tries again. On SQLite the one process leads ([`SoloLeadership`]).

use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sqlx::{Connection as _, PgConnection};
use workplan_domain::ports::{Leadership, Lease};

/// The advisory lock's key ("wpdt" in ASCII: workplan due-date timer).
pub const TIMER_LOCK: i64 = 0x7770_6474;

/// How often a replica that does not lead tries again.
const RETRY: Duration = Duration::from_secs(2);

/// How often the leader checks that its connection (and so its lock) is still there.
const CHECK: Duration = Duration::from_secs(1);

/// The one process on SQLite leads from the start and never stops.
#[derive(Debug, Clone, Copy, Default)]
pub struct SoloLeadership;

struct Forever;

#[async_trait]
impl Lease for Forever {
    async fn lost(&mut self) {
        std::future::pending::<()>().await;
    }
}

#[async_trait]
impl Leadership for SoloLeadership {
    async fn lead(&self) -> Box<dyn Lease> {
        Box::new(Forever)
    }
}

/// Leadership by a session advisory lock on a dedicated PostgreSQL connection.
#[derive(Debug, Clone)]
pub struct PgLeadership {
    url: String,
}

impl PgLeadership {
    /// Leadership among the replicas on the database at `url`.
    pub fn new(url: &str) -> Self {
        Self { url: url.to_owned() }
    }

    /// Opens a connection and tries for the lock until it holds it, or the connection fails.
    async fn try_on_new_connection(&self) -> Result<PgConnection, sea_orm::sqlx::Error> {
        let mut connection = PgConnection::connect(&self.url).await?;
        loop {
            let held: bool = sea_orm::sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(TIMER_LOCK)
                .fetch_one(&mut connection)
                .await?;
            if held {
                return Ok(connection);
            }
            tokio::time::sleep(RETRY).await;
        }
    }
}

/// The lock, held as long as this connection lives.
struct PgLease(PgConnection);

#[async_trait]
impl Lease for PgLease {
    async fn lost(&mut self) {
        loop {
            tokio::time::sleep(CHECK).await;
            if let Err(error) = sea_orm::sqlx::query("SELECT 1").execute(&mut self.0).await {
                tracing::warn!(error = %error, "the due-date timer lost its connection, and with it leadership");
                return;
            }
        }
    }
}

#[async_trait]
impl Leadership for PgLeadership {
    async fn lead(&self) -> Box<dyn Lease> {
        loop {
            match self.try_on_new_connection().await {
                Ok(connection) => {
                    tracing::info!("this replica now runs the due-date timer");
                    return Box::new(PgLease(connection));
                }
                Err(error) => tracing::warn!(error = %error, "cannot try for the due-date timer's lock; retrying"),
            }
            tokio::time::sleep(RETRY).await;
        }
    }
}
