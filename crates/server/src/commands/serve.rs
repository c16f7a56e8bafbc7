//! `workplan serve`: the GraphQL API and GraphiQL until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use workplan_domain::ports::SystemClock;

use crate::config::Settings;
use crate::{Application, shutdown_signal};

/// Prepares the database, binds `listen` and serves until a shutdown signal.
pub(super) async fn run(settings: &Settings, listen: SocketAddr) -> anyhow::Result<()> {
    let open_files = crate::listener::open_file_limit();
    let app = Application::build_with_limits(
        &settings.database_url,
        listen,
        &settings.store_options(),
        settings.api_config(),
        Arc::new(SystemClock),
        settings.connections,
    )
    .await?;
    let addr = app.local_addr()?;
    let limits = &settings.connections;
    tracing::info!(
        max_connections = limits.max_connections,
        open_files,
        header_read_timeout = ?limits.header_read_timeout,
        keep_alive_timeout = ?limits.keep_alive_timeout,
        backlog = limits.backlog,
        max_operations = settings.admission.map(|a| a.max_operations),
        "connection limits"
    );
    tracing::info!(%addr, "serving GraphQL at http://{addr}/graphql and GraphiQL at http://{addr}/");
    app.run_until(shutdown_signal()).await
}
