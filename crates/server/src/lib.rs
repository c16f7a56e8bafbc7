//! workplan-server: the `workplan` binary's library. It wires the SeaORM store into the GraphQL API
//! and serves it ([`Application`]); it owns the configuration ([`config::Settings`], read from
//! the command line in [`cli`]), telemetry, the database's first-start preparation and the
//! subcommands. Nothing depends on this crate but the tests.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::http::HeaderName;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use workplan_domain::ports::Ports;
use workplan_persistence::{SeaStore, StoreOptions};

pub mod cli;
pub mod commands;
pub mod config;
mod database;
pub mod listener;
pub mod telemetry;

pub use database::{AGENCIES_JSON, PLAN_JSON, PROVINCES_JSON, prepare_database, redact, seed_data};
pub use listener::ConnectionLimits;

/// How often a running server compares the plan's fingerprint with its snapshot's, in case an
/// announcement of a change never reached it (see `SeaStore::keep_fresh`).
pub const PLAN_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The running service: a bound listener and the app behind it.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: SeaStore,
    connections: ConnectionLimits,
    /// The due-date timer (`workplan_api::due_date_timer`), started by [`Self::run_until`].
    timer: Box<dyn FnOnce() -> tokio::task::JoinHandle<()> + Send>,
    /// The webhook worker (`workplan_api::webhook::deliver`), started by [`Self::run_until`].
    webhooks: workplan_api::webhook::deliver::Worker,
}

impl Application {
    /// Prepares the database and binds `listen` (port 0 picks a free port).
    ///
    /// # Errors
    /// When the database cannot be prepared or the address cannot be bound.
    pub async fn build(
        database_url: &str,
        listen: SocketAddr,
        options: &StoreOptions,
        config: workplan_api::config::ApiConfig,
    ) -> anyhow::Result<Self> {
        Self::build_with_clock(database_url, listen, options, config, Arc::new(workplan_domain::ports::SystemClock))
            .await
    }

    /// [`Self::build`], telling the time of writes by `clock` (tests move a manual one).
    ///
    /// # Errors
    /// When the database cannot be prepared or the address cannot be bound.
    pub async fn build_with_clock(
        database_url: &str,
        listen: SocketAddr,
        options: &StoreOptions,
        config: workplan_api::config::ApiConfig,
        clock: Arc<dyn workplan_domain::ports::Clock>,
    ) -> anyhow::Result<Self> {
        Self::build_with_limits(database_url, listen, options, config, clock, ConnectionLimits::default()).await
    }

    /// [`Self::build_with_clock`], with the HTTP server's timeouts and caps `connections`.
    ///
    /// # Errors
    /// When the database cannot be prepared or the address cannot be bound.
    pub async fn build_with_limits(
        database_url: &str,
        listen: SocketAddr,
        options: &StoreOptions,
        config: workplan_api::config::ApiConfig,
        clock: Arc<dyn workplan_domain::ports::Clock>,
        connections: ConnectionLimits,
    ) -> anyhow::Result<Self> {
        let store = prepare_database(database_url, options).await?;
        // Load the plan into memory now, so the first request does not wait for it.
        store.plan_snapshot().await.context("cannot load the plan")?;
        let ports = Ports::of(Arc::new(store.clone()));
        let timer = {
            let (ports, clock, config, store) = (ports.clone(), clock.clone(), config.clone(), store.clone());
            // Its statements are the store's background work, not any request's.
            Box::new(move || tokio::spawn(store.background(workplan_api::due_date_timer::run(ports, clock, &config))))
        };
        let webhooks = workplan_api::webhook::deliver::Worker::new(&ports, clock.clone(), config.webhooks)
            .context("cannot set up the webhook client")?;
        let state = workplan_api::AppState::with_config(ports, config).with_clock(clock);
        let request_id = HeaderName::from_static("x-request-id");
        let router = workplan_api::router(state)
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid));
        let listener =
            listener::bind(listen, connections.backlog).with_context(|| format!("cannot listen on {listen}"))?;
        Ok(Self { listener, router, store, connections, timer, webhooks })
    }

    /// The address actually bound.
    ///
    /// # Errors
    /// When the operating system cannot say (it always can for a bound TCP listener).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The store (tests read its statement counter).
    pub fn store(&self) -> &SeaStore {
        &self.store
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish. While it serves,
    /// the store's keeper keeps its caches fresh, the due-date timer runs (when this replica
    /// leads the cluster) and the webhook worker delivers (see [`workplan_api::webhook::deliver`]).
    ///
    /// # Errors
    /// Never at present: accept errors are logged and retried (see [`listener`]).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let keeper = self.store.keep_fresh(PLAN_CHECK_EVERY);
        let timer = (self.timer)();
        let webhooks = tokio::spawn(self.store.background(self.webhooks.run(self.store.notifier().as_ref())));
        listener::serve(self.listener, self.router, self.connections, shutdown).await;
        timer.abort();
        webhooks.abort();
        keeper.abort();
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing in-flight requests");
}

/// Store options with the default timeouts and a pool of `max_connections` (tests size their
/// pools with it).
pub fn store_options(max_connections: u32) -> StoreOptions {
    config::Settings { db_max_connections: max_connections, ..config::Settings::default() }.store_options()
}
