//! The [`Notifier`] port: an in-process broadcast ([`LocalNotifier`], SQLite: one process) and
//! PostgreSQL `LISTEN`/`NOTIFY` ([`PgNotifier`]: every replica on one database).
//!
//! [`PgNotifier`] sends with `pg_notify` on a pooled connection after the write committed, and
//! listens on one dedicated connection per process, opened when the first subscriber arrives.
//! When that connection drops, the listener reconnects with a growing pause and tells every
//! subscriber [`Notice::Missed`] (announcements made while it was away are lost), so they
//! catch up by re-reading; a subscriber that falls behind the broadcast hears the same.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sqlx::PgPool;
use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use workplan_domain::ports::{Notice, Notifier, Subscription, Topic};
use workplan_domain::{Error, Result};

/// The PostgreSQL channel every replica listens on.
pub const CHANNEL: &str = "workplan";

/// How many notices a slow subscriber may fall behind before it hears [`Notice::Missed`].
const BACKLOG: usize = 256;

/// The longest pause between two attempts to reconnect the listener.
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// A subscription to a broadcast of notices.
struct Receiver(broadcast::Receiver<Notice>);

#[async_trait]
impl Subscription for Receiver {
    async fn next(&mut self) -> Notice {
        match self.0.recv().await {
            Ok(notice) => notice,
            Err(broadcast::error::RecvError::Lagged(_)) => Notice::Missed,
            // The sender lives as long as the notifier; once it is gone nothing more comes.
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// Announcements within this process only: enough for SQLite, which one process serves.
#[derive(Debug, Clone)]
pub struct LocalNotifier {
    sender: broadcast::Sender<Notice>,
}

impl Default for LocalNotifier {
    fn default() -> Self {
        Self { sender: broadcast::channel(BACKLOG).0 }
    }
}

#[async_trait]
impl Notifier for LocalNotifier {
    async fn notify(&self, topic: Topic) -> Result<()> {
        // No subscriber is not an error: nobody caches anything yet.
        let _ = self.sender.send(Notice::Changed(topic));
        Ok(())
    }

    fn subscribe(&self) -> Box<dyn Subscription> {
        Box::new(Receiver(self.sender.subscribe()))
    }
}

/// `LISTEN`/`NOTIFY` on PostgreSQL: announcements reach every process on the same database.
#[derive(Debug, Clone)]
pub struct PgNotifier {
    pool: PgPool,
    url: String,
    sender: broadcast::Sender<Notice>,
    listening: Arc<Listening>,
}

/// The listening task, if started; stopped when the last clone of the notifier goes.
#[derive(Debug, Default)]
struct Listening(Mutex<Option<tokio::task::JoinHandle<()>>>);

impl Drop for Listening {
    fn drop(&mut self) {
        if let Some(task) = self.0.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            task.abort();
        }
    }
}

impl PgNotifier {
    /// A notifier sending through `pool`; when the first subscriber comes it starts listening
    /// on a connection of its own to `url` (not one of the pool's, which serve requests).
    pub fn new(pool: PgPool, url: &str) -> Self {
        Self { pool, url: url.to_owned(), sender: broadcast::channel(BACKLOG).0, listening: Arc::default() }
    }

    /// Listens until the notifier is dropped, reconnecting whenever the connection drops. After
    /// every (re)connection, once it listens again, subscribers hear [`Notice::Missed`]: what
    /// was announced before it listened is lost, and they catch up by re-reading.
    async fn listen(url: String, sender: broadcast::Sender<Notice>) {
        let mut pause = Duration::from_millis(100);
        loop {
            match Self::connect(&url).await {
                Ok(mut listener) => {
                    pause = Duration::from_millis(100);
                    let _ = sender.send(Notice::Missed);
                    let error = Self::relay(&mut listener, &sender).await;
                    tracing::warn!(error = %error, "the notification listener lost its connection; reconnecting");
                }
                Err(error) => tracing::warn!(error = %error, "cannot open the notification listener; retrying"),
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }

    async fn connect(url: &str) -> std::result::Result<PgListener, sea_orm::sqlx::Error> {
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }

    /// Relays announcements until the connection drops and cannot be opened again at once.
    async fn relay(listener: &mut PgListener, sender: &broadcast::Sender<Notice>) -> sea_orm::sqlx::Error {
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    if let Some(topic) = Topic::parse(notification.payload()) {
                        let _ = sender.send(Notice::Changed(topic));
                    } else {
                        tracing::debug!(payload = notification.payload(), "ignored an unknown notification");
                    }
                }
                // The connection dropped and the listener opened a new one, listening again:
                // whatever was announced in between is lost.
                Ok(None) => {
                    tracing::warn!("the notification listener reconnected");
                    let _ = sender.send(Notice::Missed);
                }
                Err(error) => return error,
            }
        }
    }
}

#[async_trait]
impl Notifier for PgNotifier {
    async fn notify(&self, topic: Topic) -> Result<()> {
        sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(topic.as_str())
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(Error::internal)
    }

    fn subscribe(&self) -> Box<dyn Subscription> {
        let receiver = self.sender.subscribe();
        let mut listening = self.listening.0.lock().unwrap_or_else(PoisonError::into_inner);
        if listening.as_ref().is_none_or(tokio::task::JoinHandle::is_finished) {
            *listening = Some(tokio::spawn(Self::listen(self.url.clone(), self.sender.clone())));
        }
        Box::new(Receiver(receiver))
    }
}
