//! workplan-server: wires the SeaORM store into the GraphQL API and serves it. Configuration,
//! telemetry and the database's first-start preparation live here; `main.rs` is the CLI.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::http::HeaderName;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use workplan_domain::seed::{PlanSeed, ProvinceSeed, provinces_from_json};
use workplan_persistence::{SeaStore, StoreOptions};

pub mod telemetry;

/// The plan the service loads on first start (made by `workplan import-plan`).
pub const PLAN_JSON: &str = include_str!("../../../seeds/plan-2016-66.json");
/// The provincial-level divisions.
pub const PROVINCES_JSON: &str = include_str!("../../../seeds/provinces.json");
/// The agency registry the importer places agency names against.
pub const AGENCIES_JSON: &str = include_str!("../../../seeds/agencies.json");
/// The database used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://workplan.db?mode=rwc";

/// The embedded plan and provinces.
pub fn seed_data() -> anyhow::Result<(PlanSeed, Vec<ProvinceSeed>)> {
    let plan = PlanSeed::from_json(PLAN_JSON).context("the embedded plan is invalid")?;
    let provinces = provinces_from_json(PROVINCES_JSON).context("the embedded provinces are invalid")?;
    Ok((plan, provinces))
}

/// Connects, migrates and loads the plan if it is not there yet. Running it again changes
/// nothing.
pub async fn prepare_database(database_url: &str, options: &StoreOptions) -> anyhow::Result<SeaStore> {
    let store = SeaStore::connect(database_url, options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(database_url)))?;
    store.migrate().await.context("migrating the database failed")?;
    let (plan, provinces) = seed_data()?;
    let outcome = store.load_seed(&plan, &provinces).await.context("loading the plan failed")?;
    if outcome.plan_inserted {
        tracing::info!(document = %plan.document.document_number, "loaded the plan");
    }
    if outcome.provinces_inserted > 0 {
        tracing::info!(count = outcome.provinces_inserted, "loaded the provinces");
    }
    Ok(store)
}

/// A database URL with any password replaced, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The running service: a bound listener and the app behind it.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: SeaStore,
}

impl Application {
    /// Prepares the database and binds `listen` (port 0 picks a free port).
    pub async fn build(
        database_url: &str,
        listen: SocketAddr,
        options: &StoreOptions,
        config: workplan_api::config::ApiConfig,
    ) -> anyhow::Result<Self> {
        let store = prepare_database(database_url, options).await?;
        let state = workplan_api::AppState::with_config(Arc::new(store.clone()), config);
        let request_id = HeaderName::from_static("x-request-id");
        let router = workplan_api::router(state)
            .layer(PropagateRequestIdLayer::new(request_id.clone()))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::http::Request<axum::body::Body>| {
                let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
                tracing::info_span!("http", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }))
            .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid));
        let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        Ok(Self { listener, router, store })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The store (tests read its statement counter).
    pub fn store(&self) -> &SeaStore {
        &self.store
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .context("the server failed")
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

/// Store options from defaults; kept here so the CLI and tests agree.
pub fn store_options(max_connections: u32) -> StoreOptions {
    StoreOptions { max_connections, statement_timeout: Duration::from_secs(5), acquire_timeout: Duration::from_secs(5) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("sqlite://workplan.db?mode=rwc"), "sqlite://workplan.db?mode=rwc");
    }

    #[test]
    fn embedded_seed_data_is_valid() {
        let (plan, provinces) = seed_data().expect("valid");
        assert_eq!(plan.tasks().count(), 106);
        assert_eq!(provinces.len(), 31);
    }
}
